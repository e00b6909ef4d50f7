package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every registered architecture builds at its smallest supported input, runs one fit() step (forward + backward
 * + update) on a batch of 2 and gives one probability row per image. Smallest inputs keep this under a minute.
 */
class ModelZooSmokeTest {
    static List<String> names() {
        return Architectures.names();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void buildsFitsOneStepAndPredicts(String name) {
        Architecture a = Architectures.get(name);
        InputShape in = new InputShape(3, a.minimumInput().height(), a.minimumInput().width());
        // Adam bounds each step by its learning rate: with batch 2 and a 1x1 last stage, BatchNorm's backward pass
        // divides by a tiny batch variance and plain SGD steps explode (a property of the batch, not of the nets).
        Model m = a.build(in, 10, 7, new Adam(1e-3), 0);
        try {
            fitAndPredict(name, in, m);
        } finally {
            // Frees the off-heap weights now: VGG's ~2 GB (weights, gradients, Adam state) would otherwise wait for
            // GC while the next model allocates, and JavaCPP's limit then stalls allocations in System.gc() loops.
            m.close();
        }
    }

    private static void fitAndPredict(String name, InputShape in, Model m) {
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.rand(new int[] {2, in.channels(), in.height(), in.width()});
        INDArray y = Nd4j.zeros(2, 10);
        y.putScalar(0, 1, 1.0);
        y.putScalar(1, 7, 1.0);
        // The first layer's weights (a full params() copy of VGG's 130M floats costs seconds).
        INDArray before = firstLayerParams(m).dup();
        if (m instanceof MultiLayerNetwork mln) mln.fit(new DataSet(x, y));
        else ((ComputationGraph) m).fit(new DataSet(x, y));
        assertFalse(before.equals(firstLayerParams(m)), name + ": one fit step did not reach the first layer");
        assertTrue(Double.isFinite(m.params().sumNumber().doubleValue()), name + ": non-finite parameters after one step");
        INDArray out = m instanceof MultiLayerNetwork mln ? mln.output(x) : ((ComputationGraph) m).outputSingle(x);
        assertArrayEquals(new long[] {2, 10}, out.shape(), name);
        for (int i = 0; i < 2; i++) assertEquals(1.0, out.getRow(i).sumNumber().doubleValue(), 1e-4, name);
        assertTrue(ModelStats.params(m) > 0);
    }

    @Test
    void googLeNetWithAuxiliaryHeadsTrainsAllThreeOutputs() {
        InputShape in = new GoogLeNet(true).minimumInput();
        in = new InputShape(3, in.height(), in.width());
        ComputationGraph g = (ComputationGraph) new GoogLeNet(true).build(in, 10, 7, new Adam(1e-3), 0);
        try {
            INDArray x = Nd4j.rand(new int[] {2, 3, in.height(), in.width()});
            INDArray y = Nd4j.zeros(2, 10);
            y.putScalar(0, 2, 1.0);
            y.putScalar(1, 5, 1.0);
            INDArray aux1 = g.getLayer("aux1.fc2").params().dup();
            g.fit(new MultiDataSet(new INDArray[] {x}, new INDArray[] {y, y, y}));
            assertFalse(aux1.equals(g.getLayer("aux1.fc2").params()), "the auxiliary loss trains its head");
            INDArray[] out = g.output(x);
            assertEquals(3, out.length);
            for (INDArray o : out) assertArrayEquals(new long[] {2, 10}, o.shape());
        } finally {
            g.close();
        }
    }

    private static INDArray firstLayerParams(Model m) {
        return m instanceof MultiLayerNetwork mln ? mln.getLayer(0).params() : ((ComputationGraph) m).getLayer(0).params();
    }
}
