package io.sparkvision.model.onednn;

import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.vertex.impl.ElementWiseVertex;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Replaces a residual add ({@link ElementWiseVertex} Add of two inputs) whose only consumer is a plain ReLU layer, in
 * a built graph (the configuration stays DL4J's): forward writes max(a + b, 0) in one oneDNN pass (DL4J: copy a, add
 * b, then the ReLU layer copies and applies ReLU), and the {@link DnnlReluLayer} after it passes it through. Backward
 * is DL4J's add backward (the ReLU layer has already applied the mask): each input gets its own copy of the gradient,
 * as DL4J's graph may later add into one of them in place. Other shapes and types run DL4J's code.
 */
public final class DnnlAddReluVertex extends ElementWiseVertex implements ReluSource {
    private final ElementWiseVertex original;
    /** Native primitives: not serialized (a deserialized copy creates its own; DL4J's layers are Serializable). */
    private transient DnnlEltwise eltwise;
    private transient INDArray lastReluOutput;
    private boolean lastFused;

    DnnlAddReluVertex(ElementWiseVertex original) {
        super(original.getGraph(), original.getVertexName(), original.getVertexIndex(), original.getInputVertices(),
                original.getOutputVertices(), Op.Add, original.getDataType());
        this.original = original;
    }

    ElementWiseVertex original() {
        return original;
    }

    private DnnlEltwise eltwise() {
        if (eltwise == null) eltwise = new DnnlEltwise();
        return eltwise;
    }

    @Override
    public boolean reluApplied(INDArray output) {
        return output != null && output == lastReluOutput;
    }

    @Override
    public INDArray doForward(boolean training, LayerWorkspaceMgr mgr) {
        if (!canDoForward()) throw new IllegalStateException("Cannot do forward pass: inputs not set");
        lastReluOutput = null;
        lastFused = inputs.length == 2 && inputs[0].dataType() == DataType.FLOAT && inputs[1].dataType() == DataType.FLOAT
                && inputs[0].ordering() == inputs[1].ordering() && java.util.Arrays.equals(inputs[0].shape(), inputs[1].shape())
                && DnnlEltwise.fits(inputs[0], inputs[1]);
        if (!lastFused) return super.doForward(training, mgr);
        INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, inputs[0].shape(), inputs[0].ordering());
        eltwise().addRelu(inputs[0], inputs[1], out);
        lastReluOutput = out;
        return out;
    }

    @Override
    public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr mgr) {
        if (!lastFused) return super.doBackward(tbptt, mgr);
        if (!canDoBackward()) throw new IllegalStateException("Cannot do backward pass: errors not set");
        return new Pair<>(null, new INDArray[] {mgr.dup(ArrayType.ACTIVATION_GRAD, epsilon), mgr.dup(ArrayType.ACTIVATION_GRAD, epsilon)});
    }
}
