package io.sparkvision.jobs;

import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import io.sparkvision.data.MnistIdxIngest;
import io.sparkvision.util.SparkContexts;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The train job on local-cluster[2,1,...]: a Spark master, a worker and two executor JVMs, so parameters really
 * travel between processes (serialisation, broadcast, Kryo registrations, executor JVM flags).
 */
class LocalClusterTrainTest {
    @Test
    void trainsOnTwoExecutorJvms(@TempDir Path work) throws IOException {
        Path target = TestSpark.basedir().resolve("target");
        // The Worker launches executors from $SPARK_HOME (set by surefire) and needs a jars/ directory there;
        // the executors get the test classpath instead of a Spark distribution.
        Files.createDirectories(target.resolve("spark-home/jars"));
        String cp = target.resolve("classes") + ":" + target.resolve("test-classes") + ":"
                + Files.readString(Paths.get(System.getProperty("test.classpath.file"))).trim();
        SparkConf conf = new SparkConf().setMaster("local-cluster[2,1,1536]").setAppName("sparkvision-local-cluster-test")
                .set("spark.executor.extraClassPath", cp)
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.executor.extraJavaOptions", SparkContexts.EXECUTOR_FLAGS
                        + " -Dorg.bytedeco.javacpp.maxbytes=1G -Dorg.bytedeco.javacpp.maxphysicalbytes=3G")
                .set("spark.executorEnv.OMP_NUM_THREADS", "1");
        SparkContexts.applyDefaults(conf);
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            PrintStream out = new PrintStream(new ByteArrayOutputStream());
            Path data = work.resolve("data"), run = work.resolve("run");
            MnistIdxIngest.run(sc, TestSpark.mnistTiny(), data.toString(), 4, out);
            long deadline = System.currentTimeMillis() + 60_000;
            while (sc.sc().getExecutorIds().size() < 2 && System.currentTimeMillis() < deadline) sleep();
            assertEquals(2, sc.sc().getExecutorIds().size(), "two executor JVMs registered");

            JobConfig cfg = JobConfig.fromString(String.join("\n",
                    "data.root = \"" + data + "\"", "output.dir = \"" + run + "\"", "train.workers = 2",
                    "train { epochs = 2, batch-size-per-worker = 16, averaging-frequency = 4, learning-rate = 0.003 }"));
            Map<String, Object> report = TrainJob.run(cfg, sc, out);
            double top1 = (Double) report.get("top1Accuracy");
            assertTrue(top1 > 0.5, "top-1 after 2 epochs on two executors: " + top1);
            @SuppressWarnings("unchecked")
            Map<String, Object> prov = (Map<String, Object>) report.get("provenance");
            assertTrue(((String) prov.get("sparkMaster")).startsWith("local-cluster"));
            assertTrue(Files.exists(run.resolve("checkpoints/epoch-0002.zip")));
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(250);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
