package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNSubsamplingHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DL4J leaves its oneDNN helpers off and, even when asked, looks them up under a class name ND4J no longer has.
 * The product turns them on (org.nd4j.nativeblas.Nd4jCpu + the helpers.disable=false flag). This fails the build
 * if a dependency bump or a lost flag silently sends convolutions back to the 3-4x slower built-in path.
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
}
