package io.sparkvision.train;

import io.sparkvision.config.GpuBinding;
import io.sparkvision.model.onednn.NativePath;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.core.storage.StatsStorageRouterProvider;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.api.WorkerConfiguration;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker;

import java.util.Collection;

/**
 * DL4J's parameter averaging with one change: a worker fits every minibatch it is given in an averaging round.
 *
 * <p>DL4J M2 cuts an epoch into {@code floor(minibatches / (workers × averagingFrequency))} rounds, so when the
 * epoch's minibatch count is not a multiple of that product the remainder is spread over the rounds; yet it caps
 * each worker at {@code averagingFrequency} minibatches per round ({@code WorkerConfiguration.maxBatchesPerWorker})
 * and silently skips the rest of its partition. Measured through the train job: 160 examples, batch 16 per worker,
 * 2 workers, averaging every 2 fitted 128 examples per epoch; the other 32 were never trained on. Here the cap is 0
 * (DL4J's "no limit"): a round that received a remainder minibatch fits it before averaging, so rounds average
 * after {@code averagingFrequency} minibatches or one more, and every example of the epoch is fitted.
 */
public final class EveryBatchParameterAveraging extends ParameterAveragingTrainingMaster {
    private static final int NO_LIMIT = 0;

    EveryBatchParameterAveraging(Builder builder) {
        super(builder);
    }

    @Override
    public ParameterAveragingTrainingWorker getWorkerInstance(SparkComputationGraph graph) {
        var net = graph.getNetwork();
        return worker(graph.getSparkContext(), true,
                new NetBroadcastTuple(net.getConfiguration(), net.params(), net.getUpdater().getStateViewArray()));
    }

    @Override
    public ParameterAveragingTrainingWorker getWorkerInstance(SparkDl4jMultiLayer network) {
        var net = network.getNetwork();
        return worker(network.getSparkContext(), false,
                new NetBroadcastTuple(net.getLayerWiseConfigurations(), net.params(), net.getUpdater().getStateViewArray()));
    }

    private ParameterAveragingTrainingWorker worker(JavaSparkContext sc, boolean graph, NetBroadcastTuple tuple) {
        if (collectTrainingStats) stats.logBroadcastStart();
        var broadcast = sc.broadcast(tuple);
        if (collectTrainingStats) stats.logBroadcastEnd();
        WorkerConfiguration configuration = new WorkerConfiguration(graph, rddDataSetNumExamples, batchSizePerWorker,
                NO_LIMIT, prefetchNumBatches, collectTrainingStats);
        return new BoundWorker(broadcast, saveUpdater, configuration, trainingHookList, listeners, getRouterProvider());
    }

    /**
     * DL4J's worker, bound to its task's GPU before it builds the round's model (later rounds read cached data), with
     * the product's oneDNN path installed in that model before its first step: DL4J builds a new network every
     * averaging round, and installed only from the first step's listener the round's first minibatch ran DL4J's slower
     * path (one in five at averaging-frequency 5).
     */
    static final class BoundWorker extends ParameterAveragingTrainingWorker {
        BoundWorker(Broadcast<NetBroadcastTuple> broadcast, boolean saveUpdater, WorkerConfiguration configuration,
                    Collection<TrainingHook> hooks, Collection<TrainingListener> listeners, StatsStorageRouterProvider router) {
            super(broadcast, saveUpdater, configuration, hooks, listeners, router);
        }

        @Override
        public MultiLayerNetwork getInitialModel() {
            GpuBinding.bindThisTask();
            MultiLayerNetwork net = super.getInitialModel();
            NativePath.install(net);
            return net;
        }

        @Override
        public ComputationGraph getInitialModelGraph() {
            GpuBinding.bindThisTask();
            ComputationGraph net = super.getInitialModelGraph();
            NativePath.install(net);
            return net;
        }
    }
}
