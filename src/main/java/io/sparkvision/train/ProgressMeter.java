package io.sparkvision.train;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Prints a progress line every few seconds while training: epoch, batch, examples/s, the epoch's mean train loss so
 * far and ETA for the epoch and the run. Counts come from {@link ExampleCounter} on the workers, live through
 * {@link TrainingCounters}; until the first count arrives the line says so instead of showing a rate of zero.
 */
public final class ProgressMeter implements AutoCloseable {
    private final TrainingCounters counters;
    private final PrintStream out;
    private final int epochs;
    private final long examplesPerEpoch;
    private final long batchesPerEpoch;
    private final ScheduledExecutorService timer;
    private final long runStartNanos = System.nanoTime();
    private volatile int epoch;
    private volatile long epochStartNanos;
    private volatile TrainingCounters.Snapshot epochStart;
    private volatile TrainingCounters.Snapshot runStart;

    public ProgressMeter(TrainingCounters counters, PrintStream out, int epochs, long examplesPerEpoch, long batchesPerEpoch, int intervalSeconds) {
        this.counters = counters;
        this.out = out;
        this.epochs = epochs;
        this.examplesPerEpoch = examplesPerEpoch;
        this.batchesPerEpoch = batchesPerEpoch;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sparkvision-progress");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(this::print, intervalSeconds, intervalSeconds, TimeUnit.SECONDS);
    }

    public void startEpoch(int epoch) {
        epochStart = counters.completed();
        if (this.epoch == 0) runStart = epochStart;
        this.epoch = epoch;
        this.epochStartNanos = System.nanoTime();
    }

    /** What the workers fitted since the epoch started (exact once the epoch's fit has returned). */
    public TrainingCounters.Snapshot epochCounts() {
        return counters.completed().minus(epochStart);
    }

    public double epochSeconds() {
        return (System.nanoTime() - epochStartNanos) / 1e9;
    }

    private void print() {
        if (epoch == 0) return;
        TrainingCounters.Snapshot now = counters.live();
        TrainingCounters.Snapshot e = now.minus(epochStart);
        long batches = batchesPerEpoch;
        if (e.examples() <= 0) {
            out.printf(Locale.ROOT, "  epoch %d/%d  %.0f s in, no count from the executors yet (they report with each heartbeat)%n",
                    epoch, epochs, epochSeconds());
            return;
        }
        double secs = epochSeconds();
        double rate = e.examples() / Math.max(secs, 1e-9);
        long remainingEpoch = Math.max(0, examplesPerEpoch - e.examples());
        long remainingRun = remainingEpoch + (long) (epochs - epoch) * examplesPerEpoch;
        double runRate = (now.examples() - runStart.examples()) / Math.max((System.nanoTime() - runStartNanos) / 1e9, 1e-9);
        out.printf(Locale.ROOT, "  epoch %d/%d  batch %,d/%,d  %s examples/s  train loss %.4f  ETA epoch %s, run %s%n", epoch, epochs,
                e.minibatches(), batches, rate(rate), e.meanLoss(), eta(remainingEpoch, rate), eta(remainingRun, runRate > 0 ? runRate : rate));
    }

    /**
     * Examples per second as the progress and epoch lines print them: whole numbers from 100 up, then one or two
     * decimals (a big model at 224x224 on a small cluster runs below 1 example/s).
     */
    public static String rate(double examplesPerSecond) {
        if (examplesPerSecond >= 100) return String.format(Locale.ROOT, "%,.0f", examplesPerSecond);
        return String.format(Locale.ROOT, examplesPerSecond >= 10 ? "%.1f" : "%.2f", examplesPerSecond);
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
        counters.close();
    }
}
