package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * MobileNet v1 (Howard et al. 2017), width 1.0: a 3x3/2 conv to 32 channels, then 13 depthwise-separable
 * pairs (3x3 depthwise + 1x1 pointwise, each followed by BN + ReLU; convs without bias), global average pooling,
 * FC: 4,231,976 parameters at 1000 classes (the "1.0-224" count; Keras shows 4,253,864 because it adds the 21,888
 * BN running statistics). A plain stack, so a MultiLayerNetwork. Minimum input 32x32 (total stride 32).
 */
public final class MobileNetV1 implements Architecture {
    /** Pointwise output channels and depthwise stride of the 13 separable blocks (the paper's Table 1). */
    private static final int[][] BLOCKS = {{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2},
            {512, 1}, {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};

    @Override
    public String name() {
        return "mobilenetv1";
    }

    @Override
    public String description() {
        return "MobileNet v1 1.0 (13 depthwise-separable blocks)";
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
        NeuralNetConfiguration.ListBuilder l = Layers.base(seed, updater, weightDecay).list();
        l.layer(Layers.conv("conv1", 32, 3, 2, 1, false, Activation.IDENTITY));
        l.layer(Layers.bn("conv1_bn"));
        l.layer(Layers.act("conv1_relu", Activation.RELU));
        for (int i = 0; i < BLOCKS.length; i++) {
            String n = "block" + (i + 1);
            int s = BLOCKS[i][1];
            l.layer(new DepthwiseConvolution2D.Builder(3, 3).name(n + "_dw").depthMultiplier(1).stride(s, s)
                    .padding(1, 1).hasBias(false).activation(Activation.IDENTITY).build());
            l.layer(Layers.bn(n + "_dw_bn"));
            l.layer(Layers.act(n + "_dw_relu", Activation.RELU));
            l.layer(Layers.conv(n + "_pw", BLOCKS[i][0], 1, 1, 0, false, Activation.IDENTITY));
            l.layer(Layers.bn(n + "_pw_bn"));
            l.layer(Layers.act(n + "_pw_relu", Activation.RELU));
        }
        l.layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).name("avgpool").build());
        l.layer(Layers.softmax("fc", classes, 1.0));
        return NetConf.of(in, l.setInputType(InputType.convolutional(in.height(), in.width(), in.channels())).build());
    }
}
