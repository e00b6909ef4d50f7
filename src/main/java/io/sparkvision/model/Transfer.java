package io.sparkvision.model;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;

import java.io.IOException;
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
        FineTuneConfiguration ft = new FineTuneConfiguration.Builder().updater(updater).seed(seed).build();
        String classifier = classifier(model);
        if (model instanceof MultiLayerNetwork mln) {
            TransferLearning.Builder b = new TransferLearning.Builder(mln).fineTuneConfiguration(ft)
                    .nOutReplace(indexOf(mln, classifier), classes, WeightInit.XAVIER);
            if (frozenUpTo != null) b.setFeatureExtractor(indexOf(mln, frozenUpTo));
            return b.build();
        }
        ComputationGraph cg = (ComputationGraph) model;
        if (frozenUpTo != null && cg.getVertex(frozenUpTo) == null) {
            throw new IllegalArgumentException("no layer or vertex '" + frozenUpTo + "' in the model");
        }
        TransferLearning.GraphBuilder b = new TransferLearning.GraphBuilder(cg).fineTuneConfiguration(ft)
                .nOutReplace(classifier, classes, WeightInit.XAVIER);
        if (frozenUpTo != null) b.setFeatureExtractor(frozenUpTo);
        return b.build();
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
                if (mln.getLayer(i).numParams() > 0) return mln.getLayer(i).conf().getLayer().getLayerName();
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
            if (name.equals(mln.getLayer(i).conf().getLayer().getLayerName())) return i;
        }
        throw new IllegalArgumentException("no layer '" + name + "' in the model");
    }
}
