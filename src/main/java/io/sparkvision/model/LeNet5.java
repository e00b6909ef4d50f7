package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * LeNet-5 (LeCun et al. 1998) in its layer sizes: C1 6@5x5 (padded so 28x28 MNIST keeps the paper's 32x32
 * geometry), S2 2x2, C3 16@5x5, S4 2x2, F5 120, F6 84, output 10 - 61,706 parameters on 1x28x28.
 * Modernised where it costs nothing: ReLU and max pooling instead of scaled tanh and trainable subsampling,
 * full C3 connectivity instead of the paper's connection table, softmax instead of RBF outputs.
 */
public final class LeNet5 implements Architecture {
    @Override
    public String name() {
        return "lenet5";
    }

    @Override
    public String description() {
        return "LeNet-5 (1998 layer sizes, ReLU + max pooling), ~61.7k parameters on MNIST";
    }

    @Override
    public InputShape defaultInput() {
        return new InputShape(1, 28, 28);
    }

    /** 12x12: padded C1 keeps 12, S2 gives 6, C3 (5x5) gives 2, S4 gives 1. */
    @Override
    public InputShape minimumInput() {
        return new InputShape(1, 12, 12);
    }

    @Override
    public MultiLayerNetwork build(InputShape in, int classes, long seed, IUpdater updater, double weightDecay) {
        return (MultiLayerNetwork) configure(in, classes, seed, updater, weightDecay).init();
    }

    @Override
    public NetConf configure(InputShape in, int classes, long seed, IUpdater updater, double weightDecay) {
        requireAtLeast(in);
        NeuralNetConfiguration.Builder b = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(updater)
                .weightInit(WeightInit.RELU)
                .convolutionMode(ConvolutionMode.Truncate);
        if (weightDecay > 0) b.weightDecay(weightDecay);
        // C1 pads to keep the paper's 32x32 geometry on 28x28 inputs; on 32x32 inputs no padding is needed.
        int pad = in.height() <= 28 ? 2 : 0;
        MultiLayerConfiguration conf = b.list()
                .layer(new ConvolutionLayer.Builder(5, 5).name("c1").nOut(6).padding(pad, pad).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name("s2").kernelSize(2, 2).stride(2, 2).build())
                .layer(new ConvolutionLayer.Builder(5, 5).name("c3").nOut(16).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name("s4").kernelSize(2, 2).stride(2, 2).build())
                .layer(new DenseLayer.Builder().name("f5").nOut(120).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().name("f6").nOut(84).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("output").nOut(classes)
                        .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build())
                .setInputType(InputType.convolutional(in.height(), in.width(), in.channels()))
                .build();
        return NetConf.of(in, conf);
    }
}
