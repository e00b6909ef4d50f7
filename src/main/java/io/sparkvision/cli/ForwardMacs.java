package io.sparkvision.cli;

import io.sparkvision.model.InputShape;
import io.sparkvision.model.ModelRegistry;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.learning.config.Sgd;

import java.util.List;

/** Forward multiply-adds per example of a layer stack, from DL4J's activation shapes (conv and dense layers). */
final class ForwardMacs {
    private ForwardMacs() {
    }

    static long of(String name, InputShape in) {
        Model m = ModelRegistry.get(name).build(in, 10, 1, new Sgd(0.1), 0);
        if (!(m instanceof MultiLayerNetwork)) return 0;
        MultiLayerNetwork net = (MultiLayerNetwork) m;
        List<InputType> types = net.getLayerWiseConfigurations().getLayerActivationTypes(
                InputType.convolutional(in.height(), in.width(), in.channels()));
        long macs = 0;
        for (int i = 0; i < net.getnLayers(); i++) {
            Object layer = net.getLayerWiseConfigurations().getConf(i).getLayer();
            if (layer instanceof ConvolutionLayer) {
                ConvolutionLayer c = (ConvolutionLayer) layer;
                InputType.InputTypeConvolutional o = (InputType.InputTypeConvolutional) types.get(i);
                macs += o.getHeight() * o.getWidth() * c.getNOut() * c.getKernelSize()[0] * c.getKernelSize()[1] * c.getNIn();
            } else if (layer instanceof DenseLayer || layer instanceof org.deeplearning4j.nn.conf.layers.OutputLayer) {
                FeedForwardLayer f = (FeedForwardLayer) layer;
                macs += f.getNIn() * f.getNOut();
            }
        }
        return macs;
    }
}
