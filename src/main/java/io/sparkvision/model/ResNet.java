package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * ResNet (He et al. 2015) as torchvision builds it: conv1 7x7/2 + BN + ReLU, maxpool 3/2, four stages of
 * basic blocks (18, 34) or bottleneck blocks (50, 101, 152) with 64/128/256/512 base widths, global average
 * pooling, FC. Convs have no bias (BatchNorm's beta replaces it; DL4J's zoo ResNet50 keeps them: +26,560).
 * The shortcut is the identity unless the shape changes, then a 1x1 conv (stride 2 where the stage downsamples)
 * + BN: the paper's option B. Bottlenecks stride in the 3x3 conv (torchvision's "v1.5"; the count is the same as
 * the paper's v1, which strides in the first 1x1). Parameters at 1000 classes: 11,689,512 / 21,797,672 /
 * 25,557,032 / 44,549,160 / 60,192,808.
 * Minimum input 32x32, the network's total stride: the last stage then sees 1x1.
 */
public final class ResNet implements Architecture {
    private final int depth;
    private final boolean channelsLast;

    public ResNet(int depth) {
        this(depth, true);
    }

    /**
     * {@code channelsLast = false} builds DL4J's default layout (NCHW throughout, no activation cache): the same
     * function and parameters, kept so tests and benchmarks can compare the two side by side.
     */
    public ResNet(int depth, boolean channelsLast) {
        if (blocks(depth) == null) throw new IllegalArgumentException("ResNet depth 18/34/50/101/152, got " + depth);
        this.depth = depth;
        this.channelsLast = channelsLast;
    }

    /** Blocks per stage, the paper's Table 1. */
    static int[] blocks(int depth) {
        return switch (depth) {
            case 18 -> new int[] {2, 2, 2, 2};
            case 34, 50 -> new int[] {3, 4, 6, 3};
            case 101 -> new int[] {3, 4, 23, 3};
            case 152 -> new int[] {3, 8, 36, 3};
            default -> null;
        };
    }

    private boolean bottleneck() {
        return depth >= 50;
    }

    @Override
    public String name() {
        return "resnet" + depth;
    }

    @Override
    public String description() {
        return "ResNet-" + depth + " (" + (bottleneck() ? "bottleneck" : "basic") + " blocks, BN, projection shortcuts)";
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
        Graph g = channelsLast ? Graph.channelsLast(seed, updater, weightDecay, in) : new Graph(seed, updater, weightDecay, in);
        String x = g.convBn("conv1", channelsLast ? Graph.NHWC_INPUT : "input", 64, 7, 2, 3, Activation.RELU);
        x = g.layer("maxpool", Layers.maxPool("maxpool", 3, 2, 1), x);
        int channels = 64;
        int[] n = blocks(depth);
        for (int stage = 0; stage < 4; stage++) {
            int width = 64 << stage;
            for (int i = 0; i < n[stage]; i++) {
                int stride = (stage > 0 && i == 0) ? 2 : 1;
                String name = "layer" + (stage + 1) + "." + i;
                int out = bottleneck() ? width * 4 : width;
                String body = bottleneck() ? bottleneckBody(g, name, x, width, stride) : basicBody(g, name, x, width, stride);
                String shortcut = (stride != 1 || channels != out)
                        ? g.convBn(name + ".downsample", x, out, 1, stride, 0, null)
                        : x;
                x = g.layer(name + ".relu", Layers.act(name + ".relu", Activation.RELU), g.add(name + ".add", body, shortcut));
                channels = out;
            }
        }
        x = g.globalAvgPool("avgpool", x);
        g.layer("fc", Layers.softmax("fc", classes, 1.0), x);
        return NetConf.of(in, g.build("fc"));
    }

    /** Two 3x3 convs; the second BN's output is added to the shortcut before the ReLU. */
    private static String basicBody(Graph g, String name, String x, int width, int stride) {
        String y = g.convBn(name + ".1", x, width, 3, stride, 1, Activation.RELU);
        return g.convBn(name + ".2", y, width, 3, 1, 1, null);
    }

    /** 1x1 reduce, 3x3 (strided), 1x1 expand x4. */
    private static String bottleneckBody(Graph g, String name, String x, int width, int stride) {
        String y = g.convBn(name + ".1", x, width, 1, 1, 0, Activation.RELU);
        y = g.convBn(name + ".2", y, width, 3, stride, 1, Activation.RELU);
        return g.convBn(name + ".3", y, width * 4, 1, 1, 0, null);
    }
}
