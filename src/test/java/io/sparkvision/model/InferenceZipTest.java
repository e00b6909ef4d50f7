package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The zip the score job ships to executors: no updater state, the same predictions as the full model.zip. In the
 * full tier (the default tier is near its time limit; the score job tests cover the path end to end there).
 */
@Tag("full")
class InferenceZipTest {
    @Test
    void dropsTheUpdaterStateAndPredictsTheSame() throws Exception {
        Nd4j.getRandom().setSeed(3);
        var net = (ComputationGraph) new ResNet(18).build(new InputShape(3, 32, 32), 4, 5, new Adam(1e-3), 0);
        var x = Nd4j.rand(DataType.FLOAT, 2, 3, 32, 32);
        var y = Nd4j.zeros(DataType.FLOAT, 2, 4);
        y.putScalar(0, 1, 1f);
        y.putScalar(1, 3, 1f);
        net.fit(new DataSet(x, y)); // Adam state that is not zero
        ByteArrayOutputStream full = new ByteArrayOutputStream();
        ModelSerializer.writeModel(net, full, true);

        byte[] slim = ModelFiles.forInference(full.toByteArray());
        List<String> entries = entries(slim);
        assertTrue(entries.contains("configuration.json") && entries.contains("coefficients.bin"), entries.toString());
        assertTrue(!entries.contains(ModelSerializer.UPDATER_BIN), "the updater state is still in " + entries);
        assertTrue(entries(full.toByteArray()).contains(ModelSerializer.UPDATER_BIN), "the full zip has it");
        // stored, not deflated: the parameters' bytes and little else (DL4J inflates every entry it restores)
        assertTrue(slim.length < 4L * net.numParams() + (1 << 20), slim.length + " bytes for " + net.numParams() + " parameters");

        // What the score job's driver checks instead of restoring the model
        var declared = ModelFiles.declared(slim);
        assertEquals(4, declared.outputs());
        assertEquals(net.numParams(), declared.params());
        byte[] truncated = java.util.Arrays.copyOf(slim, slim.length / 2);
        assertThrows(java.io.IOException.class, () -> ModelFiles.declared(truncated), "half a zip is refused");

        var restored = (ComputationGraph) ModelFiles.fromBytes(slim);
        var original = (ComputationGraph) ModelFiles.fromBytes(full.toByteArray());
        assertArrayEquals(original.params().toFloatVector(), restored.params().toFloatVector());
        var in = Nd4j.rand(DataType.FLOAT, 3, 3, 32, 32);
        assertEquals(original.outputSingle(in), restored.outputSingle(in));
    }

    private static List<String> entries(byte[] zip) throws Exception {
        List<String> names = new ArrayList<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) names.add(e.getName());
        }
        return names;
    }
}
