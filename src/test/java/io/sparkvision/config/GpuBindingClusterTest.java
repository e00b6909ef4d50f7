package io.sparkvision.config;

import io.sparkvision.TestSpark;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Spark's own GPU scheduling on local-cluster[2,1,...]: each worker owns one fake GPU (its discovery script claims
 * "0" or "1"), each executor gets its worker's GPU, one task per GPU. Shows the address Spark assigned reaches the
 * binding call in each executor JVM, and that on this machine's CPU backend a task with a GPU fails at once, naming
 * the -Pcuda build.
 */
class GpuBindingClusterTest {
    @TempDir
    static Path work;
    static JavaSparkContext sc;

    @BeforeAll
    static void startCluster() throws IOException {
        Path target = TestSpark.basedir().resolve("target");
        Files.createDirectories(target.resolve("spark-home/jars"));
        String cp = target.resolve("classes") + ":" + target.resolve("test-classes") + ":"
                + Files.readString(Paths.get(System.getProperty("test.classpath.file"))).trim();
        // Both workers of a local-cluster share one conf, so one script: the first worker to run it claims "0",
        // the next "1" (mkdir is atomic), as two hosts with one GPU each would report.
        Path script = work.resolve("fake-gpus.sh");
        Files.writeString(script, "#!/bin/sh\ni=0\nwhile ! mkdir \"" + work + "/claimed-$i\" 2>/dev/null; do i=$((i+1)); done\n"
                + "echo \"{\\\"name\\\": \\\"gpu\\\", \\\"addresses\\\": [\\\"$i\\\"]}\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        SparkConf conf = new SparkConf().setMaster("local-cluster[2,1,1024]").setAppName("sparkvision-gpu-binding-test")
                .set("spark.executor.extraClassPath", cp)
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.executor.extraJavaOptions", SparkContexts.EXECUTOR_FLAGS)
                .set("spark.worker.resource.gpu.amount", "1")
                .set("spark.worker.resource.gpu.discoveryScript", script.toString())
                .set("spark.executor.resource.gpu.amount", "1")
                .set("spark.task.resource.gpu.amount", "1");
        SparkContexts.applyDefaults(conf);
        sc = new JavaSparkContext(conf);
        long deadline = System.currentTimeMillis() + 90_000;
        while (sc.sc().getExecutorIds().size() < 2 && System.currentTimeMillis() < deadline) sleep(250);
        assertEquals(2, sc.sc().getExecutorIds().size(), "2 executor JVMs registered");
    }

    @AfterAll
    static void stopCluster() {
        if (sc != null) sc.stop();
    }

    /** The CUDA backend as the binding step sees it, recording the device instead of setting it (no GPU here). */
    static final class RecordingCuda implements GpuBinding.Backend {
        int used = -1;

        @Override
        public boolean cuda() {
            return true;
        }

        @Override
        public void useDevice(int device) {
            used = device;
        }
    }

    @Test
    void eachExecutorBindsTheGpuSparkAssignedIt() {
        // Enough short tasks that both executors run some; each reports what it was assigned and what was bound.
        List<String> seen = sc.parallelize(IntStream.range(0, 8).boxed().toList(), 8).map(i -> {
            RecordingCuda cuda = new RecordingCuda();
            int bound = GpuBinding.bindThisTask(cuda);
            String assigned = String.join(",", org.apache.spark.TaskContext.get().resourcesJMap().get("gpu").addresses());
            sleep(300);
            return SparkEnv.get().executorId() + " " + assigned + " " + bound + " " + cuda.used;
        }).collect();
        Map<String, Set<String>> assignedByExecutor = seen.stream().map(s -> s.split(" "))
                .collect(Collectors.groupingBy(f -> f[0], Collectors.mapping(f -> f[1], Collectors.toCollection(TreeSet::new))));
        assertEquals(2, assignedByExecutor.size(), "tasks ran on both executors: " + seen);
        assertEquals(Set.of("0", "1"), assignedByExecutor.values().stream().flatMap(Set::stream).collect(Collectors.toSet()),
                "each executor owns its own fake GPU: " + seen);
        assignedByExecutor.values().forEach(a -> assertEquals(1, a.size(), "one GPU per executor: " + seen));
        for (String s : seen) {
            String[] f = s.split(" ");
            assertEquals(f[1], f[2], "the task bound the GPU Spark assigned it: " + s);
            // The device call is made once per task thread; a thread already bound to that GPU skips it.
            assertTrue(f[3].equals(f[1]) || f[3].equals("-1"), "ND4J was told the assigned GPU, or nothing: " + s);
        }
        assertTrue(seen.stream().anyMatch(s -> s.startsWith(executorOf(seen, "0")) && s.endsWith(" 0")), seen.toString());
        assertTrue(seen.stream().anyMatch(s -> s.startsWith(executorOf(seen, "1")) && s.endsWith(" 1")), seen.toString());
        // Each executor logs its binding once, in its own log (the worker keeps executors' stderr under SPARK_HOME/work).
        for (String gpu : List.of("0", "1")) {
            String executor = executorOf(seen, gpu).trim();
            Path stderr = Paths.get(System.getenv("SPARK_HOME"), "work", sc.sc().applicationId(), executor, "stderr");
            long lines = readLines(stderr).stream().filter(l -> l.contains("task bound to GPU")).count();
            assertEquals(1, lines, "one binding line in " + stderr);
            assertTrue(readLines(stderr).stream().anyMatch(l -> l.endsWith("GpuBinding: executor " + executor
                    + ": task bound to GPU " + gpu + " (assigned by Spark)")), "the binding line in " + stderr);
        }
    }

    private static List<String> readLines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aTaskWithAGpuFailsAtOnceOnTheCpuBackend() {
        // The production path on this machine: ND4J's CPU backend, GPUs assigned by Spark.
        SparkException e = assertThrows(SparkException.class,
                () -> GpuBinding.bindTasks(sc.parallelize(List.of(1, 2), 2)).count());
        assertTrue(e.getMessage().contains("to this task but ND4J's CPU backend is loaded: submit the app jar built with -Pcuda"),
                e.getMessage());
        assertTrue(e.getMessage().matches("(?s).*Spark assigned GPU [01] to this task.*"), e.getMessage());
    }

    @Test
    void theTrainJobFailsAtOnceOnTheCpuBackendWithGpusAssigned() throws Exception {
        // The train job's own executor-side entry point, not the binding step called by hand.
        Path data = work.resolve("mnist");
        io.sparkvision.ingest.MnistIdxIngest.run(sc, TestSpark.mnistTiny(), data.toString(), 2,
                new java.io.PrintStream(new java.io.ByteArrayOutputStream()));
        Path run = work.resolve("run");
        JobConfig job = JobConfig.fromString(String.join("\n", "data.root = \"" + data + "\"",
                "output.dir = \"" + run + "\"", "train.workers = 2", "train { epochs = 1, batch-size-per-worker = 16 }"));
        Exception e = assertThrows(Exception.class, () -> io.sparkvision.jobs.TrainJob.run(job, sc,
                new java.io.PrintStream(new java.io.ByteArrayOutputStream())));
        String chain = java.util.stream.Stream.iterate((Throwable) e, t -> t != null, Throwable::getCause)
                .map(String::valueOf).collect(Collectors.joining(" <- "));
        assertTrue(chain.contains("to this task but ND4J's CPU backend is loaded: submit the app jar built with -Pcuda"), chain);
        assertTrue(!Files.exists(run.resolve("metrics.jsonl")), "no epoch trained");
    }

    private static String executorOf(List<String> seen, String gpu) {
        return seen.stream().map(s -> s.split(" ")).filter(f -> f[1].equals(gpu)).findFirst().orElseThrow()[0] + " ";
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
