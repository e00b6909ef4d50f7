package io.sparkvision.model.onnx;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.impl.ActivationIdentity;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which torchvision module each of the zoo's layers with parameters is: the zoo names its layers after torchvision's
 * forward() (model/ResNet.java, DenseNet121.java) or numbers them as the papers do (VGG, AlexNet), and torchvision's
 * ONNX export keeps the modules' parameter names ({@code layer1.0.conv1.weight}, {@code features.3.bias}...).
 */
final class OnnxImportMapping {
    /** A zoo layer with parameters and the torchvision module prefix its tensors carry. */
    record Target(Layer layer, String zooName, String torchPrefix) {
    }

    /** The architectures whose layout is torchvision's, and the torchvision constructor of each. */
    static boolean supported(String architecture) {
        return architecture.matches("resnet(18|34|50|101|152)|vgg(11|13|16|19)(bn)?|densenet121|alexnet");
    }

    /** The torchvision.models function that builds the same network ("vgg16bn" is torchvision's vgg16_bn). */
    static String torchvisionName(String architecture) {
        return architecture.endsWith("bn") ? architecture.substring(0, architecture.length() - 2) + "_bn" : architecture;
    }

    private OnnxImportMapping() {
    }

    /** The layers with parameters, in forward order, with their torchvision names. */
    static List<Target> targets(String architecture, Model net) {
        List<Target> out = new ArrayList<>();
        if (net instanceof MultiLayerNetwork mln) {
            // VGG / AlexNet: torchvision's nn.Sequential "features" numbers every module (conv, BatchNorm, ReLU, max pool),
            // its "classifier" numbers Dropout, Linear and ReLU. Walk the zoo's stack and count the same way.
            int feature = 0, dense = 0;
            int[] classifier = architecture.equals("alexnet") ? new int[] {1, 4, 6} : new int[] {0, 3, 6};
            for (Layer l : mln.getLayers()) {
                org.deeplearning4j.nn.conf.layers.Layer conf = l.conf().getLayer();
                String name = conf.getLayerName();
                if (conf instanceof ConvolutionLayer c) {
                    out.add(new Target(l, name, "features." + feature));
                    // a conv with its ReLU inside is two modules in torchvision (Conv2d, ReLU)
                    feature += (c.getActivationFn() instanceof ActivationIdentity) ? 1 : 2;
                } else if (conf instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization) {
                    out.add(new Target(l, name, "features." + feature++));
                } else if (conf instanceof ActivationLayer || conf instanceof SubsamplingLayer) {
                    feature++;
                } else if (conf instanceof FeedForwardLayer) {
                    out.add(new Target(l, name, "classifier." + classifier[dense++]));
                }
            }
            return out;
        }
        ComputationGraph graph = (ComputationGraph) net;
        for (Layer l : graph.getLayers()) {
            if (l.numParams() == 0) continue;
            String name = l.conf().getLayer().getLayerName();
            out.add(new Target(l, name, architecture.startsWith("resnet") ? resnet(name) : densenet(name)));
        }
        return out;
    }

    private static final Pattern RESNET_BLOCK = Pattern.compile("(layer\\d+\\.\\d+)\\.(\\d)\\.(conv|bn)");
    private static final Pattern RESNET_DOWN = Pattern.compile("(layer\\d+\\.\\d+)\\.downsample\\.(conv|bn)");

    /** model/ResNet.java: conv1.conv, layer2.0.1.bn, layer2.0.downsample.conv, fc. */
    static String resnet(String zoo) {
        if (zoo.equals("conv1.conv")) return "conv1";
        if (zoo.equals("conv1.bn")) return "bn1";
        if (zoo.equals("fc")) return "fc";
        Matcher m = RESNET_BLOCK.matcher(zoo);
        if (m.matches()) return m.group(1) + "." + m.group(3) + m.group(2);
        m = RESNET_DOWN.matcher(zoo);
        if (m.matches()) return m.group(1) + ".downsample." + (m.group(2).equals("conv") ? "0" : "1");
        throw new IllegalStateException("no torchvision name for ResNet layer " + zoo);
    }

    private static final Pattern DENSE_LAYER = Pattern.compile("denseblock(\\d)\\.layer(\\d+)\\.(pre1\\.bn|conv1|pre2\\.bn|conv2)");
    private static final Pattern TRANSITION = Pattern.compile("transition(\\d)\\.(bn|conv)");

    /** model/DenseNet121.java: conv0.conv, denseblock1.layer1.pre1.bn, transition1.conv, norm5.bn, classifier. */
    static String densenet(String zoo) {
        if (zoo.equals("conv0.conv")) return "features.conv0";
        if (zoo.equals("conv0.bn")) return "features.norm0";
        if (zoo.equals("norm5.bn")) return "features.norm5";
        if (zoo.equals("classifier")) return "classifier";
        Matcher m = DENSE_LAYER.matcher(zoo);
        if (m.matches()) {
            String part = switch (m.group(3)) {
                case "pre1.bn" -> "norm1";
                case "pre2.bn" -> "norm2";
                default -> m.group(3);
            };
            return "features.denseblock" + m.group(1) + ".denselayer" + m.group(2) + "." + part;
        }
        m = TRANSITION.matcher(zoo);
        if (m.matches()) return "features.transition" + m.group(1) + "." + (m.group(2).equals("bn") ? "norm" : "conv");
        throw new IllegalStateException("no torchvision name for DenseNet layer " + zoo);
    }
}
