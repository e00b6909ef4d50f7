package io.sparkvision.jobs;

import io.sparkvision.Bits;
import io.sparkvision.Schemas;
import io.sparkvision.TestSpark;
import io.sparkvision.config.ConfigError;
import io.sparkvision.config.JobConfig;
import io.sparkvision.ingest.MnistIdxIngest;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.model.Transfer;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Adam;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fine-tuning from the train job on Spark local[2]: LeNet-5 trained on MNIST (10 digits) is fine-tuned on grey 28x28
 * emoji (3 other classes) with a new head, c1..c3 frozen and the backbone at a tenth of the head's rate.
 */
class FineTuneJobTest {
    @TempDir
    static Path work;
    static JavaSparkContext sc;
    static Path emoji, base, tuned;
    static Map<String, Object> report;
    static String log;

    @BeforeAll
    static void trainThenFineTune() throws IOException {
        sc = TestSpark.local(2);
        Path digits = work.resolve("digits");
        emoji = work.resolve("emoji");
        base = work.resolve("base");
        tuned = work.resolve("tuned");
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true);
        MnistIdxIngest.run(sc, TestSpark.mnistTiny(), digits.toString(), 4, quiet);
        TrainJob.run(JobConfig.fromString(String.join("\n", "data.root = \"" + digits + "\"", "output.dir = \"" + base + "\"",
                "train { epochs = 1, batch-size-per-worker = 16, averaging-frequency = 4, learning-rate = 0.003 }")), sc, quiet);
        IngestJob.run(JobConfig.fromString(String.join("\n",
                "ingest { source = \"" + TestSpark.basedir().resolve("src/test/resources/emoji-tiny")
                        + "\", format = image-folder, image-size = 28, channels = 1 }",
                "data.root = \"" + emoji + "\"")), sc, quiet);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        report = TrainJob.run(fineTuneJob(tuned, ""), sc, new PrintStream(buf, true));
        log = buf.toString();
    }

    static JobConfig fineTuneJob(Path out, String extra) {
        return JobConfig.fromString(String.join("\n", "data { root = \"" + emoji + "\", test-split = val }",
                "output.dir = \"" + out + "\"",
                "train { epochs = 1, batch-size-per-worker = 8, averaging-frequency = 1, learning-rate = 0.003 }",
                "train.init-model = \"" + base.resolve("model.zip") + "\"",
                "train.fine-tune { replace-head = true, freeze-up-to = c3, backbone-learning-rate = 3e-4 }", extra));
    }

    static MultiLayerNetwork load(Path run) throws IOException {
        return (MultiLayerNetwork) ModelFiles.load(HadoopFs.path(run.resolve("model.zip").toString()), sc.hadoopConfiguration());
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    @Test
    void frozenLayersAreBitIdenticalAndTheRestTrained() throws IOException {
        MultiLayerNetwork before = load(base), after = load(tuned);
        // LeNet-5: c1 s2 c3 s4 f5 f6 output; freeze-up-to = c3 freezes c1, s2 and c3
        for (int i : new int[] {0, 2}) {
            Bits.assertIdentical(before.getLayer(i).params(), after.getLayer(i).params(), "frozen layer " + i);
            assertInstanceOf(FrozenLayer.class, after.getLayer(i), "layer " + i + " saved and loaded as frozen");
        }
        for (int i : new int[] {4, 5}) {
            assertFalse(after.getLayer(i) instanceof FrozenLayer);
            assertNotEquals(before.getLayer(i).params(), after.getLayer(i).params(), "backbone layer " + i + " trained");
        }
        assertEquals(3, after.getOutputLayer().getParam("b").length(), "the head predicts the dataset's 3 classes");
        // The new head as it was before training: the same seed draws the same weights (checked by drawing twice).
        INDArray initial = freshHead(), again = freshHead();
        Bits.assertIdentical(initial, again, "the new head's weights are drawn from train.seed");
        assertNotEquals(initial, after.getOutputLayer().params(), "the head trained");
    }

    private static INDArray freshHead() throws IOException {
        MultiLayerNetwork m = (MultiLayerNetwork) Transfer.fineTune(load(base), 3, "c3", new Adam(0.003), 3e-4, 42);
        return m.getOutputLayer().params().dup();
    }

    @Test
    void theBackboneKeepsItsOwnRateThroughTheSchedule() throws IOException {
        MultiLayerNetwork after = load(tuned);
        double head = ((BaseLayer) after.getLayer(6).conf().getLayer()).getIUpdater().getLearningRate(0, 0);
        double f5 = ((BaseLayer) after.getLayer(4).conf().getLayer()).getIUpdater().getLearningRate(0, 0);
        assertEquals(0.003, head, 1e-12);
        assertEquals(3e-4, f5, 1e-12, "backbone rate after the per-epoch rate was set");
    }

    @Test
    void theJobPrintsAndRecordsWhatWasFrozen() throws IOException {
        assertTrue(log.contains("fine-tune: head output replaced for 3 classes; frozen: c1, s2, c3 (2,572 parameters); "
                + "backbone learning rate 3.0E-4"), log);
        @SuppressWarnings("unchecked")
        Map<String, Object> ft = (Map<String, Object>) ((Map<String, Object>) report.get("provenance")).get("fineTune");
        assertEquals("output", ft.get("replacedHead"));
        assertEquals(List.of("c1", "s2", "c3"), ft.get("frozen"));
        assertEquals(2572, ((Number) ft.get("frozenParameters")).intValue());
        assertEquals(3, ((Number) ft.get("classes")).intValue());
        Schemas.assertValid("report.schema.json", Schemas.read(tuned.resolve("report.json")), "report.json");
        Schemas.assertValid("model-metadata.schema.json", Schemas.read(tuned.resolve("model.json")), "model.json");
        assertTrue(Files.readString(tuned.resolve("model.json")).contains("\"frozen\" : [ \"c1\", \"s2\", \"c3\" ]")
                || Files.readString(tuned.resolve("model.json")).replaceAll("\\s", "").contains("\"frozen\":[\"c1\",\"s2\",\"c3\"]"));
    }

    @Test
    void theFineTunedModelEvaluatesAndScoresWithTheExistingJobs() throws IOException {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true);
        ByteArrayOutputStream evalLog = new ByteArrayOutputStream();
        Map<String, Object> eval = EvaluateJob.run(JobConfig.fromString(String.join("\n",
                "model.path = \"" + tuned.resolve("model.zip") + "\"", "data { root = \"" + emoji + "\", test-split = val }",
                "output.dir = \"" + work.resolve("eval") + "\"")), sc, new PrintStream(evalLog, true));
        assertTrue(evalLog.toString().contains("fine-tune: head output replaced for 3 classes; frozen: c1, s2, c3 (2,572 parameters)"),
                evalLog.toString());
        assertTrue(Files.readString(work.resolve("eval/report.json")).contains("\"fineTune\""), "the evaluate report carries the model's provenance");
        Schemas.assertValid("report.schema.json", Schemas.read(work.resolve("eval/report.json")), "evaluate report.json");
        assertEquals(report.get("top1Accuracy"), eval.get("top1Accuracy"));
        assertEquals(List.of("animal", "fruit", "vehicle"), eval.get("classes"));
        long rows = ScoreJob.run(JobConfig.fromString(String.join("\n", "model.path = \"" + tuned.resolve("model.zip") + "\"",
                "score.input = \"" + TestSpark.basedir().resolve("src/test/resources/emoji-tiny/val") + "\"",
                "score.output = \"" + work.resolve("scores") + "\"")), sc, quiet);
        assertEquals(6, rows);
    }

    /** Gradient sharing gives the workers the whole schedule up front: each layer's is scaled to its own rate. */
    @Test
    void gradientSharingFineTunesWithTheSameFreezingAndRates() throws IOException {
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        Path gs = work.resolve("gs");
        TrainJob.run(fineTuneJob(gs, "train { epochs = 2, master = gradient-sharing, gradient-sharing.port = " + port + " }"),
                sc, new PrintStream(new ByteArrayOutputStream(), true));
        MultiLayerNetwork before = load(base), after = load(gs);
        Bits.assertIdentical(before.getLayer(2).params(), after.getLayer(2).params(), "c3 frozen under gradient sharing");
        assertNotEquals(before.getLayer(5).params(), after.getLayer(5).params(), "f6 trained under gradient sharing");
        org.nd4j.linalg.learning.config.IUpdater head = ((BaseLayer) after.getLayer(6).conf().getLayer()).getIUpdater();
        org.nd4j.linalg.learning.config.IUpdater f6 = ((BaseLayer) after.getLayer(5).conf().getLayer()).getIUpdater();
        for (int iteration : new int[] {0, 2}) {
            assertEquals(0.1, f6.getLearningRate(iteration, 0) / head.getLearningRate(iteration, 0), 1e-9,
                    "backbone at a tenth of the head's rate at iteration " + iteration);
        }
    }

    @Test
    void theExampleJobFileIsValid() {
        JobConfig cfg = JobConfig.load(TestSpark.basedir().resolve("jobs/fine-tune.conf").toFile(), List.of());
        TrainJob.validate(cfg);
        assertTrue(FineTuneKeys.any(cfg));
        assertEquals(1e-4, FineTuneKeys.backboneRate(cfg), 1e-15);
    }

    @Test
    void badFineTuneKeysFailFastNamingTheKey() {
        Exception unknown = assertThrows(ConfigError.class, () -> TrainJob.run(fineTuneJob(work.resolve("bad1"),
                "train.fine-tune.freeze-up-to = conv9"), sc, new PrintStream(new ByteArrayOutputStream())));
        assertTrue(unknown.getMessage().contains("train.fine-tune.freeze-up-to = conv9")
                && unknown.getMessage().contains("[c1, s2, c3, s4, f5, f6, output]"), unknown.getMessage());
        Exception zero = assertThrows(ConfigError.class, () -> TrainJob.validate(fineTuneJob(work.resolve("bad2"),
                "train.fine-tune.backbone-learning-rate = 0")));
        assertTrue(zero.getMessage().contains("train.fine-tune.backbone-learning-rate") && zero.getMessage().contains("freeze-up-to"),
                zero.getMessage());
        Exception head = assertThrows(IllegalArgumentException.class, () -> TrainJob.run(fineTuneJob(work.resolve("bad3"),
                "train.fine-tune.replace-head = false"), sc, new PrintStream(new ByteArrayOutputStream())));
        assertTrue(head.getMessage().contains("train.fine-tune.replace-head = true"), head.getMessage());
        Exception noModel = assertThrows(ConfigError.class, () -> TrainJob.validate(JobConfig.fromString(String.join("\n",
                "data.root = x", "output.dir = y", "train.fine-tune.replace-head = true"))));
        assertTrue(noModel.getMessage().contains("train.init-model"), noModel.getMessage());
    }
}
