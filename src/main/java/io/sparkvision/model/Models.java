package io.sparkvision.model;

import io.sparkvision.model.onednn.NativePath;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.MapSchedule;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** The few operations jobs need on either kind of DL4J model (layer stack or graph with one input and output). */
public final class Models {
    private Models() {
    }

    public static INDArray output(Model m, INDArray features) {
        if (m instanceof MultiLayerNetwork) return ((MultiLayerNetwork) m).output(features, false);
        return ((ComputationGraph) m).outputSingle(false, features);
    }

    /**
     * Sets the learning rate; a model whose layers train at different rates (a fine-tuned backbone at its own rate,
     * {@link Transfer#fineTune}) keeps their proportions: the classifier gets {@code lr}, each other layer its multiple.
     */
    public static void setLearningRate(Model m, double lr) {
        Map<Object, Double> ratios = Transfer.rateRatios(m);
        if (ratios.isEmpty()) {
            if (m instanceof MultiLayerNetwork) ((MultiLayerNetwork) m).setLearningRate(lr);
            else ((ComputationGraph) m).setLearningRate(lr);
            return;
        }
        Map<Object, Object> rates = new LinkedHashMap<>();
        ratios.forEach((layer, ratio) -> rates.put(layer, lr * ratio));
        setLayerRates(m, rates, true);
    }

    /** As {@link #setLearningRate(Model, double)}, for a schedule (scaled per layer; only a MapSchedule can be). */
    public static void setLearningRate(Model m, org.nd4j.linalg.schedule.ISchedule schedule) {
        Map<Object, Double> ratios = Transfer.rateRatios(m);
        if (ratios.isEmpty()) {
            if (m instanceof MultiLayerNetwork) ((MultiLayerNetwork) m).setLearningRate(schedule);
            else ((ComputationGraph) m).setLearningRate(schedule);
            return;
        }
        if (!(schedule instanceof MapSchedule ms)) {
            throw new IllegalArgumentException("per-layer learning rates can only follow a MapSchedule, not " + schedule);
        }
        Map<Object, Object> rates = new LinkedHashMap<>();
        for (Map.Entry<Object, Double> e : ratios.entrySet()) {
            Map<Integer, Double> scaled = new HashMap<>();
            ms.getValues().forEach((k, v) -> scaled.put(k, v * e.getValue()));
            rates.put(e.getKey(), new MapSchedule(ms.getScheduleType(), scaled));
        }
        setLayerRates(m, rates, true);
    }

    /**
     * Sets each named layer's rate (a Double) or schedule (an ISchedule) on its own updater configuration, then
     * rebuilds the network's updater over a copy of its state. DL4J's per-layer setter instead rebuilds the state
     * array after every single change, and fails (NullPointerException in NetworkUtils.rebuildUpdaterStateArray) as
     * soon as a change splits the layers' updater blocks. The caller keeps the blocks as they were (same groups of
     * layers with equal rates), so the copied state lines up with the new updater.
     *
     * @param rates     keyed by layer index (stack) or layer name (graph)
     * @param keepState false = start the optimiser afresh (when the blocks change, as when a backbone first gets its rate)
     */
    static void setLayerRates(Model m, Map<Object, Object> rates, boolean keepState) {
        for (Map.Entry<Object, Object> e : rates.entrySet()) {
            org.deeplearning4j.nn.api.Layer l = m instanceof MultiLayerNetwork mln ? mln.getLayer((Integer) e.getKey())
                    : ((ComputationGraph) m).getLayer((String) e.getKey());
            BaseLayer bl = (BaseLayer) l.conf().getLayer();
            for (IUpdater u : new IUpdater[] {bl.getIUpdater(), bl.getBiasUpdater()}) {
                if (u == null || !u.hasLearningRate()) continue;
                if (e.getValue() instanceof ISchedule s) u.setLrAndSchedule(Double.NaN, s);
                else u.setLrAndSchedule((Double) e.getValue(), null);
            }
        }
        if (m instanceof MultiLayerNetwork mln) {
            INDArray state = mln.getUpdater(false) == null ? null : mln.getUpdater(false).getStateViewArray();
            INDArray copy = state == null || !keepState ? null : state.dup();
            mln.setUpdater(null);
            if (copy != null) mln.getUpdater().setStateViewArray(mln, copy, false);
        } else {
            ComputationGraph g = (ComputationGraph) m;
            INDArray state = g.getUpdater(false) == null ? null : g.getUpdater(false).getStateViewArray();
            INDArray copy = state == null || !keepState ? null : state.dup();
            g.setUpdater(null);
            if (copy != null) g.getUpdater().setStateViewArray(copy);
        }
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
