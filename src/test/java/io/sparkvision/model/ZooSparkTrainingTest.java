package io.sparkvision.model;

import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import io.sparkvision.image.InputShape;
import io.sparkvision.train.TrainingMasters;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The graph families train through Spark with the product's training master (parameter averaging, local[2]):
 * a few minibatches of random data move the parameters and keep them finite.
 */
class ZooSparkTrainingTest {
    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        sc = TestSpark.local(2);
    }

    @AfterAll
    static void stop() {
        sc.close();
    }

    @Test
    void resNet18TrainsOnSpark() {
        trainOnSpark("resnet18", new InputShape(3, 32, 32));
    }

    @Test
    void googLeNetTrainsOnSpark() {
        Architecture g = Architectures.get("googlenet");
        trainOnSpark("googlenet", new InputShape(3, g.minimumInput().height(), g.minimumInput().width()));
    }

    private static void trainOnSpark(String name, InputShape in) {
        int batch = 4, batches = 4, classes = 10; // one averaging round: each worker fits 2 minibatches
        List<DataSet> data = new ArrayList<>();
        Nd4j.getRandom().setSeed(99);
        for (int i = 0; i < batches; i++) {
            INDArray y = Nd4j.zeros(batch, classes);
            for (int r = 0; r < batch; r++) y.putScalar(r, (i * batch + r) % classes, 1.0);
            data.add(new DataSet(Nd4j.rand(new int[] {batch, in.channels(), in.height(), in.width()}), y));
        }
        ComputationGraph net = (ComputationGraph) Architectures.get(name).build(in, classes, 3, new Adam(1e-3), 0);
        INDArray initial = net.params().dup();
        JobConfig cfg = JobConfig.fromString("train{batch-size-per-worker=4, averaging-frequency=2}");
        SparkComputationGraph spark = new SparkComputationGraph(sc, net, TrainingMasters.create(cfg, 2));
        spark.fit(sc.parallelize(data, 2));
        INDArray after = spark.getNetwork().params();
        double moved = after.sub(initial).norm2Number().doubleValue();
        assertTrue(moved > 1e-4, name + ": Spark training did not change the parameters (moved " + moved + ")");
        assertTrue(Double.isFinite(after.sumNumber().doubleValue()) && !after.isNaN().any(), name + ": non-finite parameters");
        INDArray out = spark.getNetwork().outputSingle(data.get(0).getFeatures());
        assertTrue(!out.isNaN().any(), name + ": NaN predictions after training");
    }
}
