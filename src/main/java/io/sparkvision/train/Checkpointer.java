package io.sparkvision.train;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.io.BackgroundWriter;
import io.sparkvision.train.CheckpointStore;
import io.sparkvision.model.Models;
import org.deeplearning4j.nn.api.Model;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The checkpoint policy: after the last epoch, on early stopping, every checkpoint.every-epochs epochs, and after
 * any epoch that ends checkpoint.every-minutes after the previous checkpoint. A checkpoint is written in the
 * background while the next epoch trains, at most one in flight.
 */
public final class Checkpointer {
    private final CheckpointStore store;
    private final BackgroundWriter writer;
    private final int everyEpochs;
    private final int everyMinutes;
    private final int lastEpoch;
    private long lastNanos = System.nanoTime();

    public Checkpointer(CheckpointStore store, BackgroundWriter writer, JobConfig cfg) {
        this.store = store;
        this.writer = writer;
        this.everyEpochs = cfg.get(Options.CHECKPOINT_EVERY);
        this.everyMinutes = cfg.get(Options.CHECKPOINT_EVERY_MINUTES);
        this.lastEpoch = cfg.get(Options.TRAIN_EPOCHS);
    }

    boolean due(int epoch, boolean stopping, long nowNanos) {
        boolean late = everyMinutes > 0 && nowNanos - lastNanos > everyMinutes * 60e9;
        return epoch == lastEpoch || stopping || late || epoch % everyEpochs == 0;
    }

    /**
     * Checkpoints {@code net} after {@code line}'s epoch if the policy says so.
     *
     * @param metadata what the checkpoint records besides its metrics line (architecture, input, classes, ...)
     */
    public void afterEpoch(MetricsLine line, boolean stopping, Model net, Map<String, Object> metadata) throws IOException {
        if (!due(line.epoch(), stopping, System.nanoTime())) return;
        Map<String, Object> meta = new LinkedHashMap<>(metadata);
        meta.put("metrics", line);
        // At most one checkpoint in flight: wait for the previous one, then hand a copy to the writer.
        writer.awaitIdle();
        Models.Snapshot snapshot = Models.snapshot(net);
        writer.submit(() -> store.write(snapshot.model(), line.epoch(), meta));
        lastNanos = System.nanoTime();
    }
}
