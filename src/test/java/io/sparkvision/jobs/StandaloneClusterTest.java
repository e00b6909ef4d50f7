package io.sparkvision.jobs;

import io.sparkvision.TestSpark;
import io.sparkvision.data.MnistIdxIngest;
import io.sparkvision.util.Json;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end as a user runs it: scripts/local-cluster starts a standalone master and two workers (separate JVMs,
 * separate loopback addresses), scripts/submit sends the train job through SparkSubmit with the application jar,
 * once with parameter averaging and once with gradient sharing, whose mesh really spans the two executors here.
 */
class StandaloneClusterTest {
    @TempDir
    static Path work;
    static Path data, appJar;
    static String master;
    static List<String> env;

    @BeforeAll
    static void startCluster() throws Exception {
        data = work.resolve("data");
        try (JavaSparkContext sc = TestSpark.local(2)) {
            MnistIdxIngest.run(sc, TestSpark.mnistTiny(), data.toString(), 2, new PrintStream(new ByteArrayOutputStream()));
        }
        appJar = work.resolve("sparkvision-app.jar");
        jar(TestSpark.basedir().resolve("target/classes"), appJar);
        int port = freePort(), ui = freePort();
        master = "spark://127.0.0.1:" + port;
        env = List.of("SPARKVISION_CLUSTER_DIR=" + work.resolve("cluster"), "SPARKVISION_MASTER_PORT=" + port,
                "SPARKVISION_MASTER_UI_PORT=" + ui, "SPARKVISION_WORKER_MEMORY=2g", "SPARKVISION_APP_JAR=" + appJar,
                "SPARKVISION_SKIP_BUILD=1");
        Result r = run(180, "scripts/local-cluster", "start", "2");
        assertEquals(0, r.code, r.output);
        assertTrue(r.output.contains("up with 2 workers"), r.output);
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (env != null) run(60, "scripts/local-cluster", "stop");
    }

    @Test
    void parameterAveragingThroughSparkSubmit() throws Exception {
        Path out = work.resolve("pa");
        Result r = run(420, "scripts/submit", "train", "jobs/mnist-lenet5.conf", "--master", master,
                "--set", "data.root=" + data, "--set", "output.dir=" + out, "--set", "train.epochs=2",
                "--set", "train.batch-size-per-worker=16");
        assertEquals(0, r.code, r.output);
        Map<?, ?> report = Json.read(Files.readString(out.resolve("report.json")), Map.class);
        assertTrue(((Number) report.get("top1Accuracy")).doubleValue() > 0.6, r.output);
        Map<?, ?> prov = (Map<?, ?>) report.get("provenance");
        assertEquals(master, prov.get("sparkMaster"));
        assertEquals(2, ((Number) prov.get("workers")).intValue());
    }

    @Test
    void gradientSharingMeshSpansTwoExecutors() throws Exception {
        Path out = work.resolve("gs");
        Result r = run(420, "scripts/submit", "train", "jobs/mnist-lenet5.conf", "--master", master,
                "--set", "data.root=" + data, "--set", "output.dir=" + out, "--set", "train.epochs=3",
                "--set", "train.batch-size-per-worker=16", "--set", "train.master=gradient-sharing",
                "--set", "train.gradient-sharing.controller-address=127.0.0.2");
        assertEquals(0, r.code, r.output);
        Map<?, ?> report = Json.read(Files.readString(out.resolve("report.json")), Map.class);
        // Measured: a mesh that does not form (executors on one address) returns an untrained model at ~10%.
        assertTrue(((Number) report.get("top1Accuracy")).doubleValue() > 0.6, r.output);
        assertEquals(3, Files.readAllLines(out.resolve("metrics.jsonl")).size());
    }

    record Result(int code, String output) {
    }

    static Result run(int seconds, String... cmd) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(cmd));
        command.set(0, TestSpark.basedir().resolve(cmd[0]).toString());
        ProcessBuilder pb = new ProcessBuilder(command).directory(TestSpark.basedir().toFile()).redirectErrorStream(true);
        for (String kv : env) pb.environment().put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        Path log = Files.createTempFile(work, "proc", ".log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, "timed out after " + seconds + " s: " + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log));
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static void jar(Path classes, Path jar) throws IOException {
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)); Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new java.util.jar.JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
    }
}
