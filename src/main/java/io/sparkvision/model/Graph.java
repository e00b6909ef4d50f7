package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * A thin wrapper over DL4J's GraphBuilder for the branching families (ResNet, GoogLeNet, DenseNet, MobileNetV2):
 * every method adds one vertex and returns its name, so blocks compose like torchvision's forward().
 */
final class Graph {
    final ComputationGraphConfiguration.GraphBuilder b;

    Graph(long seed, IUpdater updater, double weightDecay, InputShape in) {
        b = Layers.base(seed, updater, weightDecay).graphBuilder()
                .addInputs("input")
                .setInputTypes(InputType.convolutional(in.height(), in.width(), in.channels()));
    }

    /**
     * The tuned layout for conv + BatchNorm graphs, measured on ResNet-18 (docs/design.md, Where the time goes): channels-last
     * inside the network (input batches stay NCHW; {@link NchwToNhwc} permutes them once) and DL4J's activation
     * cache on, so a conv layer's backward pass reuses its forward output instead of running the conv again
     * (without the cache oneDNN ran 40 forward convs per step for ResNet-18's 20). The first layer reads
     * {@link #NHWC_INPUT}.
     */
    static Graph channelsLast(long seed, IUpdater updater, double weightDecay, InputShape in) {
        return new Graph(Layers.cached(seed, updater, weightDecay), in, true);
    }

    private Graph(org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder base, InputShape in, boolean channelsLast) {
        b = base.graphBuilder()
                .addInputs("input")
                .setInputTypes(InputType.convolutional(in.height(), in.width(), in.channels()));
        if (channelsLast) b.addVertex(NHWC_INPUT, new PreprocessorVertex(new NchwToNhwc()), "input");
    }

    /** The vertex the first layer reads from in a {@link #channelsLast} graph. */
    static final String NHWC_INPUT = "input.nhwc";

    String layer(String name, Layer l, String... inputs) {
        b.addLayer(name, l, inputs);
        return name;
    }

    /** Conv (no bias: BatchNorm's beta does its job) + BatchNorm + optional activation, torchvision's usual unit. */
    String convBn(String name, String in, int out, int k, int stride, int pad, Activation act) {
        return convBn(name, in, out, k, stride, pad, act, 1e-5);
    }

    String convBn(String name, String in, int out, int k, int stride, int pad, Activation act, double eps) {
        String c = layer(name + ".conv", Layers.conv(name + ".conv", out, k, stride, pad, false, Activation.IDENTITY), in);
        String n = layer(name + ".bn", Layers.bn(name + ".bn", eps), c);
        return act == null ? n : layer(name + ".act", Layers.act(name + ".act", act), n);
    }

    String bnAct(String name, String in, Activation act) {
        String n = layer(name + ".bn", Layers.bn(name + ".bn"), in);
        return layer(name + ".act", Layers.act(name + ".act", act), n);
    }

    String add(String name, String a, String c) {
        b.addVertex(name, new ElementWiseVertex(ElementWiseVertex.Op.Add), a, c);
        return name;
    }

    String concat(String name, String... inputs) {
        b.addVertex(name, new MergeVertex(), inputs);
        return name;
    }

    String globalAvgPool(String name, String in) {
        return layer(name, new GlobalPoolingLayer.Builder(PoolingType.AVG).name(name).build(), in);
    }

    ComputationGraphConfiguration build(String... outputs) {
        return b.setOutputs(outputs).build();
    }
}
