package io.sparkvision.model.onednn;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A producer that can apply ReLU to its own output in the same pass (oneDNN's BatchNorm with {@code fuse_norm_relu},
 * the residual add with a ReLU post-op); the {@link DnnlReluLayer} after it then passes that output through.
 */
interface ReluSource {
    /** Whether {@code output} is the very array this producer returned last, with ReLU already applied. */
    boolean reluApplied(INDArray output);

    /**
     * Whether this producer's backward pass also applies ReLU's derivative (BatchNorm's fused backward, from the mask
     * its forward pass kept): the ReLU layer after it then passes the gradient through unchanged.
     */
    default boolean appliesReluDerivative() {
        return false;
    }
}
