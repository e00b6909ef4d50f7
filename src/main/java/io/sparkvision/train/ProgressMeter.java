package io.sparkvision.train;

import org.apache.spark.util.LongAccumulator;

import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Prints a progress line every few seconds while training: epoch, batch, examples/s and ETA for the epoch
 * and the run. Counts come from {@link ExampleCounter} on the workers.
 */
public final class ProgressMeter implements AutoCloseable {
    private final LongAccumulator examples;
    private final PrintStream out;
    private final int epochs;
    private final long examplesPerEpoch;
    private final int batchSize;
    private final ScheduledExecutorService timer;
    private final long runStartNanos = System.nanoTime();
    private volatile int epoch;
    private volatile long epochStartNanos;
    private volatile long epochStartCount;
    private long examplesAtRunStart;

    public ProgressMeter(LongAccumulator examples, PrintStream out, int epochs, long examplesPerEpoch, int batchSize, int intervalSeconds) {
        this.examples = examples;
        this.out = out;
        this.epochs = epochs;
        this.examplesPerEpoch = examplesPerEpoch;
        this.batchSize = batchSize;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sparkvision-progress");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(this::print, intervalSeconds, intervalSeconds, TimeUnit.SECONDS);
    }

    public void startEpoch(int epoch) {
        if (this.epoch == 0) examplesAtRunStart = examples.value();
        this.epoch = epoch;
        this.epochStartCount = examples.value();
        this.epochStartNanos = System.nanoTime();
    }

    /** Examples fitted since the epoch started. */
    public long epochExamples() {
        return examples.value() - epochStartCount;
    }

    public double epochSeconds() {
        return (System.nanoTime() - epochStartNanos) / 1e9;
    }

    private void print() {
        if (epoch == 0) return;
        long done = epochExamples();
        double secs = epochSeconds();
        double rate = done / Math.max(secs, 1e-9);
        long remainingEpoch = Math.max(0, examplesPerEpoch - done);
        long remainingRun = remainingEpoch + (long) (epochs - epoch) * examplesPerEpoch;
        double runRate = (examples.value() - examplesAtRunStart) / Math.max((System.nanoTime() - runStartNanos) / 1e9, 1e-9);
        out.printf("  epoch %d/%d  batch %,d/%,d  %,.0f examples/s  ETA epoch %s, run %s%n", epoch, epochs,
                done / batchSize, (examplesPerEpoch + batchSize - 1) / batchSize, rate,
                eta(remainingEpoch, rate), eta(remainingRun, runRate > 0 ? runRate : rate));
    }

    static String eta(long remaining, double rate) {
        if (rate <= 0) return "?";
        Duration d = Duration.ofSeconds((long) Math.ceil(remaining / rate));
        return d.toHours() > 0 ? String.format("%dh%02dm", d.toHours(), d.toMinutesPart())
                : String.format("%dm%02ds", d.toMinutes(), d.toSecondsPart());
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
