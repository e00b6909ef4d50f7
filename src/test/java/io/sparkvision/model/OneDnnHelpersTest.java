package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNSubsamplingHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import io.sparkvision.model.onednn.VerboseProbe;
import io.sparkvision.model.onednn.VerboseProbe.Lib;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DL4J leaves its oneDNN helpers off and, even when asked, looks them up under a class name ND4J no longer has.
 * The product turns them on (org.nd4j.nativeblas.Nd4jCpu + the helpers.disable=false flag). This fails the build
 * if a dependency bump or a lost flag silently sends convolutions back to the 3-4x slower built-in path.
 * {@link #everyConvPoolingAndBatchNormLayerRunsOnOneDnn} checks it per layer on the big models by counting what oneDNN
 * itself executed.
 */
class OneDnnHelpersTest {
    @Test
    void theFlagIsSetForTestsAndJobs() {
        assertEquals("false", System.getProperty("org.eclipse.deeplearning4j.helpers.disable"),
                "surefire's argLine and scripts/lib.sh must pass -Dorg.eclipse.deeplearning4j.helpers.disable=false");
    }

    @Test
    void theNativeLibraryHasOneDnnAndDl4jSeesIt() {
        assertTrue(BaseMKLDNNHelper.mklDnnEnabled(),
                "DL4J does not see oneDNN: wrong nd4j-native classifier (needs -onednn) or the Nd4jCpu shim no longer matches");
    }

    @Test
    void convAndPoolLayersGetOneDnnHelpers() {
        MultiLayerNetwork net = new LeNet5().build(new InputShape(1, 28, 28), 10, 1, new Sgd(0.1), 0);
        net.fit(new org.nd4j.linalg.dataset.DataSet(Nd4j.rand(4, 1, 28, 28), Nd4j.eye(10).getRows(0, 1, 2, 3)));
        Layer conv = net.getLayer(0), pool = net.getLayer(1);
        assertInstanceOf(ConvolutionLayer.class, conv);
        // The product's own oneDNN conv path where it is on (model/onednn), else libnd4j's through DL4J's helper.
        Class<?> expected = io.sparkvision.model.onednn.NativePath.enabled()
                ? io.sparkvision.model.onednn.DnnlConvolutionHelper.class : MKLDNNConvHelper.class;
        assertTrue(expected.isInstance(((ConvolutionLayer) conv).getHelper()), "conv layer runs without oneDNN" + ": " + ((ConvolutionLayer) conv).getHelper());
        assertInstanceOf(SubsamplingLayer.class, pool);
        assertInstanceOf(MKLDNNSubsamplingHelper.class, ((SubsamplingLayer) pool).getHelper(), "pooling layer runs without oneDNN");
    }

    /**
     * Every conv, pooling (SubsamplingLayer) and BatchNorm layer of the big models runs on oneDNN (the product's or
     * libnd4j's, whichever the product puts there), counted from oneDNN's own {@code DNNL_VERBOSE} log of one training
     * step in a child JVM: one forward, one backward-data (but for ResNet's stem, below) and one backward-weights convolution per conv layer (the
     * stacks keep their conv outputs, ActivationCacheTest); one pooling backward and at least one pooling forward per
     * pooling layer (libnd4j's pooling backward re-runs the forward for its workspace), and on the product's path also
     * per global pooling layer (DL4J M2.1 has no oneDNN path for global pooling; the product's layer object runs one);
     * one BatchNorm forward and one backward per BatchNorm layer; none on oneDNN's reference kernels. A single layer on
     * DL4J's built-in path (a lost helper, a helper that threw and was dropped, a pooling layer object the product did
     * not replace) lowers a count and fails this test. Small inputs keep it cheap.
     */
    @ParameterizedTest
    @CsvSource({"alexnet2012, 3x63x63", "vgg16, 3x32x32", "resnet50, 3x64x64"})
    void everyConvPoolingAndBatchNormLayerRunsOnOneDnn(String model, String input) throws Exception {
        int steps = 1;
        VerboseProbe.Result r = VerboseProbe.run(model, input, steps, 2, io.sparkvision.model.onednn.NativePath.enabled());
        assertTrue(r.convs() > 0 && r.pools() > 0, model + " has conv and pooling layers\n" + r.tail());
        String why = model + ": a layer ran without oneDNN\n" + r.tail();
        assertEquals(r.convs() * steps, r.execs(Lib.EITHER, "convolution", "forward"), "conv forward, " + why);
        // The product's path skips backward-data for the conv that sees the network's input (nobody reads that
        // gradient): ResNet's NHWC stem; AlexNet's and VGG's NCHW convs stay on DL4J's helper, which computes it.
        long inputGradientsSkipped = io.sparkvision.model.onednn.NativePath.enabled() && model.startsWith("resnet") ? steps : 0;
        assertEquals(r.convs() * steps - inputGradientsSkipped, r.execs(Lib.EITHER, "convolution", "backward_data"), "conv backward data, " + why);
        assertEquals(r.convs() * steps, r.execs(Lib.EITHER, "convolution", "backward_weights"), "conv backward weights, " + why);
        // the product replaces a graph's pooling layer objects (ResNet); the stacks (MultiLayerNetworks) keep DL4J's
        long globalPools = io.sparkvision.model.onednn.NativePath.enabled() && model.startsWith("resnet") ? r.globalPools() : 0;
        assertEquals(globalPools, r.globalPoolsOnProduct(), "global pooling layers on the product's path, " + why);
        assertEquals((r.pools() + globalPools) * steps, r.execs(Lib.EITHER, "pooling", "backward"), "pooling backward, " + why);
        assertTrue(r.execs(Lib.EITHER, "pooling", "forward") >= (r.pools() + globalPools) * steps, "pooling forward, " + why);
        assertEquals(r.batchNorms() * steps, r.execs(Lib.EITHER, "batch_normalization", "forward"), "BatchNorm forward, " + why);
        assertEquals(r.batchNorms() * steps, r.execs(Lib.EITHER, "batch_normalization", "backward"), "BatchNorm backward, " + why);
        assertEquals(java.util.List.of(), r.reference("convolution", "pooling", "batch_normalization"), model + ": oneDNN's reference kernels ran");
    }
}
