package io.sparkvision.model;

import io.sparkvision.model.onednn.NativePath;
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

    /**
     * The model's state at this moment (configuration with its iteration/epoch counters, parameters, updater state),
     * copied into arrays of its own: a few memory copies on the caller's thread. {@link Snapshot#model} builds a model
     * from it later, e.g. on a background thread that writes a checkpoint while the original trains on.
     */
    public static Snapshot snapshot(Model m) {
        try (org.nd4j.linalg.api.memory.MemoryWorkspace ws = org.nd4j.linalg.factory.Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
            if (m instanceof MultiLayerNetwork mln) {
                INDArray state = mln.getUpdater() == null ? null : mln.getUpdater().getStateViewArray();
                return new Snapshot(mln.getLayerWiseConfigurations().clone(), null, mln.params().dup(),
                        state == null ? null : state.dup(), mln.getIterationCount(), mln.getEpochCount());
            }
            ComputationGraph g = (ComputationGraph) m;
            INDArray state = g.getUpdater() == null ? null : g.getUpdater().getStateViewArray();
            return new Snapshot(null, g.getConfiguration().clone(), g.params().dup(), state == null ? null : state.dup(),
                    g.getIterationCount(), g.getEpochCount());
        }
    }

    /** See {@link #snapshot}. */
    public record Snapshot(org.deeplearning4j.nn.conf.MultiLayerConfiguration stack,
                           org.deeplearning4j.nn.conf.ComputationGraphConfiguration graph,
                           INDArray params, INDArray updaterState, int iterations, int epochs) {
        /** A model over the snapshot's own arrays (build it once). */
        public Model model() {
            if (stack != null) {
                MultiLayerNetwork net = new MultiLayerNetwork(stack);
                net.init(params, false);
                if (updaterState != null) net.getUpdater().setStateViewArray(net, updaterState, false);
                net.setIterationCount(iterations);
                net.setEpochCount(epochs);
                NativePath.install(net);
                return net;
            }
            ComputationGraph net = new ComputationGraph(graph);
            net.init(params, false);
            if (updaterState != null) net.getUpdater().setStateViewArray(updaterState);
            net.getConfiguration().setIterationCount(iterations);
            net.getConfiguration().setEpochCount(epochs);
            NativePath.install(net);
            return net;
        }
    }

    /** Width of the classifier: the number of classes the model predicts. */
    public static long outputs(Model m) {
        if (m instanceof MultiLayerNetwork) return ((MultiLayerNetwork) m).getOutputLayer().getParam("b").length();
        return ((ComputationGraph) m).getOutputLayer(0).getParam("b").length();
    }
}
