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
 * Network in Network (Lin, Chen, Yan 2013), the ImageNet model the authors released (Caffe model zoo): four
 * "mlpconv" blocks, each a spatial conv followed by two 1x1 convs ("cccp" layers), all ReLU:
 * 96@11x11/4, 256@5x5, 384@3x3, 1024@3x3 with 3x3/2 max pooling between them, dropout 0.5 before the last block,
 * whose last 1x1 conv has one channel per class; global average pooling replaces fully connected layers and
 * feeds the softmax directly (a parameter-free LossLayer). 7,595,176 parameters at 1000 classes.
 * Minimum input 67x67: conv1 (11/4, no padding) and three 3/2 pools leave 1x1 there.
 */
public final class NiN implements Architecture {
    @Override
    public String name() {
        return "nin";
    }

    @Override
    public String description() {
        return "Network in Network (ImageNet model: mlpconv blocks, global average pooling)";
    }

    @Override
    public InputShape defaultInput() {
        return new InputShape(3, 224, 224);
    }

    @Override
    public InputShape minimumInput() {
        return new InputShape(1, 67, 67);
    }

    @Override
    public NetConf configure(InputShape in, int classes, long seed, IUpdater updater, double weightDecay) {
        requireAtLeast(in);
        NeuralNetConfiguration.ListBuilder l = Layers.base(seed, updater, weightDecay).list();
        mlpconv(l, "block1", 96, 96, 11, 4, 0, 1.0);
        l.layer(Layers.maxPool("pool1", 3, 2, 0));
        mlpconv(l, "block2", 256, 256, 5, 1, 2, 1.0);
        l.layer(Layers.maxPool("pool2", 3, 2, 0));
        mlpconv(l, "block3", 384, 384, 3, 1, 1, 1.0);
        l.layer(Layers.maxPool("pool3", 3, 2, 0));
        mlpconv(l, "block4", 1024, classes, 3, 1, 1, 0.5);
        l.layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).name("avgpool").build());
        l.layer(new LossLayer.Builder(LossFunctions.LossFunction.MCXENT).name("softmax").activation(Activation.SOFTMAX).build());
        return NetConf.of(in, l.setInputType(InputType.convolutional(in.height(), in.width(), in.channels())).build());
    }

    /** One mlpconv block: k x k conv, then two 1x1 convs (the micro network), all with bias and ReLU. */
    private static void mlpconv(NeuralNetConfiguration.ListBuilder l, String n, int width, int out, int k, int stride,
                                int pad, double retain) {
        ConvolutionLayer first = Layers.conv(n + "_conv", width, k, stride, pad, true, Activation.RELU);
        if (retain < 1) first.setIDropout(new Dropout(retain));
        l.layer(first);
        l.layer(Layers.conv(n + "_cccp1", width, 1, 1, 0, true, Activation.RELU));
        l.layer(Layers.conv(n + "_cccp2", out, 1, 1, 0, true, Activation.RELU));
    }
}
