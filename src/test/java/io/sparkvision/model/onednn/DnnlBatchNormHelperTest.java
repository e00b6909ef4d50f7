package io.sparkvision.model.onednn;

import io.sparkvision.image.InputShape;
import io.sparkvision.model.ResNet;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import static io.sparkvision.model.onednn.DnnlConvolutionHelperTest.strip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The product's oneDNN BatchNorm against DL4J's own path (the same network built twice from one seed, the product's
 * helpers installed in one), with the tolerances of {@link DnnlConvolutionHelperTest}: inference output (global
 * statistics) 1e-5 and every gradient 1e-4 relative to each array's largest magnitude, both layouts; ResNet-18 with
 * conv and BatchNorm on the product's path after 4 Adam steps within 1e-2 of the whole update (L2), running mean and
 * variance included (they are parameters of the network).
 */
class DnnlBatchNormHelperTest {

    @Test
    void resnet18ChannelsLastMatchesDl4j() {
        // 20 convs + 20 BatchNorms
        DnnlConvolutionHelperTest.compare(() -> new ResNet(18).build(new InputShape(3, 64, 64), 5, 7, new Sgd(0.1), 0),
                Nd4j.rand(DataType.FLOAT, 4, 3, 64, 64), 5, 40, true);
    }

    @Test
    void convBatchNormReluStackMatchesDl4jInBothLayouts() {
        for (CNN2DFormat f : CNN2DFormat.values()) {
            // conv + BatchNorm per layout, the input in that layout
            INDArray x = f == CNN2DFormat.NHWC ? Nd4j.rand(DataType.FLOAT, 6, 12, 12, 3) : Nd4j.rand(DataType.FLOAT, 6, 3, 12, 12);
            DnnlConvolutionHelperTest.compare(() -> stack(f), x, 4, 2, true);
        }
    }

    @Test
    void resnet18AfterAdamStepsHasTheSameParameters() {
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 3, 64, 64);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 4, 5);
        for (int i = 0; i < 4; i++) y.putScalar(i, i, 1f);
        ComputationGraph plain = (ComputationGraph) new ResNet(18).build(new InputShape(3, 64, 64), 5, 7, new Adam(1e-3), 0);
        ComputationGraph fast = (ComputationGraph) new ResNet(18).build(new InputShape(3, 64, 64), 5, 7, new Adam(1e-3), 0);
        strip(plain);
        strip(fast);
        assertEquals(40, NativePath.installAlways(fast, true)); // conv + BatchNorm (ReLU pieces: DnnlReluFusionTest)
        INDArray start = plain.params().dup();
        for (int i = 0; i < 4; i++) {
            plain.fit(new DataSet(x, y));
            fast.fit(new DataSet(x, y));
        }
        double moved = plain.params().sub(start).norm2Number().doubleValue();
        double apart = plain.params().sub(fast.params()).norm2Number().doubleValue();
        assertTrue(moved > 0.01, "the parameters moved: " + moved);
        assertTrue(apart / moved <= DnnlConvolutionHelperTest.TRAINED_TOL, "after 4 Adam steps the two paths' parameters are "
                + apart + " apart (L2), " + (apart / moved) + " of the update " + moved);
        assertBatchNormHelpers(fast, 20);
    }

    private static Model stack(CNN2DFormat f) {
        var conf = new NeuralNetConfiguration.Builder().seed(5).updater(new Sgd(0.1)).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(8).dataFormat(f).hasBias(false)
                        .activation(Activation.IDENTITY).build()) // a bias before BatchNorm has a zero gradient: only noise to compare
                .layer(new BatchNormalization.Builder().dataFormat(f).eps(1e-5).decay(0.9).build())
                .layer(new ActivationLayer.Builder().activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(4).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(12, 12, 3, f)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        // DL4J takes each layer's layout from the input type: checked, so both layouts are really tested.
        assertEquals(f, ((BatchNormalization) net.getLayer(1).conf().getLayer()).getCnn2DFormat());
        return net;
    }

    static void assertBatchNormHelpers(Model m, int expected) {
        Layer[] layers = m instanceof ComputationGraph g ? g.getLayers() : ((MultiLayerNetwork) m).getLayers();
        int n = 0;
        for (Layer l : layers)
            if (l.getClass() == org.deeplearning4j.nn.layers.normalization.BatchNormalization.class) {
                var h = assertInstanceOf(DnnlBatchNormHelper.class, ((org.deeplearning4j.nn.layers.normalization.BatchNormalization) l).getHelper(),
                        "a BatchNorm layer dropped the product's helper (DL4J drops a helper that threw)");
                assertTrue(h.primitiveSets() >= 1, "the helper never ran");
                assertEquals(0, DnnlConvolutionHelperTest.failures(l, org.deeplearning4j.nn.layers.normalization.BatchNormalization.class),
                        "DL4J counted a failure of the helper");
                n++;
            }
        assertEquals(expected, n);
    }
}
