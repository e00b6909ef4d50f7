package io.sparkvision.model.onednn;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The product's pooling layers ({@link DnnlSubsamplingLayer}, {@link DnnlGlobalPoolingLayer}) against DL4J's own, with
 * the tolerances of {@link DnnlConvolutionHelperTest}: conv - ReLU - pooling - conv - global pooling - softmax, built
 * twice from one seed, DL4J's path in one and the product's whole path in the other; forward output within 1e-5 and
 * every parameter gradient within 1e-4 (both convolutions' weight gradients flow back through both poolings). Max and
 * average pooling (the border divisor both ways; with the padding in the divisor against DL4J's built-in pooling, as its
 * oneDNN helper's backward ignores that flag), padding symmetric (13x13 input: 7x7 out) and not (12x12: oneDNN's
 * bottom/right padding 0), channels-last with the blocked layout and without, channels-first.
 */
class DnnlPoolingTest {
    @ParameterizedTest(name = "{0} pool (pad in divisor {1}), global {2}, {3}x{3} {4}, blocked {5}")
    @CsvSource({
            "MAX, false, AVG, 13, NHWC, true",
            "MAX, false, MAX, 12, NHWC, false",
            "AVG, true,  AVG, 12, NHWC, true",
            "AVG, true,  AVG, 13, NHWC, false",
            "AVG, false, MAX, 13, NHWC, true",
            "AVG, false, AVG, 13, NHWC, false",
            "MAX, false, AVG, 13, NCHW, false",
            "AVG, true,  MAX, 12, NCHW, false"})
    void poolingMatchesDl4j(PoolingType pool, boolean padInDivisor, PoolingType global, int size, CNN2DFormat format, boolean blocked) {
        Nd4j.getRandom().setSeed(5);
        var x = format == CNN2DFormat.NHWC ? Nd4j.rand(DataType.FLOAT, 4, size, size, 3) : Nd4j.rand(DataType.FLOAT, 4, 3, size, size);
        var pieces = new NativePath.Pieces(true, true, true, true, blocked, true, true);
        // 2 convs, 1 ReLU layer, 2 pooling layers
        var fast = (ComputationGraph) DnnlConvolutionHelperTest.compare(() -> graph(pool, padInDivisor, global, size, format), x, 4, 5, pieces);
        var p = assertInstanceOf(DnnlSubsamplingLayer.class, fast.getLayer("pool"), "the pooling layer object replaced");
        var g = assertInstanceOf(DnnlGlobalPoolingLayer.class, fast.getLayer("global"), "the global pooling layer object replaced");
        assertTrue(p.fastForwardPasses() >= 2 && p.fastBackwardPasses() >= 1, "pooling ran on oneDNN both ways");
        assertTrue(g.fastForwardPasses() >= 2 && g.fastBackwardPasses() >= 1, "global pooling ran on oneDNN both ways");
        assertEquals(0, p.workspaceRebuilds(), "the backward pass used the training pass's workspace");
        boolean expectBlocked = blocked && format == CNN2DFormat.NHWC;
        assertEquals(expectBlocked, p.isBlocked(), "pooling inside the blocked region");
        assertEquals(expectBlocked, g.isBlocked(), "global pooling reads the blocked region");
        NativePath.uninstall(fast);
        assertInstanceOf(org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer.class, fast.getLayer("pool"));
        assertEquals(org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer.class, fast.getLayer("pool").getClass(),
                "uninstall puts DL4J's layer object back");
        assertEquals(org.deeplearning4j.nn.layers.pooling.GlobalPoolingLayer.class, fast.getLayer("global").getClass());
    }

    /** Max pooling's backward reads the training pass's workspace; for another input it runs the forward pass again. */
    @org.junit.jupiter.api.Test
    void maxPoolingBackwardOnAnotherInputRebuildsTheWorkspace() {
        Nd4j.getRandom().setSeed(9);
        var g = graph(PoolingType.MAX, false, PoolingType.AVG, 13, CNN2DFormat.NHWC);
        var dl4j = (org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer) g.getLayer("pool");
        NativePath.install(g, new NativePath.Pieces(true, true, true, true, false, true, true));
        var p = assertInstanceOf(DnnlSubsamplingLayer.class, g.getLayer("pool"));
        var mgr = org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces();
        var a = Nd4j.rand(DataType.FLOAT, 4, 13, 13, 32);
        var b = Nd4j.rand(DataType.FLOAT, 4, 13, 13, 32);
        var eps = Nd4j.rand(DataType.FLOAT, 4, 7, 7, 32);
        p.setInput(a, mgr);
        p.activate(true, mgr);
        p.setInput(b, mgr);
        var dx = p.backpropGradient(eps, mgr).getSecond();
        assertEquals(1, p.workspaceRebuilds());
        dl4j.setInput(b, mgr);
        dl4j.activate(true, mgr);
        DnnlConvolutionHelperTest.assertClose("max pooling's input gradient", dl4j.backpropGradient(eps, mgr).getSecond(), dx, 1e-6);
        p.activate(true, mgr); // a training pass on b: its workspace serves the next backward
        DnnlConvolutionHelperTest.assertClose("again", dx, p.backpropGradient(eps, mgr).getSecond(), 0);
        assertEquals(1, p.workspaceRebuilds());
    }

    private static ComputationGraph graph(PoolingType pool, boolean padInDivisor, PoolingType global, int size, CNN2DFormat format) {
        var conf = new NeuralNetConfiguration.Builder().seed(3).updater(new Sgd(0.1)).weightInit(WeightInit.XAVIER)
                .dataType(DataType.FLOAT).convolutionMode(ConvolutionMode.Truncate).graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutional(size, size, 3, format))
                .addLayer("c1", new ConvolutionLayer.Builder(3, 3).nOut(32).padding(1, 1).activation(Activation.IDENTITY)
                        .dataFormat(format).build(), "in")
                .addLayer("r1", new ActivationLayer.Builder().activation(Activation.RELU).build(), "c1")
                .addLayer("pool", new SubsamplingLayer.Builder(pool).kernelSize(3, 3).stride(2, 2).padding(1, 1)
                        .avgPoolIncludePadInDivisor(padInDivisor).dataFormat(format).build(), "r1")
                .addLayer("c2", new ConvolutionLayer.Builder(3, 3).nOut(32).padding(1, 1).activation(Activation.IDENTITY)
                        .dataFormat(format).build(), "pool")
                .addLayer("global", new GlobalPoolingLayer.Builder(global).build(), "c2")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(4).activation(Activation.SOFTMAX).build(), "global")
                .setOutputs("out").build();
        var g = new ComputationGraph(conf);
        g.init();
        if (padInDivisor) {
            // DL4J's own oneDNN pooling helper ignores this flag backward (it always divides by the values inside the
            // window: on a 4x4 input of ones, 3x3/2 pad 1, its corner gradient is 1/4 where the forward divided by 9);
            // DL4J's built-in path and the product's compute the forward's gradient (1/9). Compare with the built-in.
            try {
                var f = org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer.class.getDeclaredField("helper");
                f.setAccessible(true);
                f.set(g.getLayer("pool"), null);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
        return g;
    }
}
