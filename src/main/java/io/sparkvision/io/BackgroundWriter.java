package io.sparkvision.io;

import java.io.IOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs the train job's writes (checkpoints, the training-curve chart) on one background thread, in the order they
 * were submitted, so the next epoch trains while the previous one is serialised, compressed and uploaded. Each
 * write stays atomic on its own (temporary name + rename, {@link HadoopFs#writeAtomically}); a failed write is rethrown on
 * the training thread at the next {@link #awaitIdle} or {@link #close}, so it is never lost silently.
 */
public final class BackgroundWriter implements AutoCloseable {
    /** A write that may fail with an IOException. */
    @FunctionalInterface
    public interface Write {
        void run() throws IOException;
    }

    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sparkvision-writer");
        t.setDaemon(true);
        return t;
    });
    private final java.util.ArrayDeque<Future<?>> pending = new java.util.ArrayDeque<>();

    public void submit(Write write) throws IOException {
        rethrowFinished();
        pending.add(thread.submit(() -> {
            write.run();
            return null;
        }));
    }

    /** Waits until every submitted write is done; rethrows the first failure. */
    public void awaitIdle() throws IOException {
        while (!pending.isEmpty()) get(pending.poll());
    }

    private void rethrowFinished() throws IOException {
        while (!pending.isEmpty() && pending.peek().isDone()) get(pending.poll());
    }

    private static void get(Future<?> f) throws IOException {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for a background write", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) throw io;
            if (c instanceof RuntimeException re) throw re;
            throw new IOException("background write failed: " + c, c);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            awaitIdle();
        } finally {
            thread.shutdown();
        }
    }
}
