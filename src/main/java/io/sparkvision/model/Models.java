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

    public static void setLearningRate(Model m, org.nd4j.linalg.schedule.ISchedule schedule) {
        if (m instanceof MultiLayerNetwork) ((MultiLayerNetwork) m).setLearningRate(schedule);
        else ((ComputationGraph) m).setLearningRate(schedule);
    }

    public static int iterationCount(Model m) {
        return m instanceof MultiLayerNetwork ? ((MultiLayerNetwork) m).getIterationCount() : ((ComputationGraph) m).getIterationCount();
    }

    public static void setIterationCount(Model m, int iterations) {
        if (m instanceof MultiLayerNetwork) ((MultiLayerNetwork) m).setIterationCount(iterations);
        else ((ComputationGraph) m).getConfiguration().setIterationCount(iterations);
    }

    public static int epochCount(Model m) {
        return m instanceof MultiLayerNetwork ? ((MultiLayerNetwork) m).getEpochCount() : ((ComputationGraph) m).getEpochCount();
    }

    public static void setEpochCount(Model m, int epochs) {
        if (m instanceof MultiLayerNetwork) ((MultiLayerNetwork) m).setEpochCount(epochs);
        else ((ComputationGraph) m).getConfiguration().setEpochCount(epochs);
    }

    /** Width of the classifier: the number of classes the model predicts. */
    public static long outputs(Model m) {
        if (m instanceof MultiLayerNetwork) return ((MultiLayerNetwork) m).getOutputLayer().getParam("b").length();
        return ((ComputationGraph) m).getOutputLayer(0).getParam("b").length();
    }
}
