package io.sparkvision.jobs;

import io.sparkvision.Bits;
import io.sparkvision.TestSpark;
import io.sparkvision.config.ConfigError;
import io.sparkvision.config.JobConfig;
import io.sparkvision.image.InputShape;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.Architectures;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.model.onnx.OnnxImportTorch;
import io.sparkvision.model.onnx.OnnxImporter;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.learning.config.Adam;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fine-tuning torchvision weights through the train job on Spark local[2]: a seeded torchvision ResNet-18 exported to
 * ONNX (as docs/onnx-import.md asks) is train.init-model; the job imports it into the zoo's resnet18 for 32x32 RGB emoji
 * (3 classes), replaces the 1000-class head, freezes everything up to layer3 and trains one epoch.
 */
class OnnxImportFineTuneJobTest {
    @TempDir
    static Path work;
    static JavaSparkContext sc;
    static Path emoji, onnx, tuned;
    static String log;

    @BeforeAll
    static void exportThenFineTune() throws Exception {
        OnnxImportTorch.python();
        onnx = OnnxImportTorch.export(work, "resnet18", 32, "preserve").onnx();
        sc = TestSpark.local(2);
        emoji = work.resolve("emoji");
        tuned = work.resolve("tuned");
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true);
        IngestJob.run(JobConfig.fromString(String.join("\n",
                "ingest { source = \"" + TestSpark.basedir().resolve("src/test/resources/emoji-tiny")
                        + "\", format = image-folder, image-size = 32, channels = 3 }",
                "data.root = \"" + emoji + "\"")), sc, quiet);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        TrainJob.run(job(tuned, "resnet18", "train.fine-tune { replace-head = true, freeze-up-to = layer3.1.relu }"), sc,
                new PrintStream(buf, true));
        log = buf.toString();
        System.out.print(log); // the job's own lines (timings) in the test's output file
    }

    static JobConfig job(Path out, String model, String extra) {
        return JobConfig.fromString(String.join("\n", "data { root = \"" + emoji + "\", test-split = val }",
                "model.name = " + model, "output.dir = \"" + out + "\"",
                "train { epochs = 1, batch-size-per-worker = 8, averaging-frequency = 1, learning-rate = 0.003 }",
                "train.init-model = \"" + onnx + "\"", extra));
    }

    @AfterAll
    static void stop() {
        if (sc != null) sc.stop();
    }

    /** The network the job started from: the file imported for the same input. */
    static ComputationGraph imported() throws IOException {
        return (ComputationGraph) OnnxImporter.load(Architectures.get("resnet18"), new InputShape(3, 32, 32),
                HadoopFs.path(onnx.toString()), sc.hadoopConfiguration(), 42, new Adam(0.003), 0);
    }

    @Test
    void frozenLayersKeepTorchsWeightsAndTheRestTrained() throws IOException {
        ComputationGraph before = imported();
        ComputationGraph after = (ComputationGraph) ModelFiles.load(HadoopFs.path(tuned.resolve("model.zip").toString()),
                sc.hadoopConfiguration());
        for (String frozen : new String[] {"conv1.conv", "conv1.bn", "layer2.0.downsample.conv", "layer3.1.2.conv", "layer3.1.2.bn"}) {
            Bits.assertIdentical(before.getLayer(frozen).params(), after.getLayer(frozen).params(), "frozen " + frozen);
            assertInstanceOf(FrozenLayer.class, after.getLayer(frozen), frozen + " saved and loaded as frozen");
        }
        for (String trained : new String[] {"layer4.0.1.conv", "layer4.1.2.bn"}) {
            assertFalse(after.getLayer(trained) instanceof FrozenLayer, trained);
            assertNotEquals(before.getLayer(trained).params(), after.getLayer(trained).params(), trained + " trained");
        }
        assertArrayEquals(new long[] {512, 3}, after.getLayer("fc").getParam("W").shape(), "the new head: 512 features, 3 classes");
    }

    @Test
    void theJobSaysWhatItImportedAndFroze() {
        assertTrue(log.contains("imported " + onnx + " into resnet18 (11,689,512 parameters)")
                || log.matches("(?s).*imported .*resnet18\\.onnx into resnet18 \\([0-9,]+ parameters\\).*"), log);
        assertTrue(log.contains("fine-tune: head fc replaced for 3 classes; frozen: conv1.conv, conv1.bn"), log);
    }

    @Test
    void keepingTorchsThousandClassHeadNeedsReplaceHead() {
        Exception e = assertThrows(Exception.class, () -> TrainJob.run(job(work.resolve("no-head"), "resnet18", ""), sc,
                new PrintStream(new ByteArrayOutputStream(), true)));
        assertTrue(e.getMessage().contains("the model has 1000 outputs but this job has 3 classes")
                && e.getMessage().contains("train.fine-tune.replace-head = true"), e.getMessage());
    }

    @Test
    void anotherArchitectureNamesTheInitModelAndTheFirstMissingTensor() {
        ConfigError e = assertThrows(ConfigError.class, () -> TrainJob.run(job(work.resolve("r34"), "resnet34",
                "train.fine-tune.replace-head = true"), sc, new PrintStream(new ByteArrayOutputStream(), true)));
        assertTrue(e.getMessage().contains("train.init-model = ") && e.getMessage().contains("model.name = resnet34")
                && e.getMessage().contains("has no tensor layer1.2.conv1.weight"), e.getMessage());
        assertEquals(ConfigError.class, e.getClass());
    }
}
