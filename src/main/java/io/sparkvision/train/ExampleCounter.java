package io.sparkvision.train;

import org.apache.spark.util.LongAccumulator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;

import java.io.Serializable;

/**
 * Runs inside every training worker and counts the examples it has fitted into a Spark accumulator, which
 * the driver's {@link ProgressMeter} reads while the epoch is under way.
 */
public final class ExampleCounter extends BaseTrainingListener implements Serializable {
    private static final long serialVersionUID = 1L;
    private final LongAccumulator examples;

    public ExampleCounter(LongAccumulator examples) {
        this.examples = examples;
    }

    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        examples.add(model.batchSize());
    }
}
