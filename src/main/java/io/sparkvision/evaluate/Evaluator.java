package io.sparkvision.evaluate;

import io.sparkvision.config.Choices.EvalWhere;
import io.sparkvision.data.ImageDataset;
import io.sparkvision.train.SparkModel;

import java.util.List;

/**
 * Top-1/top-k accuracy and mean loss of the model being trained, on a held-out split: on the driver
 * ({@link DriverEvaluator}, batches kept in driver memory, for small splits) or on the executors
 * ({@link ClusterEvaluator}, for large ones). Closing it releases the held-out data.
 */
public interface Evaluator extends AutoCloseable {
    EvalResult evaluate(SparkModel model);

    @Override
    void close();

    /**
     * The evaluator eval.where asks for, on {@code test}. The driver evaluator collects the batches and releases the
     * Spark-side copy at once; the cluster evaluator keeps it cached until closed.
     */
    static Evaluator of(EvalWhere where, ImageDataset test, int batchSize, List<String> classes, int topK) {
        if (where == EvalWhere.CLUSTER) return new ClusterEvaluator(test, batchSize, classes, topK);
        DriverEvaluator driver = new DriverEvaluator(test.batches(batchSize).collect(), classes, topK);
        test.release();
        return driver;
    }
}
