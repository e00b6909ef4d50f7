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
 * Once every batch is counted the line says the epoch's last round is finishing, and the job names what it does
 * after the fit ({@link #phase}: evaluating, checkpointing), instead of repeating "batch 5/5 ... ETA 0m00s" with a
 * falling rate for minutes.
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
    private volatile String phase;
    private volatile long phaseStartNanos;
    private volatile double allBatchesAtSeconds = Double.NaN;

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
        this.allBatchesAtSeconds = Double.NaN;
        this.phase = null;
    }

    /** What the epoch does now that its fit has returned (e.g. "evaluating on 10,000 test images"); null = fitting. */
    public void phase(String what) {
        phaseStartNanos = System.nanoTime();
        phase = what;
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
        double secs = epochSeconds();
        if (e.minibatches() >= batchesPerEpoch && Double.isNaN(allBatchesAtSeconds)) allBatchesAtSeconds = secs;
        double runRate = (now.examples() - runStart.examples()) / Math.max((System.nanoTime() - runStartNanos) / 1e9, 1e-9);
        String p = phase;
        out.println(line(epoch, epochs, e, batchesPerEpoch, examplesPerEpoch, secs, runRate, allBatchesAtSeconds, p,
                p == null ? 0 : (System.nanoTime() - phaseStartNanos) / 1e9));
    }

    /**
     * One progress line. {@code epochSoFar}: what the workers fitted this epoch; {@code allBatchesAt}: seconds into
     * the epoch when every batch had been counted (NaN before); {@code phase}: what the job does after the fit
     * (null while fitting), for {@code phaseSeconds}.
     */
    static String line(int epoch, int epochs, TrainingCounters.Snapshot epochSoFar, long batchesPerEpoch, long examplesPerEpoch,
                       double secs, double runRate, double allBatchesAt, String phase, double phaseSeconds) {
        String head = String.format(Locale.ROOT, "  epoch %d/%d  ", epoch, epochs);
        if (phase != null) return head + String.format(Locale.ROOT, "%s (%.0f s)", phase, phaseSeconds);
        if (epochSoFar.examples() <= 0) {
            return head + String.format(Locale.ROOT, "%.0f s in, no count from the executors yet (they report with each heartbeat)", secs);
        }
        if (!Double.isNaN(allBatchesAt)) {
            // Every batch counted: the rate and ETA would only fall while the last round is averaged and brought back.
            return head + String.format(Locale.ROOT, "all %,d batches fitted (%s examples/s)  train loss %.4f  finishing the "
                    + "last round: averaging and bringing the model back (%.0f s)", batchesPerEpoch,
                    rate(epochSoFar.examples() / Math.max(allBatchesAt, 1e-9)), epochSoFar.meanLoss(), secs - allBatchesAt);
        }
        double rate = epochSoFar.examples() / Math.max(secs, 1e-9);
        long remainingEpoch = Math.max(0, examplesPerEpoch - epochSoFar.examples());
        long remainingRun = remainingEpoch + (long) (epochs - epoch) * examplesPerEpoch;
        return head + String.format(Locale.ROOT, "batch %,d/%,d  %s examples/s  train loss %.4f  ETA epoch %s, run %s",
                epochSoFar.minibatches(), batchesPerEpoch, rate(rate), epochSoFar.meanLoss(), eta(remainingEpoch, rate),
                eta(remainingRun, runRate > 0 ? runRate : rate));
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
