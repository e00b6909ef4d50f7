package io.sparkvision.train;

import io.sparkvision.Bits;
import io.sparkvision.config.Choices.Metric;
import io.sparkvision.image.InputShape;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.LeNet5;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointStoreTest {
    static final Configuration CONF = new Configuration();

    static MultiLayerNetwork trainedNet() {
        MultiLayerNetwork net = new LeNet5().build(new InputShape(1, 28, 28), 10, 3, new Adam(1e-3), 0);
        Nd4j.getRandom().setSeed(5);
        DataSet ds = new DataSet(Nd4j.rand(8, 1, 28, 28), Nd4j.eye(10).getRows(0, 1, 2, 3, 4, 5, 6, 7));
        for (int i = 0; i < 3; i++) net.fit(ds);
        return net;
    }

    @Test
    void keepsTheNewestAndRestoresParametersAndAdamState(@TempDir Path dir) throws IOException {
        CheckpointStore store = new CheckpointStore(dir.toString(), CONF, 2);
        MultiLayerNetwork net = trainedNet();
        for (int e = 1; e <= 4; e++) store.write(net, e, Map.of("note", "epoch " + e));
        assertEquals(List.of(3, 4), store.epochs());
        assertEquals(4, store.latest().orElseThrow());

        MultiLayerNetwork restored = (MultiLayerNetwork) store.load(4);
        Bits.assertIdentical(net.params(), restored.params(), "restored parameters");
        Bits.assertIdentical(net.getUpdater().getStateViewArray(), restored.getUpdater().getStateViewArray(), "restored Adam state");
        assertEquals(net.getIterationCount(), restored.getIterationCount());
        // With the updater state restored, the next steps are bit-identical.
        DataSet ds = new DataSet(Nd4j.ones(2, 1, 28, 28), Nd4j.eye(10).getRows(0, 1));
        net.fit(ds);
        restored.fit(ds);
        Bits.assertIdentical(net.params(), restored.params(), "parameters after one more step each");
        String meta = Files.readString(dir.resolve("epoch-0004.json"));
        assertTrue(meta.contains("\"modelSha256\"") && meta.contains("\"epoch\" : 4"), meta);
    }

    @Test
    void theBestCheckpointSurvivesPruningAndResolves(@TempDir Path dir) throws IOException {
        CheckpointStore store = new CheckpointStore(dir.toString(), CONF, 2, Metric.TOP1_ACCURACY);
        MultiLayerNetwork net = trainedNet();
        double[] top1 = {0.5, 0.9, 0.7, 0.8, 0.6};
        for (int e = 1; e <= 5; e++) store.write(net, e, Map.of("metrics", Map.of("top1Accuracy", top1[e - 1])));
        assertEquals(List.of(2, 4, 5), store.epochs(), "the last two plus the best");
        assertEquals(2, store.resolve("best"));
        assertEquals(5, store.resolve("latest"));
        assertEquals(4, store.resolve("4"));
        String m = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> store.resolve("1")).getMessage();
        assertTrue(m.contains("[2, 4, 5]"), m);
        CheckpointStore byLoss = new CheckpointStore(dir.toString(), CONF, 2, Metric.TEST_LOSS);
        assertTrue(byLoss.best().isEmpty(), "no checkpoint recorded a test loss");
    }

    @Test
    void aModelWithoutItsCommitMarkerIsNotACheckpoint(@TempDir Path dir) throws IOException {
        CheckpointStore store = new CheckpointStore(dir.toString(), CONF, 5);
        store.write(trainedNet(), 1, Map.of());
        // A writer that died after the zip but before the marker, and one that died mid-zip.
        Files.write(dir.resolve("epoch-0002.zip"), new byte[] {1, 2, 3});
        Files.write(dir.resolve("._tmp.epoch-0003.zip.123"), new byte[] {1, 2});
        assertEquals(List.of(1), store.epochs());
        assertEquals(1, store.latest().orElseThrow());
    }

    @Test
    void atomicWriteLeavesTheOldFileWhenTheWriterFails(@TempDir Path dir) throws IOException {
        org.apache.hadoop.fs.Path target = HadoopFs.path(dir.resolve("f.json").toString());
        HadoopFs.writeStringAtomically(target, "old", CONF);
        IOException e = assertThrows(IOException.class, () -> HadoopFs.writeAtomically(target, CONF, out -> {
            out.write("half".getBytes());
            throw new IOException("disk full");
        }));
        assertEquals("disk full", e.getMessage());
        assertEquals("old", Files.readString(dir.resolve("f.json")));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "the temporary file is cleaned up");
        }
    }
}
