package io.sparkvision.model.onnx;

import io.sparkvision.image.InputShape;
import io.sparkvision.model.Architectures;
import io.sparkvision.model.ResNet;
import org.deeplearning4j.nn.api.Model;
import io.sparkvision.model.NchwToNhwc;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SpaceToDepthLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every architecture of the zoo exports to ONNX and gives DL4J's answers in ONNX Runtime (OnnxExportCheck: same
 * top-1, logits within 1e-4 of the largest |logit|, BatchNorm statistics set away from 0/1). Each model at a small
 * input it builds for. The VGGs have 129-140M parameters at 10 classes whatever the input (their 25088 x 4096 FC6 after the adaptive
 * pool) and took 25-65 s each here (build, 515+ MB ONNX file, ONNX Runtime load): vgg11bn runs in this suite, the
 * other seven in the "full" tier (OnnxExportFullTest). Every layer type they use is also checked here (conv with
 * ReLU, BatchNorm in a layer stack, the adaptive pool's upsampling and the flatten into FC: alexnet, mobilenetv1).
 */
class OnnxExportTest {
    /** The default suite's models and the input each is checked at. */
    static final Map<String, InputShape> DEFAULT = new LinkedHashMap<>();
    /** The full tier's: the remaining VGGs. */
    static final Map<String, InputShape> FULL = new LinkedHashMap<>();

    static {
        InputShape rgb32 = new InputShape(3, 32, 32);
        DEFAULT.put("lenet5", new InputShape(1, 28, 28));
        DEFAULT.put("alexnet2012", new InputShape(3, 63, 63));
        DEFAULT.put("alexnet", new InputShape(3, 63, 63)); // pool5 leaves 1x1: the adaptive pool is a 6x upsampling
        // One VGG here (~30 s: 129M parameters, a 515 MB ONNX file); the other seven in the full tier.
        DEFAULT.put("vgg11bn", rgb32);
        for (String v : new String[] {"vgg11", "vgg13", "vgg16", "vgg19", "vgg13bn", "vgg16bn", "vgg19bn"}) FULL.put(v, rgb32);
        for (String r : new String[] {"resnet18", "resnet34", "resnet50", "resnet101", "resnet152"}) DEFAULT.put(r, rgb32);
        DEFAULT.put("googlenet", rgb32);
        DEFAULT.put("nin", new InputShape(3, 67, 67));
        DEFAULT.put("densenet121", rgb32);
        DEFAULT.put("mobilenetv1", rgb32);
        DEFAULT.put("mobilenetv2", rgb32);
        DEFAULT.put("allcnnc", new InputShape(3, 16, 16));
        DEFAULT.put("mlp", new InputShape(1, 28, 28)); // dense only: the flatten of a conv-free input
    }

    @TempDir
    Path dir;

    static Set<String> defaultModels() {
        return DEFAULT.keySet();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("defaultModels")
    void sameTop1AndLogitsAsDl4j(String arch) throws Exception {
        System.out.println("onnx-export " + OnnxExportCheck.check(arch, DEFAULT.get(arch), dir));
    }

    @Test
    void everyArchitectureOfTheZooIsChecked() {
        Set<String> checked = new TreeSet<>(DEFAULT.keySet());
        checked.addAll(FULL.keySet());
        assertEquals(new TreeSet<>(Architectures.names()), checked, "add a new architecture to OnnxExportTest's lists");
    }

    /** ResNet in DL4J's default NCHW layout too (the zoo's is channels-last inside DL4J): the same graph comes out. */
    @Test
    void resnetInTheNchwLayout() throws Exception {
        InputShape in = new InputShape(3, 32, 32);
        Model m = new ResNet(18, false).build(in, OnnxExportCheck.CLASSES, 42, new Sgd(0.1), 0);
        try {
            System.out.println("onnx-export " + OnnxExportCheck.check("resnet18-nchw", m, in, dir, System.nanoTime()));
        } finally {
            m.close();
        }
    }

    /**
     * A channels-last conv stack flattened straight into a dense layer (no zoo model does this; the ResNets pool
     * globally first): DL4J flattens [h, w, c] there, so the NCHW ONNX graph must transpose before its Flatten.
     */
    @Test
    void channelsLastFeatureMapsFlattenAsDl4jFlattensThem() throws Exception {
        InputShape in = new InputShape(3, 8, 8);
        ComputationGraph net = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(3).weightInit(WeightInit.RELU)
                .graphBuilder().addInputs("in").setInputTypes(InputType.convolutional(8, 8, 3))
                .addVertex("nhwc", new PreprocessorVertex(new NchwToNhwc()), "in")
                .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.RELU).build(), "nhwc")
                .addLayer("bn", new BatchNormalization.Builder().build(), "conv")
                .addLayer("fc", new DenseLayer.Builder().nOut(6).activation(Activation.TANH).build(), "bn")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build(), "fc")
                .setOutputs("out").build());
        net.init();
        assertEquals(CNN2DFormat.NHWC, ((ConvolutionLayer) net.getLayer("conv").conf().getLayer()).getCnn2dDataFormat());
        System.out.println("onnx-export " + OnnxExportCheck.check("nhwc-flatten", net, in, dir, System.nanoTime()));
    }

    @Test
    void aLayerWithoutAnOnnxMappingIsRefusedByNameAndType() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).list()
                .layer(new ConvolutionLayer.Builder(3, 3).name("conv").nOut(4).activation(Activation.RELU).build())
                .layer(new SpaceToDepthLayer.Builder(2).name("s2d").build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nOut(3).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(8, 8, 3)).build());
        net.init();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnnxExporter.export(net, new InputShape(3, 8, 8), Map.of()));
        assertTrue(e.getMessage().contains("layer 's2d' (SpaceToDepthLayer)"), e.getMessage());
    }
}
