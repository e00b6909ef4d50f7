package io.sparkvision.model;

import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;

/** Layer builders shared by the zoo, so each family file reads like the paper's table. */
final class Layers {
    private Layers() {
    }

    /** Common defaults: He initialisation (all zoo nets use ReLU-family activations), explicit padding. */
    static NeuralNetConfiguration.Builder base(long seed, IUpdater updater, double weightDecay) {
        NeuralNetConfiguration.Builder b = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(updater)
                .weightInit(WeightInit.RELU)
                .convolutionMode(ConvolutionMode.Truncate);
        if (weightDecay > 0) b.weightDecay(weightDecay);
        return b;
    }

    /**
     * {@link #base} with DL4J's activation cache on, so a conv layer's backward pass reuses its forward output: without
     * it oneDNN runs every conv's forward twice per training step (measured: AlexNet 10 forward executions for 5 convs,
     * VGG-16 26 for 13, ResNet-18 40 for 20). Costs the memory of one conv output per layer, which backprop holds anyway.
     */
    static NeuralNetConfiguration.Builder cached(long seed, IUpdater updater, double weightDecay) {
        return base(seed, updater, weightDecay).cacheMode(CacheMode.DEVICE);
    }

    // Layers set Truncate (explicit padding, PyTorch's arithmetic) themselves rather than inheriting it, so
    // outputOf() can propagate shapes before the global configuration is applied.
    static ConvolutionLayer conv(String name, int out, int k, int stride, int pad, boolean bias, Activation act) {
        return new ConvolutionLayer.Builder(k, k).name(name).nOut(out).stride(stride, stride).padding(pad, pad)
                .hasBias(bias).activation(act).convolutionMode(ConvolutionMode.Truncate).build();
    }

    /** torchvision's BatchNorm2d defaults: eps 1e-5, momentum 0.1 (DL4J's decay = 1 - momentum). */
    static BatchNormalization bn(String name) {
        return new BatchNormalization.Builder().name(name).eps(1e-5).decay(0.9).build();
    }

    /** GoogLeNet's BasicConv2d uses eps 0.001 (as torchvision and the TF original). */
    static BatchNormalization bn(String name, double eps) {
        return new BatchNormalization.Builder().name(name).eps(eps).decay(0.9).build();
    }

    static ActivationLayer act(String name, Activation a) {
        return new ActivationLayer.Builder().name(name).activation(a).build();
    }

    static SubsamplingLayer maxPool(String name, int k, int stride, int pad) {
        return new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name(name).kernelSize(k, k)
                .stride(stride, stride).padding(pad, pad).convolutionMode(ConvolutionMode.Truncate).build();
    }

    static SubsamplingLayer avgPool(String name, int k, int stride) {
        return new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.AVG).name(name).kernelSize(k, k)
                .stride(stride, stride).convolutionMode(ConvolutionMode.Truncate).build();
    }

    static DenseLayer dense(String name, int out, double retainProbability) {
        DenseLayer.Builder b = new DenseLayer.Builder().name(name).nOut(out).activation(Activation.RELU);
        // DL4J's dropOut(p) is the probability of KEEPING a unit; the papers' dropout 0.5 keeps half.
        if (retainProbability < 1) b.dropOut(retainProbability);
        return b.build();
    }

    static OutputLayer softmax(String name, int classes, double retainProbability) {
        OutputLayer.Builder b = new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name(name).nOut(classes)
                .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER);
        if (retainProbability < 1) b.dropOut(retainProbability);
        return b.build();
    }

    /** The spatial size after a sequence of layers, by DL4J's own InputType propagation (no hand arithmetic). */
    static InputType.InputTypeConvolutional outputOf(List<Layer> layers, InputType in) {
        InputType t = in;
        for (int i = 0; i < layers.size(); i++) t = layers.get(i).getOutputType(i, t);
        return (InputType.InputTypeConvolutional) t;
    }

    /**
     * PyTorch's AdaptiveAvgPool2d(target) for the sizes where it is an ordinary layer: identity when the map
     * already has the target size, average pooling with kernel = stride = size/target when size is a multiple,
     * nearest upsampling by target/size when size divides target (each output bin then covers exactly one input
     * pixel, which is what PyTorch computes). Returns null for identity.
     */
    static Layer adaptiveAvgPool(String model, String name, long size, int target) {
        if (size == target) return null;
        if (size > target && size % target == 0) return avgPool(name, (int) (size / target), (int) (size / target));
        if (size < target && target % size == 0) return new Upsampling2D.Builder((int) (target / size)).name(name).build();
        throw new IllegalArgumentException("model " + model + ": the feature map before the adaptive pool is " + size + "x"
                + size + ", which cannot be pooled exactly to " + target + "x" + target
                + " (needs a divisor or multiple of " + target + "); use a standard input such as 224x224");
    }
}
