package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A multilayer perceptron: the image flattened, two hidden dense layers of 1,024 ReLU units, softmax output -
 * 1,863,690 parameters on 1x28x28 MNIST. Many parameters per multiply-add, so in distributed training the network,
 * not the compute, sets the pace: the communication-bound reference of the scaling rig (scripts/netrig,
 * docs/scaling.md).
 */
public final class Mlp implements Architecture {
    static final int HIDDEN = 1024;

    @Override
    public String name() {
        return "mlp";
    }

    @Override
    public String description() {
        return "multilayer perceptron, 2 hidden layers of 1,024 (communication-bound), ~1.86M parameters on MNIST";
    }

    @Override
    public InputShape defaultInput() {
        return new InputShape(1, 28, 28);
    }

    /** Any size works; the floor only keeps the flattened input from being trivial. */
    @Override
    public InputShape minimumInput() {
        return new InputShape(1, 4, 4);
    }

    @Override
    public NetConf configure(InputShape in, int classes, long seed, IUpdater updater, double weightDecay) {
        requireAtLeast(in);
        NeuralNetConfiguration.Builder b = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(updater)
                .weightInit(WeightInit.RELU);
        if (weightDecay > 0) b.weightDecay(weightDecay);
        MultiLayerConfiguration conf = b.list()
                .layer(new DenseLayer.Builder().name("h1").nOut(HIDDEN).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().name("h2").nOut(HIDDEN).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("output").nOut(classes)
                        .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build())
                .setInputType(InputType.convolutional(in.height(), in.width(), in.channels()))
                .build();
        return NetConf.of(in, conf);
    }
}
