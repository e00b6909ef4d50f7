package io.sparkvision.train.sharing;

import io.sparkvision.train.LearningRates;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.ThresholdAlgorithm;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.ThresholdAlgorithmReducer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * Gradient sharing's encoding threshold as a multiple of the epoch's learning rate. A worker sends each weight's
 * accumulated update in quanta of +-threshold, at most one per step; an Adam (or momentum) step moves a weight by
 * about the learning rate at most, so a threshold near the rate passes every step on at full size and smaller ones
 * later through the residual. DL4J's adaptive algorithm instead raises the threshold until at most 1% of the
 * weights go out per step, which on a small network starves the updates (see docs/design.md, DL4J and Spark defects worked around).
 */
public final class LearningRateThreshold implements ThresholdAlgorithm {
    private static final long serialVersionUID = 1L;
    /** Indexed by epoch - 1; iterations beyond the schedule keep the last value. */
    private final double[] thresholds;
    /** A worker's minibatches per epoch: its iteration count is the clock (see LearningRates#iterationSchedule). */
    private final int batchesPerWorker;

    public LearningRateThreshold(LearningRates rates, int epochs, double factor, int batchesPerWorker) {
        thresholds = new double[epochs];
        for (int e = 1; e <= epochs; e++) thresholds[e - 1] = factor * rates.at(e);
        this.batchesPerWorker = Math.max(1, batchesPerWorker);
    }

    private LearningRateThreshold(double[] thresholds, int batchesPerWorker) {
        this.thresholds = thresholds;
        this.batchesPerWorker = batchesPerWorker;
    }

    @Override
    public double calculateThreshold(int iteration, int epoch, Double lastThreshold, Boolean lastWasDense,
                                     Double lastSparsityRatio, INDArray updatesPlusResidual) {
        return thresholds[(int) Math.max(0, Math.min(iteration / batchesPerWorker, thresholds.length - 1))];
    }

    @Override
    public ThresholdAlgorithmReducer newReducer() {
        return new Reducer(this);
    }

    @Override
    public LearningRateThreshold clone() {
        return new LearningRateThreshold(thresholds.clone(), batchesPerWorker);
    }

    @Override
    public String toString() {
        return "LearningRateThreshold" + Arrays.toString(thresholds);
    }

    /** The algorithm has no state to average: any worker's copy is the result. */
    private static final class Reducer implements ThresholdAlgorithmReducer {
        private static final long serialVersionUID = 1L;
        private final LearningRateThreshold result;

        Reducer(LearningRateThreshold result) {
            this.result = result;
        }

        @Override
        public void add(ThresholdAlgorithm ignored) {
        }

        @Override
        public ThresholdAlgorithmReducer merge(ThresholdAlgorithmReducer other) {
            return this;
        }

        @Override
        public ThresholdAlgorithm getFinalResult() {
            return result;
        }
    }
}
