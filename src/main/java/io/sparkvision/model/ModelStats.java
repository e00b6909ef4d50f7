package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Parameter counts and per-layer summaries as the papers and torchvision count them. DL4J stores BatchNorm's
 * running mean and variance (or log10 std) as parameters next to gamma and beta; they are statistics, not learned
 * weights, and torchvision's published counts exclude them, so every count here does too.
 */
public final class ModelStats {
    private ModelStats() {
    }

    /** One summary row: a layer or a graph vertex (merge, add), with output shape, parameters, multiply-adds. */
    public record Row(String name, String type, String output, long params, long multiplyAdds) {
    }

    /** Learned parameters of an initialised model (BatchNorm running statistics excluded). */
    public static long params(Model model) {
        org.deeplearning4j.nn.api.Layer[] layers = model instanceof MultiLayerNetwork m ? m.getLayers()
                : ((ComputationGraph) model).getLayers();
        long n = 0;
        for (org.deeplearning4j.nn.api.Layer l : layers) {
            boolean bn = l.conf().getLayer() instanceof BatchNormalization;
            for (Map.Entry<String, INDArray> e : l.paramTable().entrySet()) {
                if (!(bn && isRunningStatistic(e.getKey()))) n += e.getValue().length();
            }
        }
        return n;
    }

    /** BatchNorm running statistics in an initialised model: what DL4J's numParams() adds to {@link #params(Model)}. */
    public static long batchNormStatistics(Model model) {
        return model.numParams() - params(model);
    }

    static boolean isRunningStatistic(String key) {
        return key.equals(BatchNormalizationParamInitializer.GLOBAL_MEAN)
                || key.equals(BatchNormalizationParamInitializer.GLOBAL_VAR)
                || key.equals(BatchNormalizationParamInitializer.GLOBAL_LOG_STD);
    }

    /** Learned parameters from the configuration alone: no weights are allocated. */
    public static long params(NetConf conf) {
        long n = 0;
        for (Row r : summary(conf)) n += r.params();
        return n;
    }

    /** Parameters of one configured layer, BatchNorm statistics (mean and variance, one value per channel each) excluded. */
    static long params(Layer layer) {
        long n = layer.initializer().numParams(layer);
        if (layer instanceof BatchNormalization b) n -= 2 * b.getNOut();
        return n;
    }

    /** Multiply-adds of one layer for one image (convolutions and fully connected layers; the rest is negligible). */
    static long multiplyAdds(Layer layer, InputType out) {
        if (layer instanceof DepthwiseConvolution2D d && out instanceof InputType.InputTypeConvolutional c) {
            return c.getHeight() * c.getWidth() * d.getNOut() * (long) d.getKernelSize()[0] * d.getKernelSize()[1];
        }
        if (layer instanceof ConvolutionLayer cv && out instanceof InputType.InputTypeConvolutional c) {
            return c.getHeight() * c.getWidth() * cv.getNOut() * cv.getNIn() * (long) cv.getKernelSize()[0] * cv.getKernelSize()[1];
        }
        if (layer instanceof DenseLayer d) return d.getNIn() * d.getNOut();
        if (layer instanceof BaseOutputLayer o) return o.getNIn() * o.getNOut();
        return 0;
    }

    /** CxHxW for image activations (as PyTorch prints them), the width for flat ones. */
    public static String shape(InputType t) {
        if (t instanceof InputType.InputTypeConvolutional c) return c.getChannels() + "x" + c.getHeight() + "x" + c.getWidth();
        if (t instanceof InputType.InputTypeFeedForward f) return String.valueOf(f.getSize());
        return String.valueOf(t);
    }

    /** One row per layer (and per graph vertex), in forward order, with DL4J's own shape propagation. */
    public static List<Row> summary(NetConf conf) {
        InputShape in = conf.input();
        InputType inType = InputType.convolutional(in.height(), in.width(), in.channels());
        List<Row> rows = new ArrayList<>();
        if (conf.stack() != null) {
            MultiLayerConfiguration c = conf.stack();
            List<InputType> types = c.getLayerActivationTypes(inType);
            for (int i = 0; i < c.getConfs().size(); i++) {
                Layer l = c.getConf(i).getLayer();
                rows.add(new Row(l.getLayerName() == null ? "layer" + i : l.getLayerName(), l.getClass().getSimpleName(),
                        shape(types.get(i)), params(l), multiplyAdds(l, types.get(i))));
            }
            return rows;
        }
        ComputationGraphConfiguration c = conf.graph();
        Map<String, InputType> types = c.getLayerActivationTypes(inType);
        for (String name : forwardOrder(c)) {
            GraphVertex v = c.getVertices().get(name);
            InputType t = types.get(name);
            if (v instanceof LayerVertex lv) {
                Layer l = lv.getLayerConf().getLayer();
                rows.add(new Row(name, l.getClass().getSimpleName(), t == null ? "?" : shape(t), params(l), multiplyAdds(l, t)));
            } else {
                rows.add(new Row(name, v.getClass().getSimpleName(), t == null ? "?" : shape(t), 0, 0));
            }
        }
        return rows;
    }

    /**
     * Vertices in forward order: repeatedly the first vertex, in the order the builder added them, whose inputs are
     * all computed. For graphs built by this package that is exactly the order of their code (branch by branch);
     * for any other graph it is still a valid topological order. Quadratic, fine for a few thousand vertices.
     */
    static List<String> forwardOrder(ComputationGraphConfiguration c) {
        Map<String, List<String>> inputs = c.getVertexInputs();
        Set<String> done = new HashSet<>(c.getNetworkInputs());
        List<String> pending = new ArrayList<>(c.getVertices().keySet());
        List<String> order = new ArrayList<>();
        while (!pending.isEmpty()) {
            String next = null;
            for (String v : pending) {
                if (done.containsAll(inputs.getOrDefault(v, List.of()))) {
                    next = v;
                    break;
                }
            }
            if (next == null) throw new IllegalArgumentException("graph has a cycle or a missing input among " + pending);
            pending.remove(next);
            done.add(next);
            order.add(next);
        }
        return order;
    }

    /** The summary as a table, totals last. */
    public static String format(String model, NetConf conf, List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s on %s (CxHxW)%n", model, conf.input()));
        sb.append(String.format(Locale.ROOT, "%-34s %-26s %-14s %14s %16s%n", "layer", "type", "output", "parameters", "multiply-adds"));
        long p = 0, m = 0;
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "%-34s %-26s %-14s %,14d %,16d%n", r.name(), r.type(), r.output(), r.params(), r.multiplyAdds()));
            p += r.params();
            m += r.multiplyAdds();
        }
        sb.append(String.format(Locale.ROOT, "%-34s %-26s %-14s %,14d %,16d%n", "total", rows.size() + " rows", "", p, m));
        sb.append("parameters exclude BatchNorm running mean/variance (DL4J stores them as parameters; the papers do not count them)\n");
        return sb.toString();
    }
}
