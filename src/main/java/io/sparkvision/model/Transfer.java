package io.sparkvision.model;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.deeplearning4j.nn.layers.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fine-tuning and feature extraction from any saved or built model, stack or graph, with DL4J's TransferLearning:
 * the classifier (the last layer with weights: the FC of most nets, the last 1x1 conv of NiN and All-CNN-C) gets
 * the new class count and fresh weights, and every layer up to a named one is frozen (FrozenLayer: no gradient,
 * and BatchNorm statistics stay as they were because frozen layers always run in inference mode).
 */
public final class Transfer {
    private Transfer() {
    }

    public static Model load(String uri) throws IOException {
        return ModelFiles.load(new Path(uri), new Configuration());
    }

    /**
     * A new model: classifier replaced for {@code classes}, layers up to and including {@code frozenUpTo} frozen
     * (for a graph: that vertex and everything it depends on), the rest trained with {@code updater}.
     * {@code frozenUpTo} null freezes nothing.
     */
    public static Model fineTune(Model model, int classes, String frozenUpTo, IUpdater updater, long seed) {
        return fineTune(model, classes, frozenUpTo, updater, Double.NaN, seed);
    }

    /**
     * As {@link #fineTune(Model, int, String, IUpdater, long)}, with {@code classes} null keeping the model's own
     * classifier, and {@code backboneRate} (NaN = the updater's) the learning rate of every trainable layer except the
     * classifier. The new classifier's weights are drawn with {@code seed}.
     */
    public static Model fineTune(Model model, Integer classes, String frozenUpTo, IUpdater updater, double backboneRate, long seed) {
        FineTuneConfiguration ft = new FineTuneConfiguration.Builder().updater(updater).seed(seed).build();
        String classifier = classifier(model);
        if (frozenUpTo != null && !layerNames(model).contains(frozenUpTo)) {
            throw new IllegalArgumentException("no layer or vertex '" + frozenUpTo + "' in the model; its layers: " + layerNames(model));
        }
        Nd4j.getRandom().setSeed(seed); // the new classifier's weights are drawn from the global generator
        Model tuned;
        if (model instanceof MultiLayerNetwork mln) {
            if (frozenUpTo != null && indexOf(mln, frozenUpTo) >= indexOf(mln, classifier)) {
                throw new IllegalArgumentException("freezing up to '" + frozenUpTo + "' would freeze the classifier '" + classifier + "'");
            }
            TransferLearning.Builder b = new TransferLearning.Builder(mln).fineTuneConfiguration(ft);
            if (classes != null) b.nOutReplace(indexOf(mln, classifier), classes, WeightInit.XAVIER);
            if (frozenUpTo != null) b.setFeatureExtractor(indexOf(mln, frozenUpTo));
            tuned = b.build();
        } else {
            ComputationGraph cg = (ComputationGraph) model;
            TransferLearning.GraphBuilder b = new TransferLearning.GraphBuilder(cg).fineTuneConfiguration(ft);
            if (classes != null) b.nOutReplace(classifier, classes, WeightInit.XAVIER);
            if (frozenUpTo != null) b.setFeatureExtractor(frozenUpTo);
            tuned = b.build();
            if (frozen(tuned).contains(classifier)) {
                throw new IllegalArgumentException("freezing up to '" + frozenUpTo + "' would freeze the classifier '" + classifier + "'");
            }
        }
        if (!Double.isNaN(backboneRate)) setBackboneLearningRate(tuned, classifier, backboneRate);
        return tuned;
    }

    /** The names of a model's layers (graph: its vertices, inputs included), in forward order: what may be frozen up to. */
    public static List<String> layerNames(Model model) {
        List<String> names = new ArrayList<>();
        if (model instanceof MultiLayerNetwork mln) {
            for (int i = 0; i < mln.getnLayers(); i++) names.add(name(mln.getLayer(i)));
        } else {
            ComputationGraph cg = (ComputationGraph) model;
            for (int i : cg.topologicalSortOrder()) names.add(cg.getVertices()[i].getVertexName());
        }
        return names;
    }

    /** The frozen layers (graph: layer vertices), in forward order. */
    public static List<String> frozen(Model model) {
        List<String> names = new ArrayList<>();
        for (org.deeplearning4j.nn.api.Layer l : layersInOrder(model)) {
            if (l instanceof FrozenLayer || l instanceof FrozenLayerWithBackprop) names.add(name(l));
        }
        return names;
    }

    /** Parameters of the frozen layers. */
    public static long frozenParameters(Model model) {
        long n = 0;
        for (org.deeplearning4j.nn.api.Layer l : layersInOrder(model)) {
            if (l instanceof FrozenLayer || l instanceof FrozenLayerWithBackprop) n += l.numParams();
        }
        return n;
    }

    /** The classifier's name (the layer a replaced head replaces). */
    public static String classifierName(Model model) {
        return classifier(model);
    }

