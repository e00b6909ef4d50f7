package io.sparkvision.train.sharing;

import org.deeplearning4j.optimize.solvers.accumulation.encoding.ResidualPostProcessor;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.ThresholdAlgorithm;
import org.deeplearning4j.spark.parameterserver.networking.v2.WiredEncodingHandler;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Gradient sharing's encoder with one change: every message is a bitmap (2 bits per parameter: +threshold,
 * -threshold or nothing), never DL4J's sparse index list. DL4J M2 switches to the sparse list when few parameters
 * pass the threshold, and when a sparse encoding then finds too many (more than 1/16 of the parameters) it has
 * already taken the first 1/16 of them out of the residual before it drops that message and encodes a bitmap from
 * what is left: those quanta are neither sent nor applied, on any worker. A bitmap never loses one; for the
 * parameter counts gradient sharing is used with it costs at most 1/16 of a dense float update per step.
 */
public final class DenseEncoding extends WiredEncodingHandler {
    private double last = Double.NaN;
    /** Send a message even when nothing reached the threshold: synchronous workers count one per step. */
    private final boolean everyStep;

    DenseEncoding(ThresholdAlgorithm thresholdAlgorithm, ResidualPostProcessor residualPostProcessor, boolean everyStep) {
        super(thresholdAlgorithm, residualPostProcessor, null, false);
        this.everyStep = everyStep;
    }

    @Override
    public INDArray encodeUpdates(int iteration, int epoch, INDArray updates) {
        if (thresholdAlgorithm.get() == null) {
            synchronized (this) {
                thresholdAlgorithm.set(initialThresholdAlgorithm.clone());
                allThreadThresholdAlgorithms.put(Thread.currentThread().getId(), thresholdAlgorithm.get());
                if (initialResidualPostProcessor != null) residualPostProcessor.set(initialResidualPostProcessor.clone());
            }
        }
        double threshold = thresholdAlgorithm.get().calculateThreshold(iteration, epoch,
                Double.isNaN(last) ? null : last, Double.isNaN(last) ? null : Boolean.TRUE, null, updates);
        last = threshold;
        INDArray encoded = Nd4j.create(DataType.INT32, updates.length() / 16 + 5);
        long values = Nd4j.getExecutioner().bitmapEncode(updates, encoded, threshold);
        if (residualPostProcessor.get() != null) residualPostProcessor.get().processResidual(iteration, epoch, threshold, updates);
        // Nothing reached the threshold: no message (DL4J does the same; the residual keeps it all), unless the
        // workers count each other's steps by their messages (an empty bitmap changes nothing where it is applied).
        return values == 0 && !everyStep ? null : encoded;
    }
}
