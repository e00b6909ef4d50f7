package io.sparkvision.train;

import io.sparkvision.train.sharing.KeepSharedUpdates;
import io.sparkvision.train.sharing.WorkerModels;
import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.data.ImageDataset;
import io.sparkvision.model.Models;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Gradient sharing: one DL4J training master and mesh for the whole run; the model trains on the executors, and
 * after each epoch their mean becomes the driver's network (the one evaluated, checkpointed and saved).
 */
final class SharingEpochFitter extends EpochFitter {
    /** How long a gradient-sharing worker waits for the others to join the mesh before its first step. */
    private static final long MESH_WAIT_MILLIS = 120_000;
    private final int batchesPerWorker;
    private final List<TrainingListener> listeners;
    private long sharedSteps;

    SharingEpochFitter(JobConfig cfg, JavaSparkContext sc, Model net, ImageDataset train, int workers, int firstEpoch,
                       long sharedSteps) {
        super(cfg, sc, train, workers, firstEpoch);
        this.sharedSteps = sharedSteps;
        // The schedule clock: a worker's minibatches per epoch and its iteration count, which starts where the
        // driver's network stands when first sent.
        this.batchesPerWorker = train.batchesPerPartition(batch);
        Models.setIterationCount(net, (firstEpoch - 1) * batchesPerWorker);
        this.spark = SparkModel.of(sc, net, TrainingMasters.create(cfg, workers, epochSeed(seed, firstEpoch), batchesPerWorker));
        // In one JVM (local modes) DL4J's gradient sharing trains one network in place, without a mesh: nothing to keep,
        // and waiting for a mesh of 'workers' nodes there stalled the run (TrainJobTest hung in DL4J's wrapper).
        this.listeners = cfg.get(Options.GS_KEEP_UPDATES) && !sc.isLocal()
                ? List.of(counters.workerListener(), new KeepSharedUpdates(workers, MESH_WAIT_MILLIS,
                        TrainingMasters.denseEncoding(cfg), cfg.get(Options.GS_MAX_STALENESS)))
                : List.of(counters.workerListener());
    }

    @Override
    public long batchesPerEpoch() {
        return (long) batchesPerWorker * workers;
    }

    @Override
    void startEpoch(int epoch) {
        // one master for the run
    }

    @Override
    List<TrainingListener> listeners() {
        return listeners;
    }

    @Override
    void setLearningRate(LearningRates lr, double rate) {
        Models.setLearningRate(spark.network(), lr.iterationSchedule(batchesPerWorker)); // a schedule reaches the workers
    }

    @Override
    JavaRDD<DataSet> batches(int epoch) {
        // Every worker takes the same number of steps (its synchronous workers count each other's).
        return train.evenEpochBatches(seed, epoch, batch);
    }

    @Override
    Map<String, Object> afterFit(PrintStream out) {
        return adoptWorkerModels(out);
    }

    @Override
    Figures figures(TrainingCounters.Snapshot counted, Map<String, Object> workerCopies, PrintStream out) {
        // The driver's network never fits; every worker's minibatch is one step of the shared model, so the run's
        // iteration is the minibatches the workers fitted. A value nobody measured is left out rather than written as 0.
        sharedSteps += counted.minibatches();
        boolean measured = counted.minibatches() > 0;
        Map<String, Object> mesh = counters.takeMeshReport();
        mesh.putAll(workerCopies);
        out.println("  gradient sharing: " + TrainingCounters.describe(mesh));
        return new Figures(measured ? Long.valueOf(sharedSteps) : null, measured ? counted.meanLoss() : Double.NaN,
                counted.examples(), mesh);
    }

    /**
     * The model that trained is on the executors (see {@link WorkerModels}); the driver's own copy is what its mesh
     * node received, and it trails. Makes the executors' mean the driver's network and reports how far apart the
     * copies were.
     */
    private Map<String, Object> adoptWorkerModels(PrintStream out) {
        Map<String, INDArray> copies = WorkerModels.collect(sc, workers);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("workerModels", copies.size());
        if (copies.isEmpty()) {
            out.println("  gradient sharing: no executor returned its model; the driver's mesh copy is kept");
            return report;
        }
        INDArray mean = WorkerModels.mean(copies);
        report.put("workerSpread", WorkerModels.spread(copies, mean));
        // How far the driver's own mesh copy had fallen behind (what DL4J would have evaluated and saved).
        report.put("driverLag", spark.network().params().distance2(mean) / mean.norm2Number().doubleValue());
        WorkerModels.adopt(spark.network(), mean);
        return report;
    }

    @Override
    public void finish() {
        TrainingMasters.stopGradientSharing();
    }
}