    private static void setBackboneLearningRate(Model model, String classifier, double rate) {
        // FineTuneConfiguration gives every layer the same updater object, and setting a layer's rate changes that
        // object in place: give each layer its own first.
        for (org.deeplearning4j.nn.api.Layer l : layersInOrder(model)) {
            if (l.conf().getLayer() instanceof BaseLayer bl) {
                if (bl.getIUpdater() != null) bl.setIUpdater(bl.getIUpdater().clone());
                if (bl.getBiasUpdater() != null) bl.setBiasUpdater(bl.getBiasUpdater().clone());
            }
        }
        Map<Object, Object> rates = new LinkedHashMap<>();
        List<org.deeplearning4j.nn.api.Layer> layers = layersInOrder(model);
        for (int i = 0; i < layers.size(); i++) {
            org.deeplearning4j.nn.api.Layer l = layers.get(i);
            if (trainable(l) && !classifier.equals(name(l))) rates.put(model instanceof MultiLayerNetwork ? (Object) i : name(l), rate);
        }
        Models.setLayerRates(model, rates, false); // its blocks change: a fresh optimiser
    }

    private static boolean trainable(org.deeplearning4j.nn.api.Layer l) {
        return l.numParams() > 0 && !(l instanceof FrozenLayer) && !(l instanceof FrozenLayerWithBackprop);
    }

    private static List<org.deeplearning4j.nn.api.Layer> layersInOrder(Model model) {
        List<org.deeplearning4j.nn.api.Layer> layers = new ArrayList<>();
        if (model instanceof MultiLayerNetwork mln) {
            layers.addAll(List.of(mln.getLayers()));
        } else {
            ComputationGraph cg = (ComputationGraph) model;
            for (int i : cg.topologicalSortOrder()) {
                GraphVertex v = cg.getVertices()[i];
                if (v.hasLayer()) layers.add(v.getLayer());
            }
        }
        return layers;
    }

    /** A layer's name; a frozen layer answers with the name of the layer it wraps. */
    static String name(org.deeplearning4j.nn.api.Layer l) {
        if (l instanceof FrozenLayer f) return name(f.getInsideLayer());
        if (l instanceof FrozenLayerWithBackprop f) return name(f.getInsideLayer());
        return l.conf().getLayer().getLayerName();
    }

    /**
     * Each trainable layer's learning rate as a multiple of the classifier's, keyed by layer index (stack) or name
     * (graph); empty when they are all the same (every model not fine-tuned with its own backbone rate).
     */
    static Map<Object, Double> rateRatios(Model model) {
        String classifier = classifier(model);
        Map<Object, Double> ratios = new LinkedHashMap<>();
        double head = Double.NaN;
        boolean uniform = true;
        List<org.deeplearning4j.nn.api.Layer> layers = layersInOrder(model);
        for (org.deeplearning4j.nn.api.Layer l : layers) if (classifier.equals(name(l))) head = rate(l);
        if (Double.isNaN(head) || head == 0) return Map.of();
        for (int i = 0; i < layers.size(); i++) {
            org.deeplearning4j.nn.api.Layer l = layers.get(i);
            double r = rate(l);
            if (!trainable(l) || Double.isNaN(r)) continue;
            double ratio = r / head;
            uniform &= ratio == 1.0;
            ratios.put(model instanceof MultiLayerNetwork ? (Object) i : name(l), ratio);
        }
        return uniform ? Map.of() : ratios;
    }

    private static double rate(org.deeplearning4j.nn.api.Layer l) {
        if (!(l.conf().getLayer() instanceof BaseLayer bl)) return Double.NaN;
        IUpdater u = bl.getIUpdater();
        return u == null || !u.hasLearningRate() ? Double.NaN : u.getLearningRate(0, 0);
    }

    /**
     * The activations feeding the classifier, one row per image: e.g. 4096 for AlexNet/VGG (FC7), 512 for
     * ResNet-18, 1024 for GoogLeNet. Where that input is still a feature map (NiN, All-CNN-C), it is
     * global-average-pooled to one value per channel.
     */
    public static INDArray features(Model model, INDArray images) {
        String classifier = classifier(model);
        INDArray f;
        if (model instanceof MultiLayerNetwork mln) {
            int idx = indexOf(mln, classifier);
            // feedForwardToLayer(i) returns [input, out(0), ..., out(i)]: the classifier's input is entry idx
            f = mln.feedForwardToLayer(idx - 1, images, false).get(idx);
        } else {
            ComputationGraph cg = (ComputationGraph) model;
            String in = cg.getConfiguration().getVertexInputs().get(classifier).get(0);
            Map<String, INDArray> acts = cg.feedForward(images, false);
            f = acts.get(in);
        }
        if (f.rank() == 4) f = f.mean(2, 3);
        return f.dup();
    }

    /** The classifier: the last layer (in forward order) that has weights. */
    static String classifier(Model model) {
        if (model instanceof MultiLayerNetwork mln) {
            for (int i = mln.getnLayers() - 1; i >= 0; i--) {
                if (mln.getLayer(i).numParams() > 0) return name(mln.getLayer(i));
            }
            throw new IllegalArgumentException("the model has no layer with weights");
        }
        ComputationGraph cg = (ComputationGraph) model;
        int[] order = cg.topologicalSortOrder();
        for (int i = order.length - 1; i >= 0; i--) {
            org.deeplearning4j.nn.graph.vertex.GraphVertex v = cg.getVertices()[order[i]];
            if (v.hasLayer() && v.getLayer().numParams() > 0) return v.getVertexName();
        }
        throw new IllegalArgumentException("the model has no layer with weights");
    }

    static int indexOf(MultiLayerNetwork mln, String name) {
        for (int i = 0; i < mln.getnLayers(); i++) {
            if (name.equals(name(mln.getLayer(i)))) return i;
        }
        throw new IllegalArgumentException("no layer '" + name + "' in the model");
    }
}
