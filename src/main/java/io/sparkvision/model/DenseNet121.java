package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * DenseNet-121 (Huang et al. 2016), DenseNet-BC as torchvision builds it: growth rate 32, bottleneck width 4x32,
 * blocks of 6/12/24/16 layers, transitions halving channels (compression 0.5) with 2x2 average pooling.
 * Pre-activation order inside each layer: BN, ReLU, 1x1 conv, BN, ReLU, 3x3 conv; convs without bias; each
 * layer's 32 new channels are concatenated to everything before (one MergeVertex per layer, which is the same
 * tensor as torchvision's concat of all previous features). Final BN + ReLU, global average pooling, FC:
 * 7,978,856 parameters at 1000 classes.
 * Minimum input 32x32 (total stride 32).
 */
public final class DenseNet121 implements Architecture {
    private static final int GROWTH = 32, BOTTLENECK = 4;
    private static final int[] BLOCKS = {6, 12, 24, 16};

    @Override
    public String name() {
        return "densenet121";
    }

    @Override
    public String description() {
        return "DenseNet-121 (BC, growth 32, blocks 6/12/24/16)";
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
        Graph g = new Graph(seed, updater, weightDecay, in);
        String x = g.convBn("conv0", "input", 64, 7, 2, 3, Activation.RELU);
        x = g.layer("pool0", Layers.maxPool("pool0", 3, 2, 1), x);
        int channels = 64;
        for (int b = 0; b < BLOCKS.length; b++) {
            for (int i = 0; i < BLOCKS[b]; i++) {
                String n = "denseblock" + (b + 1) + ".layer" + (i + 1);
                String y = g.bnAct(n + ".pre1", x, Activation.RELU);
                y = g.layer(n + ".conv1", Layers.conv(n + ".conv1", BOTTLENECK * GROWTH, 1, 1, 0, false, Activation.IDENTITY), y);
                y = g.bnAct(n + ".pre2", y, Activation.RELU);
                y = g.layer(n + ".conv2", Layers.conv(n + ".conv2", GROWTH, 3, 1, 1, false, Activation.IDENTITY), y);
                x = g.concat(n + ".concat", x, y);
                channels += GROWTH;
            }
            if (b < BLOCKS.length - 1) {
                String n = "transition" + (b + 1);
                channels /= 2;
                String y = g.bnAct(n, x, Activation.RELU);
                y = g.layer(n + ".conv", Layers.conv(n + ".conv", channels, 1, 1, 0, false, Activation.IDENTITY), y);
                x = g.layer(n + ".pool", Layers.avgPool(n + ".pool", 2, 2), y);
            }
        }
        x = g.bnAct("norm5", x, Activation.RELU);
        x = g.globalAvgPool("avgpool", x);
        g.layer("classifier", Layers.softmax("classifier", classes, 1.0), x);
        return NetConf.of(in, g.build("classifier"));
    }
}
