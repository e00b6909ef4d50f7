package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * GoogLeNet / Inception-v1 (Szegedy et al. 2014) in torchvision's layout, which is what gives the published
 * 6,624,904 parameters: every conv is conv(no bias) + BatchNorm(eps 0.001) + ReLU, and the "5x5" branch of each
 * Inception module uses a 3x3 kernel (a bug torchvision kept for its pretrained weights). With the paper's 5x5
 * kernels the same layout has 7,005,832 parameters; we follow torchvision so counts and weights are comparable.
 * Max pools use ceil mode as in torchvision (DL4J's Same mode gives the same windows here: pad only at the end).
 * The auxiliary classifiers (avgpool 5x5/3, 1x1 conv 128, FC 1024, dropout 0.7, FC classes, on 4a and 4d) are
 * optional and off by default; with them the graph has three outputs (main, aux1, aux2) and 13,004,888 parameters.
 * Minimum input 32x32 (total stride 32) without aux heads; 65x65 with them (their 5x5 pool needs a 5x5 map).
 */
public final class GoogLeNet implements Architecture {
    private static final double EPS = 1e-3;
    private final boolean auxHeads;

    public GoogLeNet(boolean auxHeads) {
        this.auxHeads = auxHeads;
    }

    @Override
    public String name() {
        return "googlenet";
    }

    @Override
    public String description() {
        return "GoogLeNet / Inception-v1 (torchvision layout with BN" + (auxHeads ? ", aux heads" : ", no aux heads") + ")";
    }

    @Override
    public InputShape defaultInput() {
        return new InputShape(3, 224, 224);
    }

    @Override
    public InputShape minimumInput() {
        return auxHeads ? new InputShape(1, 65, 65) : new InputShape(1, 32, 32);
    }

    @Override
    public NetConf configure(InputShape in, int classes, long seed, IUpdater updater, double weightDecay) {
        requireAtLeast(in);
        Graph g = new Graph(seed, updater, weightDecay, in);
        String x = g.convBn("conv1", "input", 64, 7, 2, 3, Activation.RELU, EPS);
        x = g.layer("maxpool1", ceilPool("maxpool1", 3, 2), x);
        x = g.convBn("conv2", x, 64, 1, 1, 0, Activation.RELU, EPS);
        x = g.convBn("conv3", x, 192, 3, 1, 1, Activation.RELU, EPS);
        x = g.layer("maxpool2", ceilPool("maxpool2", 3, 2), x);
        x = inception(g, "inception3a", x, 64, 96, 128, 16, 32, 32);
        x = inception(g, "inception3b", x, 128, 128, 192, 32, 96, 64);
        x = g.layer("maxpool3", ceilPool("maxpool3", 3, 2), x);
        x = inception(g, "inception4a", x, 192, 96, 208, 16, 48, 64);
        String aux1 = auxHeads ? aux(g, "aux1", x, classes) : null;
        x = inception(g, "inception4b", x, 160, 112, 224, 24, 64, 64);
        x = inception(g, "inception4c", x, 128, 128, 256, 24, 64, 64);
        x = inception(g, "inception4d", x, 112, 144, 288, 32, 64, 64);
        String aux2 = auxHeads ? aux(g, "aux2", x, classes) : null;
        x = inception(g, "inception4e", x, 256, 160, 320, 32, 128, 128);
        x = g.layer("maxpool4", ceilPool("maxpool4", 2, 2), x);
        x = inception(g, "inception5a", x, 256, 160, 320, 32, 128, 128);
        x = inception(g, "inception5b", x, 384, 192, 384, 48, 128, 128);
        x = g.globalAvgPool("avgpool", x);
        g.layer("fc", Layers.softmax("fc", classes, 0.8), x); // dropout 0.2 before the classifier
        return NetConf.of(in, auxHeads ? g.build("fc", aux1, aux2) : g.build("fc"));
    }

    /** Four parallel branches concatenated along channels: 1x1; 1x1 -> 3x3; 1x1 -> "5x5" (3x3); pool 3x3 -> 1x1. */
    private static String inception(Graph g, String n, String x, int c1, int c3r, int c3, int c5r, int c5, int pool) {
        String b1 = g.convBn(n + ".branch1", x, c1, 1, 1, 0, Activation.RELU, EPS);
        String b2 = g.convBn(n + ".branch2a", x, c3r, 1, 1, 0, Activation.RELU, EPS);
        b2 = g.convBn(n + ".branch2b", b2, c3, 3, 1, 1, Activation.RELU, EPS);
        String b3 = g.convBn(n + ".branch3a", x, c5r, 1, 1, 0, Activation.RELU, EPS);
        b3 = g.convBn(n + ".branch3b", b3, c5, 3, 1, 1, Activation.RELU, EPS);
        String b4 = g.layer(n + ".branch4pool", ceilPool(n + ".branch4pool", 3, 1), x);
        b4 = g.convBn(n + ".branch4", b4, pool, 1, 1, 0, Activation.RELU, EPS);
        return g.concat(n, b1, b2, b3, b4);
    }

    private static String aux(Graph g, String n, String x, int classes) {
        String y = g.layer(n + ".pool", Layers.avgPool(n + ".pool", 5, 3), x);
        y = g.convBn(n + ".conv", y, 128, 1, 1, 0, Activation.RELU, EPS);
        y = g.layer(n + ".fc1", Layers.dense(n + ".fc1", 1024, 1.0), y);
        return g.layer(n + ".fc2", Layers.softmax(n + ".fc2", classes, 0.3), y); // dropout 0.7
    }

    /**
     * Max pooling with PyTorch's ceil_mode=True. For stride 1 (the branch pool, kernel 3 pad 1 in torchvision)
     * Same mode is exactly 'pad 1 on each side'; for stride 2 it pads only at the end, like ceil mode.
     */
    private static SubsamplingLayer ceilPool(String name, int k, int stride) {
        return new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name(name).kernelSize(k, k)
                .stride(stride, stride).convolutionMode(ConvolutionMode.Same).build();
    }
}
