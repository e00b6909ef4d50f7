package io.sparkvision.train;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where an epoch's wall time went: seconds per phase (fit, evaluation, checkpoint, report) as the training thread
 * saw them, plus what Spark reports about the fit: how many jobs it ran (with parameter averaging, one per averaging
 * round) and how long the tasks ran on the executors. {@code fit - workerSeconds} is then the time no worker was
 * fitting: broadcasting parameters, gathering and averaging them on the driver, scheduling.
 */
public final class EpochClock implements AutoCloseable {
    private final JavaSparkContext sc;
    private final int workers;
    private final AtomicLong jobs = new AtomicLong();
    private final AtomicLong taskRunMillis = new AtomicLong();
    private final Map<String, Double> seconds = new LinkedHashMap<>();
    private final SparkListener listener;
    private long epochStart;
    private long lapStart;
    private long jobsAtFitStart;
    private long taskMillisAtFitStart;
    private long fitJobs;
    private double fitTaskSeconds;

    public EpochClock(JavaSparkContext sc, int workers) {
        this.sc = sc;
        this.workers = Math.max(1, workers);
        this.listener = new SparkListener() {
            @Override
            public void onJobStart(SparkListenerJobStart start) {
                jobs.incrementAndGet();
            }

            @Override
            public void onTaskEnd(SparkListenerTaskEnd end) {
                if (end.taskMetrics() != null) taskRunMillis.addAndGet(end.taskMetrics().executorRunTime());
            }
        };
        sc.sc().addSparkListener(listener);
    }

    @Override
    public void close() {
        sc.sc().removeSparkListener(listener);
    }

    public void startEpoch() {
        seconds.clear();
        epochStart = lapStart = System.nanoTime();
        fitJobs = 0;
        fitTaskSeconds = 0;
    }

    /** Call right before the fit: Spark's counters are read from here to {@link #fitDone}. */
    public void startFit() {
        lap("other");
        drainListenerBus();
        jobsAtFitStart = jobs.get();
        taskMillisAtFitStart = taskRunMillis.get();
    }

    public void fitDone() {
        lap("fit");
        drainListenerBus();
        fitJobs = jobs.get() - jobsAtFitStart;
        fitTaskSeconds = (taskRunMillis.get() - taskMillisAtFitStart) / 1e3;
        lapStart = System.nanoTime();
    }

    /** Adds the time since the previous lap to {@code phase}. */
    public void lap(String phase) {
        long now = System.nanoTime();
        seconds.merge(phase, (now - lapStart) / 1e9, Double::sum);
        lapStart = now;
    }

    public double seconds(String phase) {
        return seconds.getOrDefault(phase, 0.0);
    }

    /** The epoch's breakdown as metrics.jsonl fields (data-schemas/metrics.schema.json). */
    /** Where the epoch's wall time went, for its metrics line. */
    public record Times(double fitSeconds, long sparkJobs, double workerSeconds, double evaluationSeconds,
                        double checkpointSeconds, double reportSeconds, double wallSeconds) {
    }

    public Times times() {
        // Task time summed over workers, per worker: the part of the fit the workers spent fitting.
        return new Times(seconds("fit"), fitJobs, fitTaskSeconds / workers, seconds("evaluation"), seconds("checkpoint"),
                seconds("report"), (System.nanoTime() - epochStart) / 1e9);
    }

    /** One line for the console, e.g. "fit 3.1 s (workers 2.6 s, 3 jobs), eval 0.4 s, checkpoint 0.1 s, report 0.0 s". */
    public String summary() {
        return String.format(Locale.ROOT, "fit %.1f s (workers %.1f s, %d Spark jobs), eval %.1f s, checkpoint %.1f s, report %.1f s",
                seconds("fit"), fitTaskSeconds / workers, fitJobs, seconds("evaluation"), seconds("checkpoint"), seconds("report"));
    }

    /** Spark delivers listener events asynchronously; wait (briefly) until those of finished jobs arrived. */
    private void drainListenerBus() {
        try {
            sc.sc().listenerBus().waitUntilEmpty(10_000);
        } catch (java.util.concurrent.TimeoutException e) {
            // Counters may then lag by a few events: the breakdown is informational, training goes on.
        }
    }
}
