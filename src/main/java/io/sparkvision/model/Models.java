package io.sparkvision.model;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The few operations jobs need on either kind of DL4J model (layer stack or graph with one input and output). */
public final class Models {
    private Models() {
    }

    public static INDArray output(Model m, INDArray features) {
        if (m instanceof MultiLayerNetwork) return ((MultiLayerNetwork) m).output(features, false);
        return ((ComputationGraph) m).outputSingle(false, features);
    }

    public static void setLearningRate(Model m, double lr) {
        if (m instanceof MultiLayerNetwork) ((MultiLayerNetwork) m).setLearningRate(lr);
        else ((ComputationGraph) m).setLearningRate(lr);
    }

    public static int iterationCount(Model m) {
        return m instanceof MultiLayerNetwork ? ((MultiLayerNetwork) m).getIterationCount() : ((ComputationGraph) m).getIterationCount();
    }

    public static int epochCount(Model m) {
        return m instanceof MultiLayerNetwork ? ((MultiLayerNetwork) m).getEpochCount() : ((ComputationGraph) m).getEpochCount();
    }

    public static void setEpochCount(Model m, int epochs) {
        if (m instanceof MultiLayerNetwork) ((MultiLayerNetwork) m).setEpochCount(epochs);
        else ((ComputationGraph) m).getConfiguration().setEpochCount(epochs);
    }

    /**
     * An independent copy with the same parameters, updater state and iteration/epoch counters, for writing a
     * checkpoint while the original trains on (a few array copies, no serialisation).
     */
    public static Model snapshot(Model m) {
        Model copy = m instanceof MultiLayerNetwork ? ((MultiLayerNetwork) m).clone() : ((ComputationGraph) m).clone();
        if (copy instanceof MultiLayerNetwork c) {
            c.setIterationCount(iterationCount(m));
            c.setEpochCount(epochCount(m));
        } else {
            ((ComputationGraph) copy).getConfiguration().setIterationCount(iterationCount(m));
            ((ComputationGraph) copy).getConfiguration().setEpochCount(epochCount(m));
        }
        return copy;
    }

    /** Width of the classifier: the number of classes the model predicts. */
    public static long outputs(Model m) {
        if (m instanceof MultiLayerNetwork) return ((MultiLayerNetwork) m).getOutputLayer().getParam("b").length();
        return ((ComputationGraph) m).getOutputLayer(0).getParam("b").length();
    }
}
