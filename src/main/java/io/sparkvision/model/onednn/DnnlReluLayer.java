package io.sparkvision.model.onednn;

import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.ActivationLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Replaces DL4J's {@link ActivationLayer} with plain ReLU in a built graph, same configuration (the saved JSON and
 * model.zip are DL4J's): forward is one oneDNN pass (DL4J: a copy of the input, then ReLU in place) or, where the
 * producer already applied ReLU in its own pass ({@link ReluSource}: fused BatchNorm, add + ReLU), none - the input
 * passes through; backward is one oneDNN pass from the layer's input (DL4J: a copy of the input, then the derivative),
 * or none where the producer's backward applies the derivative itself (BatchNorm fused with ReLU).
 * Anything oneDNN cannot take as it is (not dense float32) goes to DL4J's code.
 */
public final class DnnlReluLayer extends ActivationLayer {
    private final ActivationLayer original;
    private final transient ReluSource source; // null after deserialization: ReLU computed, still correct
    /** Native primitives: not serialized (a deserialized copy creates its own; DL4J's layers are Serializable). */
    private transient DnnlEltwise eltwise;
    private long passedThrough, computed, copiedThrough, gradientsPassedThrough;
    /** Whether the last forward pass took its input as it came (its producer applied ReLU). */
    private boolean lastPassedThrough;

    DnnlReluLayer(ActivationLayer original, ReluSource source) {
        super(original.conf(), original.getDataType());
        this.original = original;
        this.source = source;
        setIndex(original.getIndex());
        setListeners(original.getListeners());
    }

    /** Plain ReLU: DL4J's {@code ActivationReLU} without max, threshold or negative slope. */
    static boolean plainRelu(ActivationLayer l) {
        var conf = (org.deeplearning4j.nn.conf.layers.ActivationLayer) l.conf().getLayer();
        return conf.getActivationFn() instanceof ActivationReLU r && r.getMax() == null
                && (r.getThreshold() == null || r.getThreshold() == 0.0)
                && (r.getNegativeSlope() == null || r.getNegativeSlope() == 0.0);
    }

    ActivationLayer original() {
        return original;
    }

    /** Forward passes whose input came with ReLU applied by its producer / that ran ReLU here; for tests. */
    public long passedThrough() {
        return passedThrough;
    }

    /** Pass-throughs where DL4J's workspace manager copied the input into the activations workspace. */
    public long copiedThrough() {
        return copiedThrough;
    }

    /** Backward passes that left ReLU's derivative to the producer's fused backward; for tests. */
    public long gradientsPassedThrough() {
        return gradientsPassedThrough;
    }

    public long computed() {
        return computed;
    }

    private DnnlEltwise eltwise() {
        if (eltwise == null) eltwise = new DnnlEltwise();
        return eltwise;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        lastPassedThrough = source != null && source.reluApplied(input);
        if (lastPassedThrough) {
            passedThrough++;
            INDArray out = mgr.leverageTo(ArrayType.ACTIVATIONS, input);
            if (out != input) copiedThrough++;
            return out;
        }
        if (input.dataType() != DataType.FLOAT || !DnnlEltwise.fits(input)) return super.activate(training, mgr);
        INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, input.shape(), input.ordering());
        eltwise().reluForward(input, out);
        computed++;
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        assertInputSet(true);
        if (lastPassedThrough && source.appliesReluDerivative()) {
            // The producer (a fused BatchNorm) applied ReLU in its forward pass and applies the derivative in its
            // backward pass from the same mask: nothing to do here.
            gradientsPassedThrough++;
            return new Pair<>(new DefaultGradient(), mgr.leverageTo(ArrayType.ACTIVATION_GRAD, epsilon));
        }
        if (!DnnlEltwise.fits(input, epsilon) || epsilon.ordering() != input.ordering() || !java.util.Arrays.equals(input.shape(), epsilon.shape()))
            return super.backpropGradient(epsilon, mgr);
        INDArray dx = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), input.ordering());
        eltwise().reluBackward(input, epsilon, dx);
        return new Pair<>(new DefaultGradient(), dx);
    }
}
