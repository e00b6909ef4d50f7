package io.sparkvision.model.onnx;

import io.sparkvision.image.InputShape;
import io.sparkvision.util.Provenance;
import onnx.OnnxMl;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A trained DL4J network (layer stack or graph, as the zoo in package model builds them) as a standard ONNX model:
 * opset 13, float32, one input {@value #INPUT} of shape [N, C, H, W] holding the prepared, normalised images exactly as
 * DL4J takes them (image.ImagePreparer's tensor), and for a softmax classifier two outputs, {@value #LOGITS} (the
 * softmax's input) and {@value #PROBABILITIES} (what DL4J's output() returns). Dropout is left out (inference).
 * A layer, vertex, preprocessor or activation with no ONNX mapping is refused with its name and type.
 * docs/onnx-export.md is the user's description.
 */
public final class OnnxExporter {
    public static final String INPUT = "input";
    public static final String LOGITS = "logits";
    public static final String PROBABILITIES = "probabilities";
    /** The single output of a network whose last activation is not softmax. */
    public static final String OUTPUT = "output";
    /** ONNX 1.8's IR and operator set: what ONNX Runtime 1.x and every current converter read. */
    public static final long IR_VERSION = 7, OPSET = 13;

    private OnnxExporter() {
    }

    /**
     * @param input    the input shape the network was built for (a saved model's metadata records it)
     * @param metadata written into the model's metadata_props ({@link OnnxExportMetadata#of})
     */
    public static OnnxMl.ModelProto export(Model net, InputShape input, Map<String, String> metadata) {
        OnnxExportGraph g = new OnnxExportGraph("sparkvision");
        g.input(INPUT, null, (long) input.channels(), (long) input.height(), (long) input.width());
        InputType in = InputType.convolutional(input.height(), input.width(), input.channels());
        if (net instanceof MultiLayerNetwork mln) stack(g, mln, in);
        else if (net instanceof ComputationGraph cg) graph(g, cg, in);
        else throw new IllegalArgumentException("cannot export a " + net.getClass().getName() + " to ONNX");
        OnnxMl.ModelProto.Builder m = OnnxMl.ModelProto.newBuilder().setIrVersion(IR_VERSION).setProducerName("sparkvision")
                .setProducerVersion(Provenance.version()).setDomain("io.sparkvision").setModelVersion(1)
                .setDocString("Exported by sparkvision from a DL4J model; input: prepared images, NCHW float32, normalised "
                        + "with the mean/std in metadata_props")
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(g.build());
        metadata.forEach((k, v) -> m.addMetadataProps(OnnxMl.StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return m.build();
    }

    private static void stack(OnnxExportGraph g, MultiLayerNetwork net, InputType in) {
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        List<InputType> types = conf.getLayerActivationTypes(in);
        String x = INPUT;
        InputType t = in;
        OnnxExportLayers.Out out = null;
        for (int i = 0; i < net.getnLayers(); i++) {
            String name = layerName(net.getLayer(i).conf().getLayer().getLayerName(), i);
            InputPreProcessor p = conf.getInputPreProcess(i);
            x = OnnxExportLayers.preprocess(g, name, p, x);
            if (p != null) t = p.getOutputType(t);
            out = OnnxExportLayers.convert(g, name, net.getLayer(i), t, x);
            x = out.tensor();
            t = types.get(i);
        }
        outputs(g, List.of(out), List.of(t), true);
    }

    private static void graph(OnnxExportGraph g, ComputationGraph net, InputType in) {
        ComputationGraphConfiguration conf = net.getConfiguration();
        if (conf.getNetworkInputs().size() != 1) {
            throw new IllegalArgumentException("cannot export a graph with " + conf.getNetworkInputs().size()
                    + " inputs " + conf.getNetworkInputs() + " to ONNX: the product's models take one image input");
        }
        String inputName = conf.getNetworkInputs().get(0);
        Map<String, InputType> types = new HashMap<>(conf.getLayerActivationTypes(in));
        types.put(inputName, in);
        Map<String, OnnxExportLayers.Out> tensors = new HashMap<>();
        tensors.put(inputName, new OnnxExportLayers.Out(INPUT, null));
        for (int idx : net.topologicalSortOrder()) {
            String name = net.getVertices()[idx].getVertexName();
            if (name.equals(inputName)) continue;
            GraphVertex v = conf.getVertices().get(name);
            List<String> inputs = conf.getVertexInputs().get(name);
            List<String> xs = new ArrayList<>();
            for (String i : inputs) xs.add(tensors.get(i).tensor());
            InputType t = types.get(inputs.get(0));
            OnnxExportLayers.Out out;
            if (v instanceof LayerVertex lv) {
                InputPreProcessor p = lv.getPreProcessor();
                String x = OnnxExportLayers.preprocess(g, name, p, single(name, v, xs));
                out = OnnxExportLayers.convert(g, name, net.getLayer(name), p == null ? t : p.getOutputType(t), x);
            } else if (v instanceof PreprocessorVertex pv) {
                out = new OnnxExportLayers.Out(OnnxExportLayers.preprocess(g, name, pv.getPreProcessor(), single(name, v, xs)), null);
            } else if (v instanceof MergeVertex) {
                // Channels: axis 1 in ONNX's NCHW whatever DL4J's layout (and the feature axis of flat inputs).
                out = new OnnxExportLayers.Out(g.node("Concat", name, xs.toArray(String[]::new), OnnxExportGraph.attr("axis", 1L)), null);
            } else if (v instanceof ElementWiseVertex e) {
                out = new OnnxExportLayers.Out(elementWise(g, name, e.getOp(), xs), null);
            } else {
                throw notExportable(name, v.getClass().getSimpleName(), "no ONNX mapping for this vertex type; exportable: "
                        + "LayerVertex, MergeVertex, ElementWiseVertex, PreprocessorVertex");
            }
            tensors.put(name, out);
        }
        List<OnnxExportLayers.Out> outs = new ArrayList<>();
        List<InputType> outTypes = new ArrayList<>();
        for (String o : conf.getNetworkOutputs()) {
            outs.add(tensors.get(o));
            outTypes.add(types.get(o));
        }
        outputs(g, outs, outTypes, conf.getNetworkOutputs().size() == 1);
    }

    private static String single(String name, GraphVertex v, List<String> xs) {
        if (xs.size() != 1) throw notExportable(name, v.getClass().getSimpleName(), xs.size() + " inputs (expected one)");
        return xs.get(0);
    }

    private static String elementWise(OnnxExportGraph g, String name, ElementWiseVertex.Op op, List<String> xs) {
        String[] in = xs.toArray(String[]::new);
        return switch (op) {
            case Add -> g.node(in.length == 2 ? "Add" : "Sum", name, in);
            case Subtract -> g.node("Sub", name, in);
            case Max -> g.node("Max", name, in);
            case Average -> g.node("Mean", name, in);
            case Product -> {
                String y = in[0];
                for (int i = 1; i < in.length; i++) y = g.node("Mul", name, new String[] {y, in[i]});
                yield y;
            }
        };
    }

    /** Names the outputs: logits + probabilities after a softmax, else "output" (prefixed by the vertex when several). */
    private static void outputs(OnnxExportGraph g, List<OnnxExportLayers.Out> outs, List<InputType> types, boolean single) {
        for (int i = 0; i < outs.size(); i++) {
            OnnxExportLayers.Out o = outs.get(i);
            Long[] dims = dims(types.get(i));
            String prefix = single ? "" : o.tensor() + ".";
            if (o.beforeSoftmax() != null) {
                g.output(o.tensor(), prefix + PROBABILITIES, dims);
                g.output(o.beforeSoftmax(), prefix + LOGITS, dims);
            } else {
                g.output(o.tensor(), single ? OUTPUT : o.tensor(), dims);
            }
        }
    }

    private static Long[] dims(InputType t) {
        if (t instanceof InputType.InputTypeFeedForward f) return new Long[] {null, f.getSize()};
        if (t instanceof InputType.InputTypeConvolutional c) return new Long[] {null, c.getChannels(), c.getHeight(), c.getWidth()};
        throw new IllegalArgumentException("cannot export a network whose output is " + t + " to ONNX");
    }

    private static String layerName(String name, int index) {
        return name == null || name.isBlank() ? "layer" + index : name;
    }

    /** The refusal every unmappable piece gets: which layer, of which type, and why. */
    static IllegalArgumentException notExportable(String layer, String type, String why) {
        return new IllegalArgumentException("cannot export layer '" + layer + "' (" + type + ") to ONNX: " + why);
    }
}
