package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ResNet runs channels-last inside the network (for speed: fewer oneDNN reorders, jit BatchNorm) while callers keep
 * feeding NCHW. It must be the same function with the same parameters as DL4J's default layout, train the same,
 * keep its oneDNN helpers, and survive the configuration's JSON round trip (checkpoints, Spark workers).
 */
class ChannelsLastTest {
    // 64x64, not 32x32: at 32x32 the last stage is 1x1 and BatchNorm over 4 values in training amplifies float
    // rounding; the product's oneDNN path (model/onednn) runs different kernels for NCHW and NHWC, DL4J's the same.
    private static final InputShape IN = new InputShape(3, 64, 64);

    @Test
    void channelsLastResNetComputesAndTrainsLikeTheNchwOne() {
        ComputationGraph nhwc = (ComputationGraph) new ResNet(18, true).build(IN, 3, 7, new Sgd(0.05), 0);
        ComputationGraph nchw = (ComputationGraph) new ResNet(18, false).build(IN, 3, 7, new Sgd(0.05), 0);
        assertEquals(nchw.numParams(), nhwc.numParams());
        nchw.setParams(nhwc.params().dup());

        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 3, 64, 64);
        assertClose(nchw.outputSingle(false, x), nhwc.outputSingle(false, x), 1e-4, "inference output");

        DataSet ds = new DataSet(x, Nd4j.eye(3).getRows(0, 1, 2, 0).castTo(DataType.FLOAT));
        for (int i = 0; i < 2; i++) {
            nchw.fit(ds);
            nhwc.fit(ds);
        }
        assertClose(nchw.params(), nhwc.params(), 1e-3, "parameters after two training steps");
        assertTrue(!nhwc.params().equalsWithEps(nhwc.params().mul(0), 1e-6), "trained parameters are not all zero");
    }

    @Test
    void convAndBatchNormRunChannelsLastWithTheirOneDnnHelpers() {
        ComputationGraph net = (ComputationGraph) new ResNet(18).build(IN, 3, 7, new Sgd(0.05), 0);
        net.fit(new DataSet(Nd4j.rand(DataType.FLOAT, 2, 3, 64, 64), Nd4j.eye(3).getRows(0, 1).castTo(DataType.FLOAT)));
        var conv = (ConvolutionLayer) net.getLayer("conv1.conv");
        assertEquals(CNN2DFormat.NHWC, ((org.deeplearning4j.nn.conf.layers.ConvolutionLayer) conv.conf().getLayer()).getCnn2dDataFormat());
        Class<?> expected = io.sparkvision.model.onednn.NativePath.enabled()
                ? io.sparkvision.model.onednn.DnnlConvolutionHelper.class : MKLDNNConvHelper.class;
        assertTrue(expected.isInstance(conv.getHelper()), "conv runs without oneDNN" + ": " + conv.getHelper());
        var bn = (BatchNormalization) net.getLayer("layer4.1.2.bn");
        assertEquals(CNN2DFormat.NHWC, ((org.deeplearning4j.nn.conf.layers.BatchNormalization) bn.conf().getLayer()).getCnn2DFormat());
        // The product's own oneDNN BatchNorm where the path is on (model/onednn), else libnd4j's through DL4J's helper.
        Class<?> expectedBn = io.sparkvision.model.onednn.NativePath.enabled()
                ? io.sparkvision.model.onednn.DnnlBatchNormHelper.class : MKLDNNBatchNormHelper.class;
        assertTrue(expectedBn.isInstance(bn.getHelper()), "BatchNorm runs without oneDNN: " + bn.getHelper());
    }

    @Test
    void configurationSurvivesJson() {
        ComputationGraphConfiguration c = new ResNet(18).configure(IN, 3, 7, new Sgd(0.05), 0).graph();
        assertEquals(c, ComputationGraphConfiguration.fromJson(c.toJson()));
    }

    private static void assertClose(INDArray expected, INDArray actual, double tolerance, String what) {
        double diff = expected.sub(actual).amaxNumber().doubleValue();
        double scale = Math.max(1e-3, expected.amaxNumber().doubleValue());
        assertTrue(diff <= tolerance * scale, what + ": max |difference| " + diff + " against max |value| " + scale);
    }
}
