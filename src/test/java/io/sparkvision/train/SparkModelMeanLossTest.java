package io.sparkvision.train;

import io.sparkvision.TestSpark;
import io.sparkvision.model.LeNet5;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Sgd;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The evaluate job's mean loss (computed on the executors) equals the network's own score over every example, for an
 * evaluation set of 10 minibatches of 500 in one partition: the shape of MNIST's test split on two cores, which
 * DL4J's default re-cutting into minibatches of 64 failed on ("Cannot merge examples ... shape: []"), and 1,100
 * examples (500, 500, 100), of which the re-cutting scored only 1,088.
 */
class SparkModelMeanLossTest {
    @Test
    void meanLossCoversEveryExampleOfLargeMinibatches() {
        MultiLayerNetwork net = new LeNet5().build(SparkEqualsSingleMachineTest.SHAPE, 10, 7, new Sgd(0.1), 0);
        try (JavaSparkContext sc = TestSpark.local(1)) {
            SparkModel spark = SparkModel.of(sc, net, TrainingMasters.create(SparkEqualsSingleMachineTest.job("sgd", 0.1, 500, 1), 1));
            for (int[] sizes : new int[][] {{500, 500, 500, 500, 500, 500, 500, 500, 500, 500}, {500, 500, 100}}) {
                List<DataSet> data = new java.util.ArrayList<>();
                long seed = 1;
                for (int n : sizes) data.add(SparkEqualsSingleMachineTest.minibatches(1, n, seed++).get(0));
                double expected = 0;
                long examples = 0;
                for (DataSet ds : data) {
                    expected += net.score(ds, false) * ds.numExamples();
                    examples += ds.numExamples();
                }
                expected /= examples;
                double got = spark.meanLoss(sc.parallelize(data, 1), 500);
                assertEquals(expected, got, 1e-5 * Math.abs(expected), "mean loss over " + examples + " examples");
            }
        }
    }
}
