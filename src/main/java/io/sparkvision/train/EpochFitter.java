package io.sparkvision.train;

import io.sparkvision.config.Choices.TrainMaster;
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
 * Fits the network on Spark one epoch at a time: the epoch's training master and learning rate, the fit, and what
 * the workers measured, as the epoch's (not yet evaluated) metrics line.
 */
public final class EpochFitter {
    /** How long a gradient-sharing worker waits for the others to join the mesh before its first step. */
    private static final long MESH_WAIT_MILLIS = 120_000;
    private final JavaSparkContext sc;
    private final JobConfig cfg;
    private final ImageDataset train;
    private final int workers;
    private final int batch;
    private final long seed;
    private final TrainMaster master;
    private final int firstEpoch;
    private final int batchesPerWorker;
    private final LearningRates lr;
    private final TrainingCounters counters;
    private final List<TrainingListener> listeners;
    private SparkModel spark;
    private long sharedSteps;

    /**
     * @param firstEpoch  the epoch this run starts with (after a resume, the one after the checkpoint)
     * @param sharedSteps gradient sharing: the minibatches fitted before this run (from the resumed metrics)
     */
    public EpochFitter(JobConfig cfg, JavaSparkContext sc, Model net, ImageDataset train, int workers, int firstEpoch,
                       long sharedSteps) {
        this.sc = sc;
        this.cfg = cfg;
        this.train = train;
        this.workers = workers;
        this.batch = cfg.get(Options.TRAIN_BATCH);
        this.seed = cfg.get(Options.TRAIN_SEED);
        this.master = cfg.get(Options.TRAIN_MASTER);
        this.firstEpoch = firstEpoch;
        this.sharedSteps = sharedSteps;
        // Gradient sharing's schedule clock: a worker's minibatches per epoch (ImageDataset spreads an epoch evenly over
        // the workers) and its iteration count, which starts where the driver's network stands when first sent.
        this.batchesPerWorker = master.perEpoch() ? (int) Math.ceil(train.count() / (double) batch / workers)
                : train.batchesPerPartition(batch);
        if (!master.perEpoch()) Models.setIterationCount(net, (firstEpoch - 1) * batchesPerWorker);
        this.spark = SparkModel.of(sc, net, TrainingMasters.create(cfg, workers, epochSeed(seed, firstEpoch), batchesPerWorker));
        this.counters = new TrainingCounters(sc);
        // In one JVM (local modes) DL4J's gradient sharing trains one network in place, without a mesh: nothing to keep,
        // and waiting for a mesh of 'workers' nodes there stalled the run (TrainJobTest hung in DL4J's wrapper).
        this.listeners = !master.perEpoch() && cfg.get(Options.GS_KEEP_UPDATES) && !sc.isLocal()
                ? List.of(counters.workerListener(), new KeepSharedUpdates(workers, MESH_WAIT_MILLIS,
                        TrainingMasters.denseEncoding(cfg), cfg.get(Options.GS_MAX_STALENESS)))
                : List.of(counters.workerListener());
        this.lr = new LearningRates(cfg, workers);
    }

    /** Minibatches the workers fit per epoch, all together (what the progress line counts to). */
    public long batchesPerEpoch() {
        return master.perEpoch() ? train.batchCount(batch) : (long) batchesPerWorker * workers;
    }

    /** The counters the workers report into (the progress meter reads them). */
    public TrainingCounters counters() {
        return counters;
    }

    public SparkModel model() {
        return spark;
    }

    /** Fits epoch {@code epoch}; the clock and the progress meter see its start and its fit. */
    public MetricsLine fit(int epoch, ProgressMeter progress, EpochClock clock, PrintStream out) {
        if (master.perEpoch() && epoch > firstEpoch) {
            // A new master per epoch, seeded by the epoch: how the epoch is cut into averaging rounds then
            // does not depend on where the run started, which makes --resume reproduce an unbroken run.
            spark = SparkModel.of(sc, spark.network(), TrainingMasters.create(cfg, workers, epochSeed(seed, epoch), batchesPerWorker));
        }
        spark.setListeners(listeners);
        double rate = lr.at(epoch);
        if (master.perEpoch()) Models.setLearningRate(spark.network(), rate);
        else Models.setLearningRate(spark.network(), lr.iterationSchedule(batchesPerWorker)); // reaches GS workers
        progress.startEpoch(epoch);
        clock.startEpoch();
        // Gradient sharing: every worker takes the same number of steps (its synchronous workers count each other's).
        JavaRDD<DataSet> batches = master.perEpoch() ? train.epochBatches(seed, epoch, batch) : train.evenEpochBatches(seed, epoch, batch);
        clock.startFit();
        spark.fit(batches);
        clock.fitDone();
        batches.unpersist(false);
        Map<String, Object> workerCopies = master.perEpoch() ? null : adoptWorkerModels(out);
        Models.setEpochCount(spark.network(), epoch);
        double secs = progress.epochSeconds();
        TrainingCounters.Snapshot counted = progress.epochCounts();
        // Gradient sharing: the driver's network never fits; every worker's minibatch is one step of the
        // shared model, so the run's iteration is the minibatches the workers fitted.
        sharedSteps += counted.minibatches();
        // The mean loss of the epoch's minibatches as the workers measured them; a value nobody measured is
        // left out rather than written as 0.
        double trainLoss = counted.minibatches() > 0 ? counted.meanLoss() : master.perEpoch() ? spark.score() : Double.NaN;
        Long iteration = master.perEpoch() ? Long.valueOf(Models.iterationCount(spark.network()))
                : counted.minibatches() > 0 ? Long.valueOf(sharedSteps) : null;
        Map<String, Object> mesh = null;
        if (!master.perEpoch()) {
            mesh = counters.takeMeshReport();
            mesh.putAll(workerCopies);
            out.println("  gradient sharing: " + TrainingCounters.describe(mesh));
        }
        return MetricsLine.fitted(epoch, iteration, rate, trainLoss, counted.examples(), mesh, secs);
    }

    /**
     * Gradient sharing: the model that trained is on the executors (see {@link WorkerModels}); the driver's own copy
     * is what its mesh node received, and it trails. Makes the executors' mean the driver's network (the one
     * evaluated, checkpointed and saved) and reports how far apart the copies were.
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

    /** Ends the run's gradient-sharing mesh (parameter averaging has none). */
    public void finish() {
        if (!master.perEpoch()) TrainingMasters.stopGradientSharing();
    }

    static long epochSeed(long seed, int epoch) {
        return seed * 1_000_003L + epoch;
    }
}
