package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * All-CNN-C (Springenberg et al. 2014, "Striving for Simplicity"), the CIFAR-10 model: only convolutions, max
 * pooling replaced by 3x3 stride-2 convs. 3x3 conv 96, 96, 96/2, 192, 192, 192/2, 192 (valid), 1x1 192, 1x1
 * classes, all ReLU, global average pooling into the softmax. Dropout 20% on the input and 50% after each
 * stride-2 layer, as in the paper. 1,369,738 parameters at 10 classes on 3x32x32.
 * Minimum input 9x9: two stride-2 convs then the valid 3x3 conv need 9 pixels to leave 1x1.
 */
public final class AllCnnC implements Architecture {
    @Override
    public String name() {
        return "allcnnc";
    }

    @Override
    public String description() {
        return "All-CNN-C (CIFAR-10 all-convolutional net, global average pooling)";
    }

    @Override
    public InputShape defaultInput() {
        return new InputShape(3, 32, 32);
    }

    @Override
    public InputShape minimumInput() {
        return new InputShape(1, 9, 9);
    }

    @Override
    public NetConf configure(InputShape in, int classes, long seed, IUpdater updater, double weightDecay) {
        requireAtLeast(in);
        NeuralNetConfiguration.ListBuilder l = Layers.base(seed, updater, weightDecay).list();
        l.layer(dropIn(Layers.conv("conv1", 96, 3, 1, 1, true, Activation.RELU), 0.8));
        l.layer(Layers.conv("conv2", 96, 3, 1, 1, true, Activation.RELU));
        l.layer(Layers.conv("conv3", 96, 3, 2, 1, true, Activation.RELU));
        l.layer(dropIn(Layers.conv("conv4", 192, 3, 1, 1, true, Activation.RELU), 0.5));
        l.layer(Layers.conv("conv5", 192, 3, 1, 1, true, Activation.RELU));
        l.layer(Layers.conv("conv6", 192, 3, 2, 1, true, Activation.RELU));
        l.layer(dropIn(Layers.conv("conv7", 192, 3, 1, 0, true, Activation.RELU), 0.5));
        l.layer(Layers.conv("conv8", 192, 1, 1, 0, true, Activation.RELU));
        l.layer(Layers.conv("conv9", classes, 1, 1, 0, true, Activation.RELU));
        l.layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).name("avgpool").build());
        l.layer(new LossLayer.Builder(LossFunctions.LossFunction.MCXENT).name("softmax").activation(Activation.SOFTMAX).build());
        return NetConf.of(in, l.setInputType(InputType.convolutional(in.height(), in.width(), in.channels())).build());
    }

    /** DL4J applies a layer's dropout to that layer's input; retain = 1 - the paper's drop rate. */
    private static ConvolutionLayer dropIn(ConvolutionLayer c, double retain) {
        c.setIDropout(new Dropout(retain));
        return c;
    }
}
