package io.sparkvision.train;

import io.sparkvision.config.JobConfig;
import io.sparkvision.data.ImageDataset;
import io.sparkvision.model.Models;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.dataset.DataSet;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/** Parameter averaging: a new DL4J training master per epoch; the driver's network is the averaged model. */
final class AveragingEpochFitter extends EpochFitter {
    private final int batchesPerWorker;

    AveragingEpochFitter(JobConfig cfg, JavaSparkContext sc, Model net, ImageDataset train, int workers, int firstEpoch) {
        super(cfg, sc, train, workers, firstEpoch);
        // ImageDataset spreads an epoch evenly over the workers.
        this.batchesPerWorker = (int) Math.ceil(train.count() / (double) batch / workers);
        this.spark = SparkModel.of(sc, net, TrainingMasters.create(cfg, workers, epochSeed(seed, firstEpoch), batchesPerWorker));
    }

    @Override
    public long batchesPerEpoch() {
        return train.batchCount(batch);
    }

    @Override
    void startEpoch(int epoch) {
        if (epoch > firstEpoch) {
            // A new master per epoch, seeded by the epoch: how the epoch is cut into averaging rounds then
            // does not depend on where the run started, which makes --resume reproduce an unbroken run.
            spark = SparkModel.of(sc, spark.network(), TrainingMasters.create(cfg, workers, epochSeed(seed, epoch), batchesPerWorker));
        }
    }

    @Override
    List<TrainingListener> listeners() {
        return List.of(counters.workerListener());
    }

    @Override
    void setLearningRate(LearningRates lr, double rate) {
        Models.setLearningRate(spark.network(), rate);
    }

    @Override
    JavaRDD<DataSet> batches(int epoch) {
        return train.epochBatches(seed, epoch, batch);
    }

    @Override
    Map<String, Object> afterFit(PrintStream out) {
        return null; // the driver's network is the averaged model
    }

    @Override
    Figures figures(TrainingCounters.Snapshot counted, Map<String, Object> fitReport, PrintStream out) {
        // The mean loss of the epoch's minibatches as the workers measured them, else the averaged model's score.
        double loss = counted.minibatches() > 0 ? counted.meanLoss() : spark.score();
        return new Figures((long) Models.iterationCount(spark.network()), loss, counted.examples(), null);
    }

    @Override
    public void finish() {
        // no mesh to end
    }
}
