package io.sparkvision.model.onednn;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What the product's two pooling layers ({@link DnnlSubsamplingLayer}, {@link DnnlGlobalPoolingLayer}) share: their
 * primitives, whether their activations are blocked, which input max pooling's workspace describes, and counters.
 * One per layer object (the layers extend different DL4J classes, so they hold one rather than inherit it).
 */
final class PoolingPasses {
    private DnnlPooling pooling;
    private boolean blocked;
    private long forward, backward;
    /** The input (object and address) of the last training pass: max pooling's workspace describes it. */
    private INDArray trainedOn;
    private long trainedOnAddress;

    /** Activations held blocked ({@code nChw16c}); a change drops the primitives. */
    void blocked(boolean on) {
        if (blocked == on) return;
        blocked = on;
        if (pooling != null) pooling.clear();
    }

    boolean blocked() {
        return blocked;
    }

    void forward(DnnlPooling.Key k, INDArray input, INDArray output, boolean training) {
        pooling().forward(k, input, output, training);
        if (training) {
            trainedOn = input;
            trainedOnAddress = address(input);
        }
        forward++;
    }

    void backward(DnnlPooling.Key k, INDArray input, INDArray dy, INDArray dx) {
        pooling().backward(k, input, dy, dx, trainedOn == input && trainedOnAddress == address(input));
        backward++;
    }

    long forwardPasses() {
        return forward;
    }

    long backwardPasses() {
        return backward;
    }

    long workspaceRebuilds() {
        return pooling == null ? 0 : pooling.workspaceRebuilds();
    }

    /** A blocked activation that cannot go to oneDNN: an Error, as {@link NativePath.LayoutError} explains. */
    static NativePath.LayoutError layoutError(String layer, String pass, INDArray input) {
        return new NativePath.LayoutError(layer + " holds blocked (nChw16c) activations but its " + pass + " pass cannot run on oneDNN (input "
                + (input == null ? "none" : input.shapeInfoToString()) + "); run with -D" + NativePath.BLOCKED_PROPERTY + "=false");
    }

    private DnnlPooling pooling() {
        if (pooling == null) pooling = new DnnlPooling();
        return pooling;
    }

    private static long address(INDArray a) {
        return a.data().address() + a.offset();
    }
}
