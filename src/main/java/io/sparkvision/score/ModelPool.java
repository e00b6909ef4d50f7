package io.sparkvision.score;

import io.sparkvision.model.ModelFiles;
import org.deeplearning4j.nn.api.Model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Restored models per JVM, keyed by the zip's sha256: a task takes an idle copy (or restores one from the bytes
 * when none is idle) and gives it back when done. So a JVM restores a model once per concurrently running task, not
 * once per task or row: a DL4J model is not thread-safe, and one shared copy behind a lock would let only one core
 * of an executor run forward passes at a time (the score job measured this, see {@link Scorer}).
 */
public final class ModelPool {
    private static final Map<String, Queue<Model>> IDLE = new ConcurrentHashMap<>();
    private static final AtomicLong RESTORED = new AtomicLong();

    private ModelPool() {
    }

    /** An idle copy of model {@code version}, or a new one restored from {@code bytes} (read only then). */
    public static Model take(String version, Supplier<byte[]> bytes) {
        Model idle = IDLE.computeIfAbsent(version, v -> new ConcurrentLinkedQueue<>()).poll();
        if (idle != null) return idle;
        try {
            Model m = ModelFiles.fromBytes(bytes.get());
            RESTORED.incrementAndGet();
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restore model " + version + ": " + e.getMessage(), e);
        }
    }

    /** Returns a copy taken with {@link #take} for the next task. */
    public static void giveBack(String version, Model model) {
        IDLE.computeIfAbsent(version, v -> new ConcurrentLinkedQueue<>()).offer(model);
    }

    /** How many models this JVM has restored so far (all versions): a check that models are not restored per row. */
    public static long restoredInThisJvm() {
        return RESTORED.get();
    }
}
