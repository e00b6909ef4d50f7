package io.sparkvision.bench;

import org.deeplearning4j.spark.api.stats.CommonSparkTrainingStats;
import org.deeplearning4j.spark.api.stats.SparkTrainingStats;
import org.deeplearning4j.spark.impl.paramavg.stats.ParameterAveragingTrainingMasterStats;
import org.deeplearning4j.spark.impl.paramavg.stats.ParameterAveragingTrainingWorkerStats;
import org.deeplearning4j.spark.stats.EventStats;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One parameter-averaging round's phases, read from DL4J's training statistics
 * ({@code TrainingMaster.setCollectTrainingStats(true)}): the workers' {@code fit} times per minibatch, the
 * driver's aggregation (treeAggregate of parameters + updater state) and broadcast creation.
 *
 * @param computeSeconds   the slowest worker's summed minibatch fit time: the round cannot end before it
 * @param minibatches      minibatch fits DL4J recorded in the round (all workers)
 * @param aggregateSeconds driver-side aggregation, which includes waiting for the slowest worker's task
 * @param broadcastSeconds driver-side creation of the next round's broadcast
 */
public record RoundTimes(double computeSeconds, int minibatches, double aggregateSeconds, double broadcastSeconds) {

    public static RoundTimes of(SparkTrainingStats stats) {
        List<EventStats> fits = find(stats, ParameterAveragingTrainingWorkerStats.PARAMETER_AVERAGING_WORKER_FIT_TIMES_MS);
        // Each task runs on its own thread: a worker's compute is the sum of its minibatch fits.
        Map<String, Long> perWorker = new HashMap<>();
        for (EventStats e : fits) perWorker.merge(e.getMachineID() + "/" + e.getJvmID() + "/" + e.getThreadID(), e.getDurationMs(), Long::sum);
        double compute = perWorker.values().stream().mapToLong(Long::longValue).max().orElse(0) / 1e3;
        return new RoundTimes(compute, fits.size(),
                sumSeconds(find(stats, ParameterAveragingTrainingMasterStats.PARAMETER_AVERAGING_MASTER_AGGREGATE_TIMES_MS)),
                sumSeconds(find(stats, ParameterAveragingTrainingMasterStats.PARAMETER_AVERAGING_MASTER_BROADCAST_CREATE_TIMES_MS)));
    }

    private static double sumSeconds(List<EventStats> events) {
        return events.stream().mapToLong(EventStats::getDurationMs).sum() / 1e3;
    }

    /** The events under {@code key} anywhere in DL4J's nesting of master, common worker and worker-specific stats. */
    static List<EventStats> find(SparkTrainingStats stats, String key) {
        List<EventStats> found = new ArrayList<>();
        if (stats == null) return found;
        if (stats.getKeySet().contains(key) && stats.getValue(key) != null) found.addAll(stats.getValue(key));
        if (!found.isEmpty()) return found;
        List<SparkTrainingStats> children = new ArrayList<>();
        children.add(stats.getNestedTrainingStats());
        if (stats instanceof ParameterAveragingTrainingMasterStats m) children.add(m.getWorkerStats());
        if (stats instanceof CommonSparkTrainingStats c) children.add(c.getTrainingWorkerSpecificStats());
        for (SparkTrainingStats child : children) {
            if (child == null || child == stats) continue;
            found = find(child, key);
            if (!found.isEmpty()) return found;
        }
        return found;
    }
}
