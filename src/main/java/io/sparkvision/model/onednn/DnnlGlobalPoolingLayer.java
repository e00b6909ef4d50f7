package io.sparkvision.model.onednn;

import org.bytedeco.dnnl.memory;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.pooling.GlobalPoolingLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * DL4J's {@link GlobalPoolingLayer} over 2-D feature maps (max or average, no mask, collapsed to {@code [n, c]}) as one
 * oneDNN pooling pass each way, the window the whole map. DL4J's layer reduces with ND4J ops and, backward, broadcasts
 * the gradient in further ops; it also reads only NHWC, so ResNet's last residual chain, which it reads, had to stay
 * NHWC. This one reads the blocked layout too ({@code nChw16c}; its {@code [n, c, 1, 1]} output is the same bytes as
 * {@code [n, c]} in either layout), so {@link NativePath#markBlocked} can leave that chain blocked.
 *
 * <p>Installed in a built graph in place of DL4J's layer object, as {@link DnnlConvolutionLayer}.
 */
public final class DnnlGlobalPoolingLayer extends GlobalPoolingLayer {
    private final GlobalPoolingLayer original;
    private final boolean nchw;
    private final transient PoolingPasses passes = new PoolingPasses();

    /** @param nchw take channels-first inputs too (the {@code nchw} piece, as the other layers) */
    DnnlGlobalPoolingLayer(GlobalPoolingLayer original, boolean nchw) {
        super(original.conf(), original.getDataType());
        this.original = original;
        this.nchw = nchw;
        LayerState.copy(GlobalPoolingLayer.class, original, this, NativePath.POOLING_PROPERTY);
    }

    GlobalPoolingLayer restoreOriginal() {
        LayerState.copy(GlobalPoolingLayer.class, this, original, NativePath.POOLING_PROPERTY);
        return original;
    }

    static boolean supported(org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer c) {
        int[] d = c.getPoolingDimensions();
        return (c.getPoolingType() == PoolingType.MAX || c.getPoolingType() == PoolingType.AVG) && c.isCollapseDimensions()
                && (d == null || Arrays.equals(d, new int[] {1, 2}) || Arrays.equals(d, new int[] {2, 3}));
    }

    /** Pools over dimensions 1 and 2 of a rank-4 input: channels-last. */
    boolean channelsLast() {
        return Arrays.equals(layerConf().getPoolingDimensions(), new int[] {1, 2});
    }

    /** Input read blocked ({@code nChw16c}); set by {@link NativePath} from the graph. */
    void blocked(boolean on) {
        passes.blocked(on);
    }

    public boolean isBlocked() {
        return passes.blocked();
    }

    public long fastForwardPasses() {
        return passes.forwardPasses();
    }

    public long fastBackwardPasses() {
        return passes.backwardPasses();
    }

    private boolean fast(INDArray epsilon) {
        return input != null && input.rank() == 4 && maskArray == null && Dnnl.dense(input) && dataType == DataType.FLOAT
                && (channelsLast() || nchw && !passes.blocked())
                && (epsilon == null || epsilon.dataType() == DataType.FLOAT && epsilon.rank() == 2);
    }

    private DnnlPooling.Key key() {
        boolean nhwc = channelsLast();
        long n = input.size(0), c = input.size(nhwc ? 3 : 1), h = input.size(nhwc ? 1 : 2), w = input.size(nhwc ? 2 : 3);
        memory.format_tag tag = passes.blocked() ? memory.format_tag.nChw16c : nhwc ? memory.format_tag.nhwc : memory.format_tag.nchw;
        DnnlPooling.Kind kind = layerConf().getPoolingType() == PoolingType.MAX ? DnnlPooling.Kind.MAX : DnnlPooling.Kind.AVG_EXCLUDE_PADDING;
        return new DnnlPooling.Key(kind, n, c, h, w, 1, 1, (int) h, (int) w, 1, 1, 0, 0, 0, 0, tag);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        if (!fast(null)) {
            if (passes.blocked()) throw PoolingPasses.layoutError(layerId(), "forward", input);
            return super.activate(training, mgr);
        }
        assertInputSet(false);
        DnnlPooling.Key k = key();
        INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, new long[] {k.n(), k.c()}, 'c');
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
        DnnlPooling.Key k = key();
        INDArray dx = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), 'c');
        passes.backward(k, input, Dnnl.denseOrCopy(epsilon), dx);
        return new Pair<>(new DefaultGradient(), dx);
    }
}
