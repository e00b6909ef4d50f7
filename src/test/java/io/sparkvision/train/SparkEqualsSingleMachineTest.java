package io.sparkvision.train;

import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import io.sparkvision.image.InputShape;
import io.sparkvision.model.Architectures;
import io.sparkvision.model.LeNet5;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DL4J's own proof pattern (its TestCompareParameterAveragingSparkVsSingleMachine): parameter averaging must give
 * the parameters that the arithmetic of synchronous SGD says it gives, computed on one machine.
 */
class SparkEqualsSingleMachineTest {
    static final InputShape SHAPE = new InputShape(1, 28, 28);

    /** {@code count} minibatches of {@code batch} random images with one-hot labels, reproducible by seed. */
    static List<DataSet> minibatches(int count, int batch, long seed) {
        Nd4j.getRandom().setSeed(seed);
        List<DataSet> data = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            INDArray labels = Nd4j.zeros(batch, 10);
            for (int r = 0; r < batch; r++) labels.putScalar(r, (i * batch + r * 3) % 10, 1.0);
            data.add(new DataSet(Nd4j.rand(batch, 1, 28, 28), labels));
        }
        return data;
    }

    static JobConfig job(String updater, double lr, int batch, int averagingFrequency) {
        return JobConfig.fromString("train { updater = " + updater + ", learning-rate = " + lr + ", batch-size-per-worker = " + batch
                + ", averaging-frequency = " + averagingFrequency + ", prefetch-batches = 0 }");
    }

    static double maxDiff(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue();
    }

    @Test
    void oneWorkerSgdMatchesSingleMachineFit() {
        int batch = 8, batches = 6;
        List<DataSet> data = minibatches(batches, batch, 12345);

        MultiLayerNetwork single = new LeNet5().build(SHAPE, 10, 7, new Sgd(0.05), 0);
        INDArray initial = single.params().dup();
        for (DataSet ds : data) single.fit(ds);

        // Averaging frequency covers every minibatch: one split, so the worker sees the batches in RDD order.
        JobConfig cfg = job("sgd", 0.05, batch, batches);
        MultiLayerNetwork distributed;
        try (JavaSparkContext sc = TestSpark.local(1)) {
            SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, new LeNet5().build(SHAPE, 10, 7, new Sgd(0.05), 0),
                    TrainingMasters.create(cfg, 1));
            spark.fit(sc.parallelize(data, 1));
            distributed = spark.getNetwork();
        }

        double moved = single.params().sub(initial).norm2Number().doubleValue();
        assertTrue(moved > 1e-3, "training must change the parameters for the comparison to mean anything, moved " + moved);
        double diff = maxDiff(single.params(), distributed.params());
        assertTrue(diff < 1e-5, "Spark (1 worker) and single-machine parameters differ by " + diff);
    }

    /**
     * Synchronous SGD: with plain SGD and a loss that is the mean over the minibatch, the average of N workers'
     * {@code w - lr * g_i} is {@code w - lr * mean(g_i)}, one SGD step on the union of their equal-sized minibatches.
     * So N workers averaging after every step equal one machine fitting the combined batch, step after step.
     */
    @Test
    void twoWorkersAveragingEveryStepEqualOneMachineOnTheCombinedBatch() {
        int workers = 2, batch = 8, steps = 4;
        List<DataSet> data = minibatches(workers * steps, batch, 4242);
        JobConfig cfg = job("sgd", 0.1, batch, 1);

        MultiLayerNetwork single = new LeNet5().build(SHAPE, 10, 7, LearningRates.updater(cfg), 0);
        INDArray initial = single.params().dup();
        MultiLayerNetwork distributed;
        try (JavaSparkContext sc = TestSpark.local(workers)) {
            SparkModel spark = SparkModel.of(sc, new LeNet5().build(SHAPE, 10, 7, LearningRates.updater(cfg), 0),
                    TrainingMasters.create(cfg, workers));
            for (int s = 0; s < steps; s++) {
                List<DataSet> step = data.subList(s * workers, (s + 1) * workers);
                single.fit(DataSet.merge(step));
                // One fit = one averaging round: each worker takes one of the step's minibatches (DL4J's test does the same).
                spark.fit(sc.parallelize(step, workers));
            }
            distributed = (MultiLayerNetwork) spark.network();
        }
        double moved = single.params().sub(initial).norm2Number().doubleValue();
        assertTrue(moved > 1e-3, "training must change the parameters, moved " + moved);
        double diff = maxDiff(single.params(), distributed.params());
        assertTrue(diff < 1e-5, "2 workers averaging every step vs one machine on the combined batch differ by " + diff);
    }

    /**
     * The train job's path (its model, its updater from the job config, its training master) with Adam. Adam's step
     * {@code lr * m_hat / (sqrt(v_hat) + eps)} is not linear in the gradient, so the SGD identity above does NOT hold:
     * averaging two Adam steps is not one Adam step on the combined batch (asserted below, so nobody relies on it).
     * What holds exactly, and is asserted, is what parameter averaging with {@code saveUpdater(true)} promises: every
     * round, each worker starts from the shared parameters and the shared Adam moments, takes its Adam step on its
     * own minibatch, and the driver keeps the arithmetic mean of the workers' parameters AND of their Adam moments.
     * A master that dropped or reset the moments (or did not average them) fails this.
     */
    @Test
    void withAdamAveragingIsTheMeanOfTheWorkersAdamStepsParametersAndMoments() {
        int workers = 2, batch = 8, steps = 3;
        List<DataSet> data = minibatches(workers * steps, batch, 777);
        JobConfig cfg = job("adam", 0.01, batch, 1);
        MultiLayerNetwork reference = (MultiLayerNetwork) Architectures.get("lenet5").build(SHAPE, 10, 7, LearningRates.updater(cfg), 0);
        MultiLayerNetwork combined = reference.clone();
        MultiLayerNetwork distributed;
        try (JavaSparkContext sc = TestSpark.local(workers)) {
            SparkModel spark = SparkModel.of(sc, reference.clone(), TrainingMasters.create(cfg, workers));
            for (int s = 0; s < steps; s++) {
                List<DataSet> step = data.subList(s * workers, (s + 1) * workers);
                spark.fit(sc.parallelize(step, workers));
                combined.fit(DataSet.merge(step));
                // Parameter averaging by hand on one machine: the workers' Adam steps from the shared state, then means.
                INDArray params = Nd4j.zerosLike(reference.params()), moments = Nd4j.zerosLike(reference.getUpdater().getStateViewArray());
                for (DataSet ds : step) {
                    MultiLayerNetwork w = reference.clone();
                    w.fit(ds);
                    params.addi(w.params());
                    moments.addi(w.getUpdater().getStateViewArray());
                }
                reference.setParams(params.divi(workers));
                reference.getUpdater().getStateViewArray().assign(moments.divi(workers));
                reference.setIterationCount(reference.getIterationCount() + 1);
            }
            distributed = (MultiLayerNetwork) spark.network();
        }
        double params = maxDiff(reference.params(), distributed.params());
        INDArray expectedMoments = reference.getUpdater().getStateViewArray();
        double moments = maxDiff(expectedMoments, distributed.getUpdater().getStateViewArray())
                / expectedMoments.amaxNumber().doubleValue();
        assertTrue(params < 1e-5, "Spark's parameters vs the mean of the workers' Adam steps differ by " + params);
        assertTrue(moments < 1e-4, "Spark's Adam moments vs the mean of the workers' moments differ by (relative) " + moments);
        double vsCombined = maxDiff(combined.params(), distributed.params());
        assertTrue(vsCombined > 100 * 1e-5, "with Adam, averaging is expected to differ from one machine on the combined batch; "
                + "difference only " + vsCombined);
    }
}
