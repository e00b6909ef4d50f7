package io.sparkvision.model.onednn;

import io.sparkvision.image.InputShape;
import io.sparkvision.model.Models;
import io.sparkvision.model.ResNet;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import static io.sparkvision.model.onednn.DnnlConvolutionHelperTest.assertClose;
import static io.sparkvision.model.onednn.DnnlConvolutionHelperTest.strip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Inference on the product's path (issue 21 part 4): the conv helper reorders a layer's weights into the forward
 * primitive's layout once, not on every call, while the weights stay as they are; and it reorders again whenever they
 * change - by a training step (backprop marks the copy stale) or by parameters replaced without one (setParams, as
 * Spark's averaging does on the driver) - so the outputs keep matching DL4J's own path (1e-5, as
 * {@link DnnlConvolutionHelperTest}'s forward tolerance).
 */
class NativePathInferenceTest {

    @Test
    void inferenceReordersWeightsOnceAndAgainOnlyWhenTheyChange() {
        Nd4j.getRandom().setSeed(21);
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 3, 64, 64);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 4, 5);
        for (int i = 0; i < 4; i++) y.putScalar(i, i, 1f);
        ComputationGraph plain = (ComputationGraph) new ResNet(18).build(new InputShape(3, 64, 64), 5, 7, new Sgd(0.1), 0);
        ComputationGraph fast = (ComputationGraph) new ResNet(18).build(new InputShape(3, 64, 64), 5, 7, new Sgd(0.1), 0);
        strip(plain);
        strip(fast);
        assertEquals(40 + 17 + 2, NativePath.installAlways(fast), "20 conv + 20 BatchNorm helpers, 17 ReLU layers, 2 pooling layers (the whole path, as the jobs run it)");

        assertClose("first inference", Models.output(plain, x), Models.output(fast, x), DnnlConvolutionHelperTest.FORWARD_TOL);
        int once = reorders(fast);
        assertTrue(once > 0, "the forward primitives take the weights in a layout of their own here (else nothing to test)");
        for (int i = 0; i < 3; i++) Models.output(fast, x);
        assertEquals(once, reorders(fast), "three more inferences with the same weights reordered them again");

        // Parameters replaced without a training step (Spark averaging on the driver, a restore into the same buffers).
        INDArray replaced = plain.params().mul(0.9);
        plain.setParams(replaced);
        fast.setParams(replaced);
        assertClose("inference after setParams", Models.output(plain, x), Models.output(fast, x), DnnlConvolutionHelperTest.FORWARD_TOL);
        assertTrue(reorders(fast) > once, "new weights were not reordered");

        // A training step changes the weights in place: the next inference must see them.
        plain.fit(new DataSet(x, y));
        fast.fit(new DataSet(x, y));
        INDArray afterStepPlain = Models.output(plain, x), afterStepFast = Models.output(fast, x);
        assertClose("inference after a training step", afterStepPlain, afterStepFast, 1e-3);
    }

    private static int reorders(ComputationGraph g) {
        int n = 0;
        for (var l : g.getLayers())
            if (NativePath.plainConv(l) && ((ConvolutionLayer) l).getHelper() instanceof DnnlConvolutionHelper h)
                n += h.forwardWeightReorders();
        return n;
    }
}
