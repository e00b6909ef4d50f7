package io.sparkvision.jobs;

import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import io.sparkvision.ingest.MnistIdxIngest;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.model.Models;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

    static Model model(Path zip) throws IOException {
        return ModelFiles.load(HadoopFs.path(zip.toString()), new Configuration());
    }

    /** The optimiser's state (Adam's moments), as DL4J keeps it in one flat view. */
    static INDArray updaterState(Model m) {
        return m instanceof MultiLayerNetwork ? ((MultiLayerNetwork) m).getUpdater().getStateViewArray()
                : ((ComputationGraph) m).getUpdater().getStateViewArray();
    }

    /** The raw IEEE-754 bits of every float, so that equality means bit-identical (INDArray.equals allows 1e-5). */
    static int[] bits(INDArray a) {
        float[] f = a.dup('c').data().asFloat();
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) b[i] = Float.floatToRawIntBits(f[i]);
        return b;
    }

    /** Largest elementwise difference relative to the largest magnitude in {@code expected}. */
    static double relativeDiff(INDArray expected, INDArray actual) {
        double scale = expected.amaxNumber().doubleValue();
        assertTrue(scale > 0, "an all-zero state compares nothing");
        return expected.sub(actual).amaxNumber().doubleValue() / scale;
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> metrics(Path run) throws IOException {
        return Files.readAllLines(run.resolve("metrics.jsonl")).stream().map(l -> (Map<String, Object>) Json.read(l, Map.class)).toList();
    }

    static int intOf(Map<String, Object> m, String key) {
        return ((Number) m.get(key)).intValue();
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
            Files.write(resumed.resolve("checkpoints/epoch-0002.zip"), Arrays.copyOf(zip, zip.length / 3));
            Files.write(resumed.resolve("checkpoints/._tmp.epoch-0002.json.99"), new byte[] {'{'});
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            TrainJob.run(job(data, resumed, 3, true), sc, new PrintStream(log, true));

            assertTrue(log.toString().contains("resume: continuing after epoch 1"), log.toString());
            assertFalse(log.toString().contains("epoch 1/3"), "epoch 1 is not trained again");
            Model a = model(unbroken.resolve("model.zip")), b = model(resumed.resolve("model.zip"));
            // Bit for bit: parameters, Adam's moments and the counters Adam's bias correction reads.
            assertArrayEquals(bits(a.params()), bits(b.params()), "resumed parameters are not bit-identical to the unbroken run's");
            assertArrayEquals(bits(updaterState(a)), bits(updaterState(b)), "resumed Adam state is not bit-identical");
            assertEquals(Models.iterationCount(a), Models.iterationCount(b));
            assertEquals(3, Models.epochCount(b));
            assertEquals(3, Files.readAllLines(resumed.resolve("metrics.jsonl")).size());
        }
    }

    @Test
    void twoWorkerResumeContinuesFromTheCheckpoint(@TempDir Path work) throws IOException {
        try (JavaSparkContext sc = TestSpark.local(2)) {
            Path data = work.resolve("data");
            MnistIdxIngest.run(sc, TestSpark.mnistTiny(), data.toString(), 2, QUIET);
            Path unbroken = work.resolve("unbroken"), resumed = work.resolve("resumed");
            TrainJob.run(job(data, unbroken, 3, false), sc, QUIET);
            TrainJob.run(job(data, resumed, 3, false), sc, QUIET);
            stopAfter(resumed, 2);
            Model checkpoint = model(resumed.resolve("checkpoints/epoch-0002.zip"));
            int checkpointIterations = Models.iterationCount(checkpoint);
            List<Map<String, Object>> before = metrics(resumed);
            ByteArrayOutputStream logBuf = new ByteArrayOutputStream();
            TrainJob.run(job(data, resumed, 3, true), sc, new PrintStream(logBuf, true));
            String log = logBuf.toString();

            // It said it resumed, and trained only epoch 3: a silent retrain from scratch prints epochs 1 and 2.
            assertTrue(log.contains("resume: continuing after epoch 2 from"), log);
            assertFalse(log.contains("epoch 1/3") || log.contains("epoch 2/3"), log);
            assertTrue(log.contains("epoch 3/3"), log);
            // It started at the checkpoint's iteration: epoch 3 took as many iterations after it as in the unbroken run.
            List<Map<String, Object>> u = metrics(unbroken), r = metrics(resumed);
            assertEquals(List.of(1, 2, 3), r.stream().map(m -> intOf(m, "epoch")).toList());
            assertEquals(intOf(u.get(1), "iteration"), checkpointIterations, "the checkpoint holds epoch 2's iteration count");
            assertEquals(intOf(u.get(2), "iteration"), intOf(r.get(2), "iteration"));
            assertEquals(before.subList(0, 2), r.subList(0, 2), "epochs 1-2's metrics lines are kept, not rewritten");
            Model a = model(unbroken.resolve("model.zip")), b = model(resumed.resolve("model.zip"));
            assertEquals(Models.iterationCount(a), Models.iterationCount(b));
            assertEquals(3, Models.epochCount(b));
            // Averaging sums worker results in completion order, so float rounding may differ in the last bits; a
            // resume that reset Adam's moments (or the parameters) differs by orders of magnitude more.
            double params = relativeDiff(a.params(), b.params()), state = relativeDiff(updaterState(a), updaterState(b));
            assertTrue(params < 1e-4, "relative parameter difference " + params);
            assertTrue(state < 1e-3, "relative Adam state difference " + state);
        }
    }

    /**
     * As a user runs it: {@code scripts/sparkvision train JOB --resume} in its own JVM, the first driver killed with
     * SIGKILL once a checkpoint exists. Every epoch's metrics line appears once, in order; the final model loads.
     */
    @Test
    void cliResumeAfterKill9(@TempDir Path work) throws Exception {
        Path data = work.resolve("data"), run = work.resolve("run"), jobFile = work.resolve("job.conf");
        try (JavaSparkContext sc = TestSpark.local(2)) {
            MnistIdxIngest.run(sc, TestSpark.mnistTiny(), data.toString(), 2, QUIET);
        }
        int epochs = 5;
        Files.writeString(jobFile, String.join("\n", "spark.master = \"local[2]\"", "model.name = lenet5",
                "data.root = \"" + data + "\"", "output.dir = \"" + run + "\"",
                "train { epochs = " + epochs + ", batch-size-per-worker = 16 }", "checkpoint.keep-last = 10", ""));
        List<Process> started = new java.util.ArrayList<>();
        try {
            killThenResume(work, run, jobFile, epochs, started);
        } finally {
            for (Process p : started) p.destroyForcibly(); // never leave a driver behind when an assertion fails
        }
    }

    void killThenResume(Path work, Path run, Path jobFile, int epochs, List<Process> started) throws Exception {
        Process first = sparkvision(work.resolve("first.log"), "train", jobFile.toString());
        started.add(first);
        Path checkpoint = run.resolve("checkpoints/epoch-0001.json");
        long deadline = System.currentTimeMillis() + 600_000; // generous: a shared machine can be slow
        while (!Files.exists(checkpoint) && first.isAlive() && System.currentTimeMillis() < deadline) Thread.sleep(20);
        assertTrue(Files.exists(checkpoint), "no checkpoint appeared: " + Files.readString(work.resolve("first.log")));
        Process kill = new ProcessBuilder("kill", "-9", Long.toString(first.pid())).inheritIO().start();
        assertEquals(0, kill.waitFor());
        assertTrue(first.waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, first.exitValue(), "killed by SIGKILL");
        assertFalse(Files.exists(run.resolve("model.zip")), "the driver was killed before it finished");
        int done = metrics(run).size();
        assertTrue(done >= 1 && done < epochs, "killed mid-run, after epoch " + done);

        Process second = sparkvision(work.resolve("second.log"), "train", jobFile.toString(), "--resume");
        started.add(second);
        assertTrue(second.waitFor(10, TimeUnit.MINUTES), "resumed run did not finish");
        String log = Files.readString(work.resolve("second.log"));
        assertEquals(0, second.exitValue(), log);
        assertTrue(log.contains("resume: continuing after epoch"), "--resume did not resume:\n" + log);
        int from = Integer.parseInt(log.replaceAll("(?s).*resume: continuing after epoch (\\d+) from.*", "$1"));
        assertTrue(from >= 1 && from <= done, "resumed after epoch " + from + ", " + done + " were done\n" + log);
        for (int e = 1; e <= epochs; e++) assertEquals(e > from, log.contains("epoch " + e + "/" + epochs + " "), "epoch " + e + "\n" + log);

        List<Map<String, Object>> lines = metrics(run);
        assertEquals(java.util.stream.IntStream.rangeClosed(1, epochs).boxed().toList(),
                lines.stream().map(m -> intOf(m, "epoch")).toList(), "every epoch's metrics line once, in order");
        for (int i = 1; i < lines.size(); i++) {
            assertTrue(intOf(lines.get(i), "iteration") > intOf(lines.get(i - 1), "iteration"), lines.toString());
        }
        Model finalModel = model(run.resolve("model.zip"));
        assertEquals(epochs, Models.epochCount(finalModel));
        assertEquals(intOf(lines.get(epochs - 1), "iteration"), Models.iterationCount(finalModel));
        Map<?, ?> report = Json.read(Files.readString(run.resolve("report.json")), Map.class);
        assertTrue(((Number) report.get("top1Accuracy")).doubleValue() > 0.5, report.toString());
    }

    /** scripts/sparkvision against the build under test, with a heap that fits a shared machine. */
    static Process sparkvision(Path log, String... args) throws IOException {
        List<String> cmd = new java.util.ArrayList<>(List.of(TestSpark.basedir().resolve("scripts/sparkvision").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(TestSpark.basedir().toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("SPARKVISION_SKIP_BUILD", "1");
        pb.environment().put("SPARKVISION_JAVA_OPTS", "-Xmx1500m -Dorg.bytedeco.javacpp.maxbytes=2G -Dorg.bytedeco.javacpp.maxphysicalbytes=4G");
        return pb.start();
    }
}
