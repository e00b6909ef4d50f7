package io.sparkvision.train;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.data.ImageDataset;
import io.sparkvision.model.Models;
import io.sparkvision.train.ui.TrainingUi;
import io.sparkvision.config.GpuBinding;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.dataset.DataSet;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * Fits the network on Spark one epoch at a time: the epoch's training master and learning rate, the fit, and what
 * the workers measured, as the epoch's (not yet evaluated) metrics line. One implementation per training master,
 * as DL4J has one {@code TrainingMaster} per master (parameter averaging, gradient sharing).
 */
public abstract class EpochFitter {
    protected final JavaSparkContext sc;
    protected final JobConfig cfg;
    protected final ImageDataset train;
    protected final int workers;
    protected final int batch;
    protected final long seed;
    protected final int firstEpoch;
    protected final TrainingCounters counters;
    private final LearningRates lr;
    protected SparkModel spark;
    private TrainingUi ui;

    EpochFitter(JobConfig cfg, JavaSparkContext sc, ImageDataset train, int workers, int firstEpoch) {
        this.sc = sc;
        this.cfg = cfg;
        this.train = train;
        this.workers = workers;
        this.batch = cfg.get(Options.TRAIN_BATCH);
        this.seed = cfg.get(Options.TRAIN_SEED);
        this.firstEpoch = firstEpoch;
        this.counters = new TrainingCounters(sc);
        this.lr = new LearningRates(cfg, workers);
    }

    /** Minibatches the workers fit per epoch, all together (what the progress line counts to). */
    public abstract long batchesPerEpoch();

    /** The counters the workers report into (the progress meter reads them). */
    public TrainingCounters counters() {
        return counters;
    }

    public SparkModel model() {
        return spark;
    }

    /** Every epoch from now on also reports DL4J's training statistics to {@code ui} (ui.enabled); null = none. */
    public void reportTo(TrainingUi ui) {
        this.ui = ui;
    }

    /** Fits epoch {@code epoch}; the clock and the progress meter see its start and its fit. */
    public MetricsLine fit(int epoch, ProgressMeter progress, EpochClock clock, PrintStream out) {
        startEpoch(epoch);
        if (ui == null) {
            spark.setListeners(listeners());
        } else {
            List<TrainingListener> all = new java.util.ArrayList<>(listeners());
            all.add(ui.listener());
            spark.setListeners(ui.router(!cfg.get(Options.TRAIN_MASTER).perEpoch()), all);
        }
        double rate = lr.at(epoch);
        setLearningRate(lr, rate);
        progress.startEpoch(epoch);
        clock.startEpoch();
        // Each training task binds to the GPU Spark assigned it before DL4J's worker pulls data or builds its model.
        JavaRDD<DataSet> batches = GpuBinding.bindTasks(batches(epoch));
        clock.startFit();
        spark.fit(batches);
        clock.fitDone();
        batches.unpersist(false);
        Map<String, Object> fitReport = afterFit(out);
        Models.setEpochCount(spark.network(), epoch);
        double secs = progress.epochSeconds();
        Figures f = figures(progress.epochCounts(), fitReport, out);
        return MetricsLine.fitted(epoch, f.iteration(), rate, f.trainLoss(), f.examples(), f.mesh(), secs);
    }

    /** Ends the run (gradient sharing: its mesh). */
    public abstract void finish();

    /** Before the epoch's fit: the master to fit it with. */
    abstract void startEpoch(int epoch);

    abstract List<TrainingListener> listeners();

    /** Sets the epoch's rate ({@code rate}, from {@code lr}) where the fit will read it. */
    abstract void setLearningRate(LearningRates lr, double rate);

    /** The epoch's minibatches as the master wants them cut. */
    abstract JavaRDD<DataSet> batches(int epoch);

    /** Right after the fit, before the epoch's counts are read: what the master did to the model (or null). */
    abstract Map<String, Object> afterFit(PrintStream out);

    /** The epoch's figures from the workers' counts and what {@link #afterFit} reported. */
    abstract Figures figures(TrainingCounters.Snapshot counted, Map<String, Object> fitReport, PrintStream out);

    /**
     * What a master tells of a fitted epoch.
     *
     * @param iteration the run's iteration after the epoch, or null when nobody measured it
     * @param trainLoss the mean loss of the epoch's minibatches; NaN when nobody measured it
     * @param mesh      gradient sharing's mesh report; null for other masters
     */
    record Figures(Long iteration, double trainLoss, long examples, Map<String, Object> mesh) {
    }

    static long epochSeed(long seed, int epoch) {
        return seed * 1_000_003L + epoch;
    }
}
