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
 * DL4J's path fails this test. Switched off, the counts flip.
 */
class NativePathPrimitivesTest {
    @Test
    void resnet18RunsEveryConvolutionAndBatchNormOnTheProductsOneDnn() throws Exception {
        int steps = 2;
        Result c = VerboseProbe.run("resnet18", "3x64x64", steps, 2, true);
        assertEquals(20, c.convs(), c.tail());
        assertEquals(20, c.batchNorms(), c.tail());
        // forward + backward data + backward weights per conv per step
        assertEquals(3 * c.convs() * steps, c.execs(Lib.PRODUCT, "convolution", ""), "convolutions on the product's oneDNN\n" + c.tail());
        assertEquals(0, c.execs(Lib.LIBND4J, "convolution", ""), "convolutions that fell back to libnd4j's oneDNN\n" + c.tail());
        // forward (training, batch statistics inside) + backward per BatchNorm per step
        assertEquals(2 * c.batchNorms() * steps, c.execs(Lib.PRODUCT, "batch_normalization", ""), "BatchNorms on the product's oneDNN\n" + c.tail());
        assertEquals(0, c.execs(Lib.LIBND4J, "batch_normalization", ""), "BatchNorms that fell back to libnd4j's oneDNN\n" + c.tail());
    }

    @Test
    void switchedOffNothingRunsOnTheProductsOneDnn() throws Exception {
        Result c = VerboseProbe.run("resnet18", "3x64x64", 1, 2, false);
        assertEquals(0, c.execs(Lib.PRODUCT, "", ""), c.tail());
        assertTrue(c.execs(Lib.LIBND4J, "convolution", "") >= c.convs(), "DL4J's own path runs libnd4j's oneDNN convolutions\n" + c.tail());
        assertTrue(c.execs(Lib.LIBND4J, "batch_normalization", "") >= c.batchNorms(), "DL4J's own path runs libnd4j's oneDNN BatchNorms\n" + c.tail());
    }
}
