package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * MobileNet v2 (Sandler et al. 2018), width 1.0, as torchvision: a 3x3/2 conv to 32, seven groups of inverted
 * residual blocks (expand 1x1 + ReLU6, 3x3 depthwise + ReLU6, linear 1x1 projection; every conv without bias and
 * followed by BN), residual add when stride 1 and channels unchanged, a 1x1 conv to 1280, global average pooling,
 * dropout 0.2, FC: 3,504,872 parameters at 1000 classes. A ComputationGraph because of the residual adds.
 * Minimum input 32x32 (total stride 32).
 */
public final class MobileNetV2 implements Architecture {
    /** t (expansion), c (output channels), n (repeats), s (first stride): the paper's Table 2. */
    private static final int[][] SETTINGS = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
            {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};

    @Override
    public String name() {
        return "mobilenetv2";
    }

    @Override
    public String description() {
        return "MobileNet v2 1.0 (inverted residuals, ReLU6)";
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
        String x = g.convBn("features.0", "input", 32, 3, 2, 1, Activation.RELU6);
        int channels = 32, idx = 1;
        for (int[] s : SETTINGS) {
            for (int i = 0; i < s[2]; i++) {
                int stride = i == 0 ? s[3] : 1;
                String n = "features." + idx++;
                int hidden = channels * s[0];
                String y = x;
                if (s[0] != 1) y = g.convBn(n + ".expand", y, hidden, 1, 1, 0, Activation.RELU6);
                y = g.layer(n + ".dw.conv", new org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D.Builder(3, 3)
                        .name(n + ".dw.conv").depthMultiplier(1).stride(stride, stride).padding(1, 1).hasBias(false)
                        .activation(Activation.IDENTITY).build(), y);
                y = g.layer(n + ".dw.bn", Layers.bn(n + ".dw.bn"), y);
                y = g.layer(n + ".dw.act", Layers.act(n + ".dw.act", Activation.RELU6), y);
                y = g.convBn(n + ".project", y, s[1], 1, 1, 0, null); // linear bottleneck: no activation
                x = (stride == 1 && channels == s[1]) ? g.add(n + ".add", x, y) : y;
                channels = s[1];
            }
        }
        x = g.convBn("features." + idx, x, 1280, 1, 1, 0, Activation.RELU6);
        x = g.globalAvgPool("avgpool", x);
        g.layer("classifier", Layers.softmax("classifier", classes, 0.8), x);
        return NetConf.of(in, g.build("classifier"));
    }
}
