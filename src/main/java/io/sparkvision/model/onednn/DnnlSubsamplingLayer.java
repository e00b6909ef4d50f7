package io.sparkvision.model.onednn;

import org.bytedeco.dnnl.memory;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * DL4J's {@link SubsamplingLayer} (max and average pooling) on oneDNN's pooling primitives, forward and backward. DL4J
 * M2.1's layer never calls a helper forward (libnd4j's {@code maxpool2d} loop always) and its backward, through libnd4j's
 * oneDNN, runs the forward pass again to find each window's maximum; here the training pass keeps oneDNN's workspace
 * (where each maximum came from) for the backward pass. Activations stay in the layout of the layer's neighbours,
 * blocked ({@code nChw16c}) where {@link NativePath#markBlocked} put the pooling inside a blocked region (ResNet's
 * stem). Truncate/Strict mode, undilated, float32, MAX or AVG; anything else runs DL4J's code.
 *
 * <p>Installed in a built graph in place of DL4J's layer object, as {@link DnnlConvolutionLayer}.
 */
public final class DnnlSubsamplingLayer extends SubsamplingLayer {
    private final SubsamplingLayer original;
    private final boolean nchw;
    private final transient PoolingPasses passes = new PoolingPasses();

    DnnlSubsamplingLayer(SubsamplingLayer original, boolean nchw) {
        super(original.conf(), original.getDataType());
        this.original = original;
        this.nchw = nchw;
        LayerState.copy(SubsamplingLayer.class, original, this, NativePath.POOLING_PROPERTY);
    }

    SubsamplingLayer restoreOriginal() {
        LayerState.copy(SubsamplingLayer.class, this, original, NativePath.POOLING_PROPERTY);
        return original;
    }

    /** Input and output held blocked ({@code nChw16c}); set by {@link NativePath} from the graph. */
    void blocked(boolean on) {
        passes.blocked(on);
    }

    public boolean isBlocked() {
        return passes.blocked();
    }

    /** Passes that ran on oneDNN's pooling; for tests. */
    public long fastForwardPasses() {
        return passes.forwardPasses();
    }

    public long fastBackwardPasses() {
        return passes.backwardPasses();
    }

    /** Backward passes of max pooling that ran the forward pass again (no training pass on that input); for tests. */
    public long workspaceRebuilds() {
        return passes.workspaceRebuilds();
    }

    /** Whether this layer's configuration is one oneDNN's pooling computes as DL4J does. */
    static boolean supported(org.deeplearning4j.nn.conf.layers.SubsamplingLayer c) {
        return (c.getPoolingType() == PoolingType.MAX || c.getPoolingType() == PoolingType.AVG)
                && (c.getConvolutionMode() == ConvolutionMode.Truncate || c.getConvolutionMode() == ConvolutionMode.Strict)
                && c.getDilation()[0] == 1 && c.getDilation()[1] == 1;
    }

    private boolean fast(INDArray epsilon) {
        var c = layerConf();
        boolean nhwc = c.getCnn2dDataFormat() == CNN2DFormat.NHWC;
        return supported(c) && (nhwc || nchw && !passes.blocked()) && input != null && input.rank() == 4 && Dnnl.dense(input)
                && dataType == DataType.FLOAT && (epsilon == null || epsilon.dataType() == DataType.FLOAT);
    }

    private DnnlPooling.Key key() {
        var c = layerConf();
        boolean nhwc = c.getCnn2dDataFormat() == CNN2DFormat.NHWC;
        long n = input.size(0), ch = input.size(nhwc ? 3 : 1), h = input.size(nhwc ? 1 : 2), w = input.size(nhwc ? 2 : 3);
        int[] k = c.getKernelSize(), s = c.getStride(), p = c.getPadding();
        // DL4J's output size (and Strict mode's check, with its message)
        int[] out = ConvolutionUtils.getOutputSize(input, k, s, p, convolutionMode, c.getDilation(), c.getCnn2dDataFormat());
        int padBottom = (int) Math.max(0, (out[0] - 1L) * s[0] + k[0] - h - p[0]);
        int padRight = (int) Math.max(0, (out[1] - 1L) * s[1] + k[1] - w - p[1]);
        DnnlPooling.Kind kind = c.getPoolingType() == PoolingType.MAX ? DnnlPooling.Kind.MAX
                : c.isAvgPoolIncludePadInDivisor() ? DnnlPooling.Kind.AVG_INCLUDE_PADDING : DnnlPooling.Kind.AVG_EXCLUDE_PADDING;
        memory.format_tag tag = passes.blocked() ? memory.format_tag.nChw16c : nhwc ? memory.format_tag.nhwc : memory.format_tag.nchw;
        return new DnnlPooling.Key(kind, n, ch, h, w, out[0], out[1], k[0], k[1], s[0], s[1], p[0], p[1], padBottom, padRight, tag);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        if (!fast(null)) {
            if (passes.blocked()) throw PoolingPasses.layoutError(layerId(), "forward", input);
            return super.activate(training, mgr);
        }
        assertInputSet(false);
        DnnlPooling.Key k = key();
        boolean nhwc = layerConf().getCnn2dDataFormat() == CNN2DFormat.NHWC;
        long[] shape = nhwc ? new long[] {k.n(), k.outH(), k.outW(), k.c()} : new long[] {k.n(), k.c(), k.outH(), k.outW()};
        INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, shape, 'c');
        passes.forward(k, input, out, training);
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        if (!fast(epsilon)) {
            if (passes.blocked()) throw PoolingPasses.layoutError(layerId(), "backward", input);
            return super.backpropGradient(epsilon, mgr);
        }
        assertInputSet(true);
        INDArray dy = passes.blocked() ? Dnnl.denseBlocked(epsilon, layerId()) : Dnnl.denseOrCopy(epsilon);
        DnnlPooling.Key k = key();
        INDArray dx = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), 'c');
        passes.backward(k, input, dy, dx);
        return new Pair<>(new DefaultGradient(), dx);
    }
}
