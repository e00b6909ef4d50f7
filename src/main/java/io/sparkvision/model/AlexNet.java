package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;

import java.util.ArrayList;
import java.util.List;

/**
 * AlexNet in two layouts.
 * <ul>
 * <li>{@code alexnet2012}: Krizhevsky, Sutskever, Hinton 2012, with the two GPU halves merged (no grouping):
 * conv 96@11x11/4, LRN, maxpool 3/2, conv 256@5x5, LRN, maxpool, conv 384, 384, 256 @3x3, maxpool, FC 4096,
 * 4096, 1000 with dropout 0.5: 62,378,344 parameters. The paper's 224 input only gives its 55x55 conv1 map with
 * 227 pixels or padding 2; we pad 2 (the usual reading). LRN: k=2, n=5, alpha=1e-4, beta=0.75 as in the paper.</li>
 * <li>{@code alexnet}: torchvision's variant (from "One weird trick", Krizhevsky 2014): 64/192/384/256/256
 * filters, no LRN, AdaptiveAvgPool2d(6) before the classifier: 61,100,840 parameters.</li>
 * </ul>
 * Minimum input 63x63: conv1 then three 3/2 max pools need 63 pixels to leave 1x1 (then upsampled to 6x6 as
 * torchvision's adaptive pool does; alexnet2012 has no adaptive pool and needs the same 63 to reach FC6 with 1x1,
 * so for it FC6's width, and thus its parameter count, follows the input).
 */
public final class AlexNet implements Architecture {
    private final boolean paper2012;

    private AlexNet(boolean paper2012) {
        this.paper2012 = paper2012;
    }

    public static AlexNet paper2012() {
        return new AlexNet(true);
    }

    public static AlexNet torchvision() {
        return new AlexNet(false);
    }

    @Override
    public String name() {
        return paper2012 ? "alexnet2012" : "alexnet";
    }

    @Override
    public String description() {
        return paper2012 ? "AlexNet 2012 paper, ungrouped, LRN (96/256/384/384/256)"
                : "AlexNet torchvision variant (64/192/384/256/256, adaptive pool 6x6)";
    }

    @Override
    public InputShape defaultInput() {
        return new InputShape(3, 224, 224);
    }

    @Override
    public InputShape minimumInput() {
        return new InputShape(1, 63, 63);
    }

    @Override
    public NetConf configure(InputShape in, int classes, long seed, IUpdater updater, double weightDecay) {
        requireAtLeast(in);
        int[] f = paper2012 ? new int[] {96, 256, 384, 384, 256} : new int[] {64, 192, 384, 256, 256};
        List<Layer> layers = new ArrayList<>();
        // The 2012 paper's conv1..conv5 have biases (it initialises some of them to 1); torchvision's too.
        layers.add(Layers.conv("conv1", f[0], 11, 4, 2, true, Activation.RELU));
        if (paper2012) layers.add(lrn("lrn1"));
        layers.add(Layers.maxPool("pool1", 3, 2, 0)); // overlapping pooling, the paper's s=2, z=3
        layers.add(Layers.conv("conv2", f[1], 5, 1, 2, true, Activation.RELU));
        if (paper2012) layers.add(lrn("lrn2"));
        layers.add(Layers.maxPool("pool2", 3, 2, 0));
        layers.add(Layers.conv("conv3", f[2], 3, 1, 1, true, Activation.RELU));
        layers.add(Layers.conv("conv4", f[3], 3, 1, 1, true, Activation.RELU));
        layers.add(Layers.conv("conv5", f[4], 3, 1, 1, true, Activation.RELU));
        layers.add(Layers.maxPool("pool5", 3, 2, 0));
        InputType inType = InputType.convolutional(in.height(), in.width(), in.channels());
        if (!paper2012) {
            long size = Layers.outputOf(layers, inType).getHeight();
            Layer adaptive = Layers.adaptiveAvgPool(name(), "avgpool", size, 6);
            if (adaptive != null) layers.add(adaptive);
        }
        // Dropout 0.5 (DL4J: retain 0.5, applied to a layer's input). The 2012 paper drops the OUTPUTS of FC6 and
        // FC7, i.e. the inputs of FC7 and FC8; torchvision drops the inputs of its first two Linear layers.
        layers.add(Layers.dense("fc6", 4096, paper2012 ? 1.0 : 0.5));
        layers.add(Layers.dense("fc7", 4096, 0.5));
        layers.add(Layers.softmax("fc8", classes, paper2012 ? 0.5 : 1.0));
        NeuralNetConfiguration.ListBuilder list = Layers.cached(seed, updater, weightDecay).list();
        for (Layer l : layers) list.layer(l);
        return NetConf.of(in, list.setInputType(inType).build());
    }

    private static LocalResponseNormalization lrn(String name) {
        return new LocalResponseNormalization.Builder().name(name).k(2).n(5).alpha(1e-4).beta(0.75).build();
    }
}
