package io.sparkvision.model.onednn;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * DL4J's {@link ConvolutionLayer} for the case the product's helper covers - channels-last, identity activation (a
 * BatchNorm follows every ResNet convolution), no dropout or weight noise - without the work DL4J's layer does around
 * its helper and then throws away: an NHWC to NCHW copy of the input on every forward and again on every backward
 * pass (the helper reads the NHWC input itself), a copy of the output into the activation cache, and, with the cache
 * off, a second forward pass in backprop that an identity activation never reads. The helper's calls and their
 * arguments are DL4J's own, so the numbers are the same; anything else goes to DL4J's code.
 *
 * <p>Installed in a built graph in place of DL4J's layer object (the configuration, parameters and gradient views are
 * the original's: its state is taken over field by field and handed back by {@link NativePath#uninstall}).
 */
public final class DnnlConvolutionLayer extends ConvolutionLayer {
    private final ConvolutionLayer original;
    private long fastForward, fastBackward;

    DnnlConvolutionLayer(ConvolutionLayer original) {
        super(original.conf(), original.getDataType());
        this.original = original;
        copyState(original, this);
    }

    ConvolutionLayer original() {
        return original;
    }

    /** The original layer with this one's state (parameters, counters, listeners, helper) as it is now. */
    ConvolutionLayer restoreOriginal() {
        copyState(this, original);
        return original;
    }

    /** Forward / backward passes that went straight to the product's helper; for tests. */
    public long fastForwardPasses() {
        return fastForward;
    }

    public long fastBackwardPasses() {
        return fastBackward;
    }

    private boolean fast(INDArray epsilon) {
        var c = layerConf();
        return helper instanceof DnnlConvolutionHelper && helperCountFail == 0
                && c.getCnn2dDataFormat() == CNN2DFormat.NHWC && c.getActivationFn() instanceof ActivationIdentity
                && c.getIDropout() == null && c.getWeightNoise() == null
                && input != null && input.rank() == 4 && input.dataType() == DataType.FLOAT && dataType == DataType.FLOAT
                && (epsilon == null || epsilon.dataType() == DataType.FLOAT);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        if (!fast(null)) return super.activate(training, mgr);
        assertInputSet(false);
        validateInputRank();
        INDArray w = getParam(ConvolutionParamInitializer.WEIGHT_KEY);
        validateInputDepth(w.size(1));
        var c = layerConf();
        INDArray out = helper.preOutput(input, w, bias(), c.getKernelSize(), c.getStride(), pad(), c.getCudnnAlgoMode(),
                c.getCudnnFwdAlgo(), convolutionMode, c.getDilation(), CNN2DFormat.NHWC, mgr);
        if (out == null) return super.activate(training, mgr);
        fastForward++;
        return out; // identity activation
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        if (!fast(epsilon)) return super.backpropGradient(epsilon, mgr);
        assertInputSet(true);
        var c = layerConf();
        INDArray biasGrad = hasBias() ? gradientViews.get(ConvolutionParamInitializer.BIAS_KEY) : null;
        // An identity activation's derivative is the epsilon itself: the helper takes it as the output's gradient.
        Pair<Gradient, INDArray> ret = helper.backpropGradient(input, getParam(ConvolutionParamInitializer.WEIGHT_KEY), bias(), epsilon,
                c.getKernelSize(), c.getStride(), pad(), biasGrad, gradientViews.get(ConvolutionParamInitializer.WEIGHT_KEY),
                c.getActivationFn(), c.getCudnnAlgoMode(), c.getCudnnBwdFilterAlgo(), c.getCudnnBwdDataAlgo(), convolutionMode,
                c.getDilation(), CNN2DFormat.NHWC, mgr);
        if (ret == null) return super.backpropGradient(epsilon, mgr);
        fastBackward++;
        return ret;
    }

    /** The padding for the last input height and width seen (DL4J's size check formats strings on every call). */
    private transient long padH = -1, padW = -1;
    private transient int[] padFor;

    /** DL4J's padding for this input (its Same-mode rule on the NCHW view; the shape check of Strict mode too). */
    private int[] pad() {
        if (input.size(1) == padH && input.size(2) == padW) return padFor;
        padFor = computePad();
        padH = input.size(1);
        padW = input.size(2);
        return padFor;
    }

    private int[] computePad() {
        var c = layerConf();
        INDArray nchw = input.permute(0, 3, 1, 2); // a view: only the shape is read
        if (convolutionMode == ConvolutionMode.Same) {
            int[] outSize = ConvolutionUtils.getOutputSize(nchw, c.getKernelSize(), c.getStride(), null, convolutionMode, c.getDilation(), CNN2DFormat.NCHW);
            return ConvolutionUtils.getSameModeTopLeftPadding(outSize, new int[] {(int) nchw.size(2), (int) nchw.size(3)},
                    c.getKernelSize(), c.getStride(), c.getDilation());
        }
        ConvolutionUtils.getOutputSize(nchw, c.getKernelSize(), c.getStride(), c.getPadding(), convolutionMode, c.getDilation(), CNN2DFormat.NCHW);
        return c.getPadding();
    }

    /**
     * The bias, or none: DL4J's layer hands its helper a zero bias in the forward pass and none in the backward pass,
     * which made the helper build two primitive sets per bias-free layer; here both passes share one.
     */
    private INDArray bias() {
        return hasBias() ? getParam(ConvolutionParamInitializer.BIAS_KEY) : null;
    }

    private static void copyState(ConvolutionLayer from, ConvolutionLayer to) {
        LayerState.copy(ConvolutionLayer.class, from, to, NativePath.CONV_LAYER_PROPERTY);
    }
}
