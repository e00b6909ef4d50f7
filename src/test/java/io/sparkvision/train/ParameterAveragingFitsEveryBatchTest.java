package io.sparkvision.train;

import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import io.sparkvision.model.LeNet5;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Sgd;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * No example is left out of an epoch. 10 minibatches for 2 workers averaging every 2 is 2.5 rounds: DL4J M2 makes
 * 2 rounds of 5 minibatches and, left alone, lets each worker fit only 2 of its 2 or 3, so 2 of the 10 minibatches
 * were never fitted (the train job counted 128 of 160 examples per epoch). With {@link EveryBatchParameterAveraging}
 * all 10 are fitted; reverting {@link TrainingMasters} to DL4J's plain master fails this test with 8.
 */
class ParameterAveragingFitsEveryBatchTest {

    @Test
    void everyMinibatchOfAnEpochIsFittedWhenRoundsDoNotDivideIt() {
        int workers = 2, batch = 8, minibatches = 10;
        List<DataSet> data = SparkEqualsSingleMachineTest.minibatches(minibatches, batch, 99);
        JobConfig cfg = SparkEqualsSingleMachineTest.job("sgd", 0.05, batch, 2);
        try (JavaSparkContext sc = TestSpark.local(workers)) {
            MultiLayerNetwork net = new LeNet5().build(SparkEqualsSingleMachineTest.SHAPE, 10, 7, new Sgd(0.05), 0);
            SparkModel spark = SparkModel.of(sc, net, TrainingMasters.create(cfg, workers, 1234L, minibatches / workers));
            TrainingCounters counters = new TrainingCounters(sc);
            spark.setListeners(List.of(counters.workerListener()));
            for (int epoch = 1; epoch <= 2; epoch++) {
                TrainingCounters.Snapshot before = counters.completed();
                spark.fit(sc.parallelize(data, workers));
                TrainingCounters.Snapshot fitted = counters.completed().minus(before);
                assertEquals(minibatches, fitted.minibatches(), "epoch " + epoch + ": minibatches fitted");
                assertEquals((long) minibatches * batch, fitted.examples(), "epoch " + epoch + ": examples fitted");
            }
        }
    }
}
