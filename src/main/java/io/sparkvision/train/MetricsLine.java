package io.sparkvision.train;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.sparkvision.config.Choices.Metric;

import java.util.Map;

/**
 * One line of {@code metrics.jsonl}: what one epoch did (schema data-schemas/metrics.schema.json). Built in three
 * stages as the epoch goes: {@link #fitted} after the fit, {@link #withEvaluation} when the epoch was evaluated,
 * {@link #withTimes} once the epoch's checkpoint and report work is done. A value nobody measured is absent from the
 * JSON, never written as 0.
 *
 * @param iteration       the network's iteration count (parameter averaging), or the minibatches the workers
 *                        fitted so far (gradient sharing); absent when not measured
 * @param gradientSharing the epoch's mesh report (gradient sharing only)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record MetricsLine(int epoch, Long iteration, double learningRate, Double trainLoss, long examples,
                          Map<String, Object> gradientSharing, double epochSeconds, double examplesPerSecond,
                          Double testLoss, Double top1Accuracy, Double top5Accuracy, Double top1Error, Double top5Error,
                          String time, Double fitSeconds, Long sparkJobs, Double workerSeconds, Double evaluationSeconds,
                          Double checkpointSeconds, Double reportSeconds, Double wallSeconds) {

    /** The epoch's fit: its numbers, not yet evaluated or timed. {@code trainLoss} NaN = not measured. */
    public static MetricsLine fitted(int epoch, Long iteration, double learningRate, double trainLoss, long examples,
                                     Map<String, Object> gradientSharing, double seconds) {
        return new MetricsLine(epoch, iteration, learningRate, Double.isFinite(trainLoss) ? trainLoss : null, examples,
                gradientSharing, seconds, examples / seconds, null, null, null, null, null, null, null, null, null, null,
                null, null, null);
    }

    /**
     * This line once the evaluation step is done, at {@code time}: with the held-out loss, top-1 and top-k (written
     * as top5, whatever k the evaluator was asked for), or, when the epoch was not evaluated, with nulls for them.
     */
    public MetricsLine evaluated(Double loss, Double top1, Double topK, String time) {
        return new MetricsLine(epoch, iteration, learningRate, trainLoss, examples, gradientSharing, epochSeconds,
                examplesPerSecond, loss, top1, topK, top1 == null ? null : 1 - top1, topK == null ? null : 1 - topK, time,
                fitSeconds, sparkJobs, workerSeconds, evaluationSeconds, checkpointSeconds, reportSeconds, wallSeconds);
    }

    /** This line with where the epoch's wall time went. */
    public MetricsLine withTimes(EpochClock.Times t) {
        return new MetricsLine(epoch, iteration, learningRate, trainLoss, examples, gradientSharing, epochSeconds,
                examplesPerSecond, testLoss, top1Accuracy, top5Accuracy, top1Error, top5Error, time, t.fitSeconds(),
                t.sparkJobs(), t.workerSeconds(), t.evaluationSeconds(), t.checkpointSeconds(), t.reportSeconds(),
                t.wallSeconds());
    }

    @JsonIgnore
    public boolean evaluated() {
        return top1Accuracy != null;
    }

    /** The value of {@code metric} on this line, or null if the epoch was not evaluated. */
    public Double value(Metric metric) {
        return switch (metric) {
            case TOP1_ACCURACY -> top1Accuracy;
            case TOP5_ACCURACY -> top5Accuracy;
            case TEST_LOSS -> testLoss;
        };
    }
}
