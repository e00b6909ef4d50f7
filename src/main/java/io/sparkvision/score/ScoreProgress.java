package io.sparkvision.score;

import org.apache.spark.util.LongAccumulator;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** A line every {@code seconds} while scoring runs: images scored so far and the rate. Closing stops it. */
public final class ScoreProgress implements AutoCloseable {
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sparkvision-score-progress");
        t.setDaemon(true);
        return t;
    });
    private final long t0 = System.nanoTime();

    public ScoreProgress(LongAccumulator scored, int seconds, PrintStream out) {
        timer.scheduleAtFixedRate(() -> out.printf(Locale.ROOT, "  scored %,d images, %,.0f images/s%n", scored.value(),
                scored.value() / seconds()), seconds, seconds, TimeUnit.SECONDS);
    }

    /** Since this progress started. */
    public double seconds() {
        return (System.nanoTime() - t0) / 1e9;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
