package io.sparkvision.model.onednn;

import io.sparkvision.model.onednn.VerboseProbe.Lib;
import io.sparkvision.model.onednn.VerboseProbe.Result;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Counts the oneDNN primitives that actually ran ({@link VerboseProbe}: oneDNN's own {@code DNNL_VERBOSE=1} log of a
 * child JVM, not a flag the product sets): the product's oneDNN must run every convolution forward and both backward
 * passes and every BatchNorm forward and backward, and libnd4j's static copy none of them, so a silent fall-back to
 * DL4J's path fails this test; likewise the ReLU pieces (fused BatchNorm + ReLU, add + ReLU, ReLU backward) and pooling. Switched
 * off, the counts flip.
 */
class NativePathPrimitivesTest {
    @Test
    void resnet18RunsEveryConvolutionAndBatchNormOnTheProductsOneDnn() throws Exception {
        int steps = 2;
        Result c = VerboseProbe.run("resnet18", "3x64x64", steps, 2, true);
        assertEquals(20, c.convs(), c.tail());
        assertEquals(20, c.batchNorms(), c.tail());
        // forward + backward weights per conv per step, backward data for every conv but the stem: the stem sees the
        // network's input, whose gradient nothing reads (PyTorch does not compute it either)
        assertEquals(c.convs() * steps, c.execs(Lib.PRODUCT, "convolution", "forward"), "conv forward on the product's oneDNN\n" + c.tail());
        assertEquals(c.convs() * steps, c.execs(Lib.PRODUCT, "convolution", "backward_weights"), "conv backward weights\n" + c.tail());
        assertEquals((c.convs() - 1) * steps, c.execs(Lib.PRODUCT, "convolution", "backward_data"), "conv backward data\n" + c.tail());
        assertEquals(0, c.execs(Lib.PRODUCT, "convolution", "backward_data", "mb2_ic3oc64"), "the stem's input gradient\n" + c.tail());
        assertEquals(3 * c.convs() * steps - steps, c.execs(Lib.PRODUCT, "convolution", ""), "convolutions on the product's oneDNN\n" + c.tail());
        assertEquals(0, c.execs(Lib.LIBND4J, "convolution", ""), "convolutions that fell back to libnd4j's oneDNN\n" + c.tail());
        // forward (training, batch statistics inside) + backward per BatchNorm per step
        assertEquals(2 * c.batchNorms() * steps, c.execs(Lib.PRODUCT, "batch_normalization", ""), "BatchNorms on the product's oneDNN\n" + c.tail());
        assertEquals(0, c.execs(Lib.LIBND4J, "batch_normalization", ""), "BatchNorms that fell back to libnd4j's oneDNN\n" + c.tail());
        // The ReLU pieces (ResNet-18: 17 ReLU layers; 9 follow a BatchNorm that feeds only them, 8 a residual add):
        // 9 forward BatchNorms per step with oneDNN's fused ReLU (flags C = scale, H = shift, R = fuse_norm_relu),
        // 8 binary adds with a ReLU post-op, no ReLU forward of its own (each passes its producer's output through),
        // the 9 BatchNorm backward passes fused with ReLU's derivative (from the forward's mask), and one ReLU backward
        // for each of the 8 ReLU layers after an add (DL4J's ReLU is libnd4j's own loop, invisible here: hence these counts).
        assertEquals(9L * steps, c.execs(Lib.PRODUCT, "batch_normalization", "forward_training", ",flags:CHR,"),
                "BatchNorms with fused ReLU\n" + c.tail());
        assertEquals(9L * steps, c.execs(Lib.PRODUCT, "batch_normalization", "backward", ",flags:CHR,"),
                "BatchNorm backward passes with fused ReLU derivative\n" + c.tail());
        assertEquals(8L * steps, c.execs(Lib.PRODUCT, "binary", "", "attr-post-ops:eltwise_relu"), "add + ReLU\n" + c.tail());
        assertEquals(0, c.execs(Lib.PRODUCT, "eltwise", "forward"), "ReLU forward passes the fused ones did not make unnecessary\n" + c.tail());
        assertEquals(8L * steps, c.execs(Lib.PRODUCT, "eltwise", "backward"), "ReLU backward on the product's oneDNN\n" + c.tail());
        // Pooling (seventh step): the stem's max-pool and the global average pool, one training forward (max keeps its
        // workspace) and one backward each per step on the product's oneDNN, none on libnd4j's
        assertEquals(1, c.pools(), c.tail());
        assertEquals(1, c.globalPoolsOnProduct(), c.tail());
        assertEquals(2L * steps, c.execs(Lib.PRODUCT, "pooling", "forward_training"), "pooling forward on the product's oneDNN\n" + c.tail());
        assertEquals(steps, c.execs(Lib.PRODUCT, "pooling", "forward_training", "alg:pooling_max"), "the max-pool\n" + c.tail());
        assertEquals(2L * steps, c.execs(Lib.PRODUCT, "pooling", "backward"), "pooling backward on the product's oneDNN\n" + c.tail());
        assertEquals(0, c.execs(Lib.LIBND4J, "pooling", ""), "pooling on libnd4j's oneDNN\n" + c.tail());
    }

    @Test
    void switchedOffNothingRunsOnTheProductsOneDnn() throws Exception {
        Result c = VerboseProbe.run("resnet18", "3x64x64", 1, 2, false);
        assertEquals(0, c.execs(Lib.PRODUCT, "", ""), c.tail());
        assertTrue(c.execs(Lib.LIBND4J, "convolution", "") >= c.convs(), "DL4J's own path runs libnd4j's oneDNN convolutions\n" + c.tail());
        assertTrue(c.execs(Lib.LIBND4J, "batch_normalization", "") >= c.batchNorms(), "DL4J's own path runs libnd4j's oneDNN BatchNorms\n" + c.tail());
    }
}
