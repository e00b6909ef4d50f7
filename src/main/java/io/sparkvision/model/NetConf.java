package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import io.sparkvision.model.onednn.NativePath;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * A network's configuration before any weights exist: either a layer stack or a graph. Parameter counts and
 * layer summaries are computed from it, so listing VGG-19 or ResNet-152 does not allocate hundreds of MB.
 */
public record NetConf(InputShape input, MultiLayerConfiguration stack, ComputationGraphConfiguration graph) {
    public NetConf {
        if ((stack == null) == (graph == null)) throw new IllegalArgumentException("exactly one of stack/graph");
    }

    public static NetConf of(InputShape in, MultiLayerConfiguration c) {
        return new NetConf(in, c, null);
    }

    public static NetConf of(InputShape in, ComputationGraphConfiguration c) {
        return new NetConf(in, null, c);
    }

    /** Allocates and initialises the weights; conv layers run the product's own oneDNN path where it is on. */
    public Model init() {
        if (stack != null) {
            MultiLayerNetwork net = new MultiLayerNetwork(stack);
            net.init();
            NativePath.install(net);
            return net;
        }
        ComputationGraph net = new ComputationGraph(graph);
        net.init();
        NativePath.install(net);
        return net;
    }
}
