package io.sparkvision.train;

import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import io.sparkvision.model.InputShape;
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
 * DL4J's own proof pattern: parameter averaging with one worker and plain SGD must give the parameters that
 * fitting the same minibatches in the same order on one machine gives.
 */
class SparkEqualsSingleMachineTest {
    @Test
    void oneWorkerSgdMatchesSingleMachineFit() {
        int batch = 8, batches = 6;
        List<DataSet> data = new ArrayList<>();
        Nd4j.getRandom().setSeed(12345);
        for (int i = 0; i < batches; i++) {
            INDArray labels = Nd4j.zeros(batch, 10);
            for (int r = 0; r < batch; r++) labels.putScalar(r, (i * batch + r) % 10, 1.0);
            data.add(new DataSet(Nd4j.rand(batch, 1, 28, 28), labels));
        }
        InputShape shape = new InputShape(1, 28, 28);

        MultiLayerNetwork single = new LeNet5().build(shape, 10, 7, new Sgd(0.05), 0);
        INDArray initial = single.params().dup();
        for (DataSet ds : data) single.fit(ds);

        // Averaging frequency covers every minibatch: one split, so the worker sees the batches in RDD order.
        JobConfig cfg = JobConfig.fromString("train { updater = sgd, learning-rate = 0.05, batch-size-per-worker = " + batch
                + ", averaging-frequency = " + batches + ", prefetch-batches = 0 }");
        MultiLayerNetwork distributed;
        try (JavaSparkContext sc = TestSpark.local(1)) {
            SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, new LeNet5().build(shape, 10, 7, new Sgd(0.05), 0),
                    TrainingMasters.create(cfg, 1));
            spark.fit(sc.parallelize(data, 1));
            distributed = spark.getNetwork();
        }

        double moved = single.params().sub(initial).norm2Number().doubleValue();
        assertTrue(moved > 1e-3, "training must change the parameters for the comparison to mean anything, moved " + moved);
        double diff = single.params().sub(distributed.params()).amaxNumber().doubleValue();
        assertTrue(diff < 1e-5, "Spark (1 worker) and single-machine parameters differ by " + diff);
    }
}
