package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;

import java.util.ArrayList;
import java.util.List;

/**
 * VGG (Simonyan and Zisserman 2014), configurations A, B, D, E = VGG-11/13/16/19, optionally with BatchNorm after
 * every conv (torchvision's vgg*_bn, which keeps the conv biases). All convs 3x3 pad 1, five 2x2 max pools,
 * AdaptiveAvgPool2d(7) as torchvision, then FC 4096, 4096, classes with dropout 0.5 before the first two.
 * VGG-16 is 138,357,544 parameters at 1000 classes; VGG-19 143,667,240 (DL4J's zoo VGG19 lacks one FC layer).
 * Minimum input 32x32: five halvings leave 1x1, which the adaptive pool replicates to 7x7 exactly as PyTorch does.
 */
public final class Vgg implements Architecture {
    private static final int M = -1; // max pool marker in the configuration tables

    private final int depth;
    private final boolean batchNorm;

    public Vgg(int depth, boolean batchNorm) {
        if (depth != 11 && depth != 13 && depth != 16 && depth != 19) throw new IllegalArgumentException("VGG depth 11/13/16/19, got " + depth);
        this.depth = depth;
        this.batchNorm = batchNorm;
    }

    /** The paper's Table 1, columns A, B, D, E. */
    static int[] table(int depth) {
        return switch (depth) {
            case 11 -> new int[] {64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M};
            case 13 -> new int[] {64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M};
            case 16 -> new int[] {64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M};
            default -> new int[] {64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512, M};
        };
    }

    @Override
    public String name() {
        return "vgg" + depth + (batchNorm ? "bn" : "");
    }

    @Override
    public String description() {
        return "VGG-" + depth + (batchNorm ? " with BatchNorm" : "") + " (adaptive pool 7x7, FC 4096-4096)";
    }

    @Override
    public InputShape defaultInput() {
        return new InputShape(3, 224, 224);
    }

    @Override
    public InputShape minimumInput() {
        return new InputShape(1, 32, 32);
    }

    @Override
    public NetConf configure(InputShape in, int classes, long seed, IUpdater updater, double weightDecay) {
        requireAtLeast(in);
        List<Layer> layers = new ArrayList<>();
        int block = 1, conv = 1;
        for (int c : table(depth)) {
            if (c == M) {
                layers.add(Layers.maxPool("pool" + block, 2, 2, 0));
                block++;
                conv = 1;
                continue;
            }
            String n = "conv" + block + "_" + conv++;
            if (batchNorm) {
                layers.add(Layers.conv(n, c, 3, 1, 1, true, Activation.IDENTITY));
                layers.add(Layers.bn(n + "_bn"));
                layers.add(Layers.act(n + "_relu", Activation.RELU));
            } else {
                layers.add(Layers.conv(n, c, 3, 1, 1, true, Activation.RELU));
            }
        }
        InputType inType = InputType.convolutional(in.height(), in.width(), in.channels());
        Layer adaptive = Layers.adaptiveAvgPool(name(), "avgpool", Layers.outputOf(layers, inType).getHeight(), 7);
        if (adaptive != null) layers.add(adaptive);
        layers.add(Layers.dense("fc6", 4096, 0.5));
        layers.add(Layers.dense("fc7", 4096, 0.5));
        layers.add(Layers.softmax("fc8", classes, 1.0));
        NeuralNetConfiguration.ListBuilder list = Layers.cached(seed, updater, weightDecay).list();
        for (Layer l : layers) list.layer(l);
        return NetConf.of(in, list.setInputType(inType).build());
    }
}
