package io.sparkvision.jobs;

import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import io.sparkvision.data.MnistIdxIngest;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.io.ModelFiles;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --resume continues a stopped run exactly: same epoch, optimiser state, learning rate and data order. */
class ResumeTest {
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    static JobConfig job(Path data, Path run, int epochs, boolean resume) {
        return JobConfig.fromString(String.join("\n",
                "data.root = \"" + data + "\"", "output.dir = \"" + run + "\"",
                "train { epochs = " + epochs + ", batch-size-per-worker = 16, averaging-frequency = 3, learning-rate = 0.003 }",
                "train.resume = " + (resume ? "latest" : "none"), "checkpoint.keep-last = 10"));
    }

    static INDArray params(Path run) throws IOException {
        Model m = ModelFiles.load(HadoopFs.path(run.resolve("model.zip").toString()), new Configuration());
        return m.params();
    }

    /** What a run stopped right after {@code epoch} leaves behind: the checkpoints up to it, no final model. */
    static void stopAfter(Path run, int epoch) throws IOException {
        Files.delete(run.resolve("model.zip"));
        Files.delete(run.resolve("model.json"));
        try (Stream<Path> files = Files.list(run.resolve("checkpoints"))) {
            for (Path p : files.toList()) {
                int e = Integer.parseInt(p.getFileName().toString().replaceAll("\\D", ""));
                if (e > epoch) Files.delete(p);
            }
        }
    }

    @Test
    void oneWorkerResumeIsBitIdentical(@TempDir Path work) throws IOException {
        try (JavaSparkContext sc = TestSpark.local(1)) {
            Path data = work.resolve("data");
            MnistIdxIngest.run(sc, TestSpark.mnistTiny(), data.toString(), 2, QUIET);
            Path unbroken = work.resolve("unbroken"), resumed = work.resolve("resumed");
            TrainJob.run(job(data, unbroken, 3, false), sc, QUIET);

            TrainJob.run(job(data, resumed, 3, false), sc, QUIET);
            stopAfter(resumed, 1);
            // The stopped run was writing epoch 2's checkpoint: a truncated zip without its commit marker, and a
            // temporary file. Resume must ignore both and continue from epoch 1.
            byte[] zip = Files.readAllBytes(resumed.resolve("checkpoints/epoch-0001.zip"));
            Files.write(resumed.resolve("checkpoints/epoch-0002.zip"), java.util.Arrays.copyOf(zip, zip.length / 3));
            Files.write(resumed.resolve("checkpoints/._tmp.epoch-0002.json.99"), new byte[] {'{'});
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            TrainJob.run(job(data, resumed, 3, true), sc, new PrintStream(log, true));

            assertTrue(log.toString().contains("resume: continuing after epoch 1"), log.toString());
            assertFalse(log.toString().contains("epoch 1/3"), "epoch 1 is not trained again");
            assertEquals(params(unbroken), params(resumed), "resumed parameters differ from the unbroken run's");
            assertEquals(3, Files.readAllLines(resumed.resolve("metrics.jsonl")).size());
        }
    }

    @Test
    void twoWorkerResumeMatchesWithinFloatTolerance(@TempDir Path work) throws IOException {
        try (JavaSparkContext sc = TestSpark.local(2)) {
            Path data = work.resolve("data");
            MnistIdxIngest.run(sc, TestSpark.mnistTiny(), data.toString(), 2, QUIET);
            Path unbroken = work.resolve("unbroken"), resumed = work.resolve("resumed");
            TrainJob.run(job(data, unbroken, 3, false), sc, QUIET);
            TrainJob.run(job(data, resumed, 3, false), sc, QUIET);
            stopAfter(resumed, 2);
            TrainJob.run(job(data, resumed, 3, true), sc, QUIET);
            // Averaging sums worker results in completion order, so float rounding may differ in the last bits.
            double diff = params(unbroken).sub(params(resumed)).amaxNumber().doubleValue();
            assertTrue(diff < 1e-4, "max parameter difference " + diff);
        }
    }

    @Test
    void aKilledDriverIsFinishedByResume(@TempDir Path work) throws Exception {
        Path data = work.resolve("data"), run = work.resolve("run");
        try (JavaSparkContext sc = TestSpark.local(2)) {
            MnistIdxIngest.run(sc, TestSpark.mnistTiny(), data.toString(), 2, QUIET);
        }
        // The train job in its own JVM, as scripts/sparkvision runs it; killed once its first checkpoint is complete.
        Path target = TestSpark.basedir().resolve("target");
        String cp = target.resolve("classes") + File.pathSeparator
                + Files.readString(Paths.get(System.getProperty("test.classpath.file"))).trim();
        List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens") || a.startsWith("-D") || a.startsWith("-XX")).toList());
        cmd.addAll(List.of("-Xmx2g", "-cp", cp, "io.sparkvision.cli.Main", "train",
                "--set", "data.root=" + data, "--set", "output.dir=" + run, "--set", "spark.master=local[2]",
                "--set", "train.epochs=8", "--set", "train.batch-size-per-worker=16", "--set", "checkpoint.keep-last=10"));
        Process driver = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(work.resolve("driver.log").toFile()).start();
        Path firstCheckpoint = run.resolve("checkpoints/epoch-0001.json");
        long deadline = System.currentTimeMillis() + 120_000;
        while (!Files.exists(firstCheckpoint) && driver.isAlive() && System.currentTimeMillis() < deadline) Thread.sleep(50);
        assertTrue(Files.exists(firstCheckpoint), "first checkpoint never appeared: " + Files.readString(work.resolve("driver.log")));
        driver.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        assertFalse(Files.exists(run.resolve("model.zip")), "the driver was killed before it finished");

        try (JavaSparkContext sc = TestSpark.local(2)) {
            JobConfig resume = JobConfig.fromString(String.join("\n", "data.root = \"" + data + "\"", "output.dir = \"" + run + "\"",
                    "train { epochs = 8, batch-size-per-worker = 16, resume = latest }", "checkpoint.keep-last = 10"));
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            TrainJob.run(resume, sc, new PrintStream(log, true));
            assertTrue(log.toString().contains("resume: continuing after epoch"), log.toString());
        }
        List<String> metrics = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertEquals(8, metrics.size());
        for (int e = 1; e <= 8; e++) assertTrue(metrics.get(e - 1).startsWith("{\"epoch\":" + e + ","), metrics.get(e - 1));
        assertTrue(Files.exists(run.resolve("model.zip")));
    }
}
