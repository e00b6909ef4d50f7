package io.sparkvision.jobs;

import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import io.sparkvision.config.SparkContexts;
import io.sparkvision.ingest.MnistIdxIngest;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The train job on local-cluster[2,1,...]: a Spark master, a worker and two executor JVMs, so parameters really
 * travel between processes (serialisation, broadcast, Kryo registrations, executor JVM flags), gradient sharing
 * really builds its mesh, and an executor can really die.
 */
class LocalClusterTrainTest {
    @TempDir
    static Path work;
    static JavaSparkContext sc;
    static Path data;
    static final AtomicInteger executorsRemoved = new AtomicInteger();

    @BeforeAll
    static void startCluster() throws IOException {
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
        sc = new JavaSparkContext(conf);
        sc.sc().addSparkListener(new SparkListener() {
            @Override
            public void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
                executorsRemoved.incrementAndGet();
            }
        });
        data = work.resolve("data");
        MnistIdxIngest.run(sc, TestSpark.mnistTiny(), data.toString(), 4, new PrintStream(new ByteArrayOutputStream()));
        awaitExecutors(2);
    }

    @AfterAll
    static void stopCluster() {
        sc.stop();
    }

    static void awaitExecutors(int n) {
        long deadline = System.currentTimeMillis() + 90_000;
        while (sc.sc().getExecutorIds().size() < n && System.currentTimeMillis() < deadline) sleep(250);
        assertEquals(n, sc.sc().getExecutorIds().size(), n + " executor JVMs registered");
    }

    static JobConfig job(Path run, int epochs, String extra) {
        return JobConfig.fromString(String.join("\n",
                "data.root = \"" + data + "\"", "output.dir = \"" + run + "\"", "train.workers = 2",
                "train { epochs = " + epochs + ", batch-size-per-worker = 16, averaging-frequency = 4, learning-rate = 0.003 }",
                extra));
    }

    @Test
    void parameterAveragingSurvivesAKilledExecutor() throws Exception {
        Path run = work.resolve("pa");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        CompletableFuture<Map<String, Object>> training = CompletableFuture.supplyAsync(() -> {
            try {
                return TrainJob.run(job(run, 4, "checkpoint.keep-last = 10"), sc, new PrintStream(log, true));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        // Kill one executor JVM as soon as epoch 1 is checkpointed, i.e. while epoch 2 trains.
        Path firstCheckpoint = run.resolve("checkpoints/epoch-0001.json");
        long deadline = System.currentTimeMillis() + 120_000;
        while (!Files.exists(firstCheckpoint) && !training.isDone() && System.currentTimeMillis() < deadline) sleep(20);
        List<ProcessHandle> executors = ProcessHandle.current().descendants().filter(LocalClusterTrainTest::isExecutor).toList();
        assertEquals(2, executors.size(), "two executor processes under this JVM");
        assertFalse(training.isDone(), "training must still be running when the executor dies");
        int removedBefore = executorsRemoved.get();
        executors.get(0).destroyForcibly();

        Map<String, Object> report = training.get(300, TimeUnit.SECONDS);
        assertTrue(executorsRemoved.get() > removedBefore, "Spark noticed the lost executor");
        assertEquals(4, Files.readAllLines(run.resolve("metrics.jsonl")).size(), log.toString());
        double top1 = (Double) report.get("top1Accuracy");
        assertTrue(top1 > 0.6, "top-1 after losing an executor mid-run: " + top1);
        @SuppressWarnings("unchecked")
        Map<String, Object> prov = (Map<String, Object>) report.get("provenance");
        assertTrue(((String) prov.get("sparkMaster")).startsWith("local-cluster"));
        awaitExecutors(2); // the worker replaces it, for the next test
    }

    @Test
    void gradientSharingRefusesExecutorsThatShareAnAddress() {
        // DL4J's gradient-sharing mesh tells nodes apart by IP address: executors sharing one would each train
        // alone and silently return a useless model (measured: 8% top-1). The job must refuse before training.
        awaitExecutors(2);
        String m = assertThrows(IllegalArgumentException.class, () -> TrainJob.run(job(work.resolve("gs"), 1,
                "train.master = gradient-sharing"), sc, new PrintStream(new ByteArrayOutputStream()))).getMessage();
        assertTrue(m.contains("gradient sharing needs each executor on its own IP address, but 2 executors share"), m);
        assertFalse(Files.exists(work.resolve("gs/metrics.jsonl")));
    }

    static boolean isExecutor(ProcessHandle p) {
        try {
            return Files.readString(Paths.get("/proc/" + p.pid() + "/cmdline")).contains("CoarseGrainedExecutorBackend");
        } catch (IOException e) {
            return false; // already gone
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
