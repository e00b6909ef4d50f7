package io.sparkvision.ingest;

import com.amazonaws.auth.AWSStaticCredentialsProvider;
import com.amazonaws.auth.BasicAWSCredentials;
import com.amazonaws.client.builder.AwsClientBuilder;
import com.amazonaws.services.s3.AmazonS3;
import com.amazonaws.services.s3.AmazonS3ClientBuilder;
import com.amazonaws.services.s3.model.ObjectMetadata;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The three stores the ingest runs against, each a real server on 127.0.0.1: the local file system, HDFS
 * (MiniDFSCluster in this JVM) and S3 (s3proxy in a child JVM, its own fat jar kept off the test classpath).
 */
public final class Stores {
    public static final String S3_ACCESS = "sparkvision-test-access";
    public static final String S3_SECRET = "sv-secret-4f1c9b7e-never-print-me";

    public interface Store extends AutoCloseable {
        String root();

        void put(String rel, byte[] bytes) throws IOException;

        /** Hadoop settings the Spark context needs to reach the store. */
        void configure(Configuration conf);

        @Override
        default void close() {
        }
    }

    public static Store local(File dir) {
        return new Store() {
            public String root() {
                return dir.toURI().toString().replaceAll("/$", "");
            }

            public void put(String rel, byte[] bytes) throws IOException {
                java.nio.file.Path p = dir.toPath().resolve(rel);
                Files.createDirectories(p.getParent());
                Files.write(p, bytes);
            }

            public void configure(Configuration conf) {
            }
        };
    }

    public static Store hdfs(File baseDir) throws IOException {
        Configuration conf = new Configuration();
        smallFileSettings(conf);
        conf.set("dfs.namenode.http-address", "127.0.0.1:0");
        conf.set("dfs.datanode.address", "127.0.0.1:0");
        conf.set("dfs.datanode.http.address", "127.0.0.1:0");
        conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, baseDir).numDataNodes(1).build();
        cluster.waitActive();
        FileSystem fs = cluster.getFileSystem();
        String root = cluster.getURI().toString() + "/data";
        return new Store() {
            public String root() {
                return root;
            }

            public void put(String rel, byte[] bytes) throws IOException {
                try (FSDataOutputStream out = fs.create(new Path(root + "/" + rel), true)) {
                    out.write(bytes);
                }
            }

            public void configure(Configuration c) {
                smallFileSettings(c);
            }

            public void close() {
                cluster.shutdown(true);
            }
        };
    }

    /** Without these every small file's close waits for block reports (seconds per file). */
    static void smallFileSettings(Configuration conf) {
        conf.setInt("dfs.namenode.file.close.num-committed-allowed", 1);
        conf.setInt("dfs.client.block.write.locateFollowingBlock.initial.delay.ms", 20);
        conf.setInt("dfs.replication", 1);
    }

    public static Store s3(File baseDir) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        File props = new File(baseDir, "s3proxy.properties");
        File blobs = new File(baseDir, "blobs");
        Files.createDirectories(blobs.toPath());
        Files.writeString(props.toPath(), String.join("\n",
                "s3proxy.endpoint=http://127.0.0.1:" + port,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + S3_ACCESS,
                "s3proxy.credential=" + S3_SECRET,
                "jclouds.provider=filesystem-nio2",
                "jclouds.filesystem.basedir=" + blobs.getAbsolutePath(), ""));
        String jar = System.getProperty("s3proxy.jar", "target/s3proxy/s3proxy.jar");
        List<String> cmd = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/java", "-Xmx256m",
                "-jar", jar, "--properties", props.getAbsolutePath()));
        Process proc = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(new File(baseDir, "s3proxy.log")).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                break;
            } catch (IOException e) {
                if (!proc.isAlive() || System.nanoTime() > deadline) {
                    proc.destroyForcibly();
                    throw new IOException("s3proxy did not start; see " + new File(baseDir, "s3proxy.log"));
                }
                Thread.sleep(100);
            }
        }
        AmazonS3 s3 = AmazonS3ClientBuilder.standard()
                .withEndpointConfiguration(new AwsClientBuilder.EndpointConfiguration("http://127.0.0.1:" + port, "us-east-1"))
                .withPathStyleAccessEnabled(true)
                .withCredentials(new AWSStaticCredentialsProvider(new BasicAWSCredentials(S3_ACCESS, S3_SECRET)))
                .build();
        // A bucket per server: Hadoop caches one S3A client per bucket for the JVM, and a client of an earlier test's
        // (stopped) server must never be handed to this one.
        String bucket = "images-" + port;
        s3.createBucket(bucket);
        return new Store() {
            public String root() {
                return "s3a://" + bucket + "/data";
            }

            public void put(String rel, byte[] bytes) {
                ObjectMetadata md = new ObjectMetadata();
                md.setContentLength(bytes.length);
                s3.putObject(bucket, "data/" + rel, new ByteArrayInputStream(bytes), md);
            }

            public void configure(Configuration c) {
                c.set("fs.s3a.endpoint", "http://127.0.0.1:" + port);
                c.set("fs.s3a.path.style.access", "true");
                c.set("fs.s3a.connection.ssl.enabled", "false");
                c.set("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
                c.set("fs.s3a.access.key", S3_ACCESS);
                c.set("fs.s3a.secret.key", S3_SECRET);
                c.set("fs.s3a.attempts.maximum", "2");
                c.set("fs.s3a.retry.limit", "2");
            }

            public void close() {
                s3.shutdown();
                proc.destroy();
                try {
                    if (!proc.waitFor(10, TimeUnit.SECONDS)) proc.destroyForcibly();
                } catch (InterruptedException e) {
                    proc.destroyForcibly();
                }
            }
        };
    }
}
