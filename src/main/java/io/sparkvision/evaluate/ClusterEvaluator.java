package io.sparkvision.evaluate;

import io.sparkvision.data.ImageDataset;
import io.sparkvision.train.SparkModel;
import io.sparkvision.config.GpuBinding;
import org.apache.spark.api.java.JavaRDD;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.DataSet;

import java.util.List;

/** Top-1/top-k on the executors ({@code doEvaluation}), merged on the driver, plus the mean loss. */
public final class ClusterEvaluator implements Evaluator {
    private final ImageDataset test;
    private final int batchSize;
    private final List<String> classes;
    private final int topK;

    public ClusterEvaluator(ImageDataset test, int batchSize, List<String> classes, int topK) {
        this.test = test;
        this.batchSize = batchSize;
        this.classes = classes;
        this.topK = Math.min(topK, classes.size());
    }

    @Override
    public EvalResult evaluate(SparkModel model) {
        JavaRDD<DataSet> batches = GpuBinding.bindTasks(test.batches(batchSize)); // each task on its GPU
        Evaluation ev = model.evaluate(batches, batchSize, new Evaluation(classes, topK));
        return EvalResult.of(ev, model.meanLoss(batches, batchSize), classes);
    }

    @Override
    public void close() {
        test.release();
    }
}
