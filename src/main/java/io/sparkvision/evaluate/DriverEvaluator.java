package io.sparkvision.evaluate;

import io.sparkvision.model.Models;
import io.sparkvision.train.SparkModel;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.List;

/**
 * Evaluates the current model on the driver after an epoch. The held-out batches are decoded on the
 * executors once and kept on the driver, so each evaluation is only forward passes.
 */
public final class DriverEvaluator implements Evaluator {
    private final List<DataSet> batches;
    private final List<String> classes;
    private final int topK;

    public DriverEvaluator(List<DataSet> batches, List<String> classes, int topK) {
        this.batches = batches;
        this.classes = classes;
        this.topK = Math.min(topK, classes.size());
    }

    @Override
    public EvalResult evaluate(SparkModel model) {
        return evaluate(model.network());
    }

    /** The held-out batches are plain driver memory: nothing to release. */
    @Override
    public void close() {
    }

    public EvalResult evaluate(Model net) {
        Evaluation ev = new Evaluation(classes, topK);
        double lossSum = 0;
        long n = 0;
        for (DataSet ds : batches) {
            INDArray out = Models.output(net, ds.getFeatures());
            ev.eval(ds.getLabels(), out);
            lossSum += crossEntropySum(ds.getLabels(), out);
            n += ds.numExamples();
        }
        return EvalResult.of(ev, lossSum / Math.max(1, n), classes);
    }

    static double crossEntropySum(INDArray labels, INDArray probabilities) {
        INDArray logP = Transforms.log(probabilities.add(1e-12), false);
        return -logP.muli(labels).sumNumber().doubleValue();
    }
}
