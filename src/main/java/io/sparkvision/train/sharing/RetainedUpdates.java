package io.sparkvision.train.sharing;

import org.deeplearning4j.optimize.solvers.accumulation.IndexedTail;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A gradient-sharing worker's queue of the other workers' encoded updates that keeps every update until it is
 * applied. DL4J M2's queue (an {@link IndexedTail}) is {@code purge()}d by SharedTrainingWrapper after each fit call,
 * dropping what arrived after the worker's last step; this one keeps those updates (renumbered from 0, so whichever
 * thread fits next reads them first) and they are applied at the worker's next step or by {@link #settle}.
 * <p>
 * It also takes the updates DL4J's consumer ignores between fits ("bypass mode"), through {@link #putIfNew}: an
 * update the consumer has put is recognised by identity and not put twice. DL4J's message threads can deliver two
 * updates at once, so the consumer may put another update between its put of one and the catcher's look at it: the
 * last few puts are remembered, not only the last one (with only the last, a LeNet-5 run here received 95 updates
 * for the other worker's 94 steps and applied one twice).
 */
public final class RetainedUpdates extends IndexedTail {
    /** Queued updates no reader has seen beyond which they are summed into one (as DL4J collapses 32). */
    static final int BACKLOG = 32;
    /**
     * Updates the DL4J consumer put that the catcher has not seen yet (by identity; under the lock). Bounded: one that
     * the catcher never sees (put before it subscribed) must not keep a model-sized message alive.
     */
    private final ArrayDeque<INDArray> notYetCaught = new ArrayDeque<>();
    static final int CAUGHT_WINDOW = 8;
    private final AtomicLong received = new AtomicLong();
    private volatile long lastReceivedNanos = System.nanoTime();
    /** settle's sum, kept: synchronous workers settle after every step, and a model-sized array each time is costly. */
    private INDArray settleSum;

    RetainedUpdates(long[] shape) {
        // One training thread per node (workersPerNode = 1); collapsing (summing a backlog of 32+ into one dense
        // array) bounds the memory when the worker is slow to apply them.
        super(1, true, shape);
    }

    /** DL4J's consumer queues an update. */
    @Override
    public void put(INDArray update) {
        lock.writeLock().lock();
        try {
            queue(update);
            notYetCaught.addLast(update);
            if (notYetCaught.size() > CAUGHT_WINDOW) notYetCaught.removeFirst();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The catcher's view of every update: queues it unless DL4J's consumer already did. */
    void putIfNew(INDArray update) {
        lock.writeLock().lock();
        try {
            if (!caughtUp(update)) queue(update);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Whether DL4J's consumer put this very update (forgetting it: the catcher sees each once). By identity, not
     * {@code removeFirstOccurrence}: that compares whole arrays and would also drop a genuine second update of equal
     * values. Callers hold the write lock.
     */
    private boolean caughtUp(INDArray update) {
        for (Iterator<INDArray> it = notYetCaught.iterator(); it.hasNext(); ) {
            if (it.next() == update) {
                it.remove();
                return true;
            }
        }
        return false;
    }

    /** Callers hold the write lock. */
    private void queue(INDArray update) {
        super.put(update);
        // Between fits no reader is registered and DL4J's collapsing (which needs one) never starts: sum a
        // backlog here instead, so that memory stays bounded while a faster worker waits for the next epoch.
        if (positions.isEmpty() && updates.size() >= BACKLOG) collapseBacklog();
        received.incrementAndGet();
        lastReceivedNanos = System.nanoTime();
    }

    private void collapseBacklog() {
        List<INDArray> pending = pending();
        INDArray sum = Nd4j.create(pending.get(0).isCompressed() || pending.get(0).dataType() == DataType.INT32
                ? DataType.FLOAT : pending.get(0).dataType(), shape);
        for (INDArray u : pending) smartDecompress(u.unsafeDuplication(true), sum);
        updates.clear();
        updatesCounter.set(0);
        lastDeletedIndex.set(-1);
        updates.put(updatesCounter.getAndIncrement(), sum);
    }

    /** Updates queued since this node started (the other workers' steps this worker was given). */
    long received() {
        return received.get();
    }

    long nanosSinceLastUpdate() {
        return System.nanoTime() - lastReceivedNanos;
    }

    /** Keeps the updates no thread has applied yet, renumbered from 0 for the next reader, and forgets the readers. */
    @Override
    public void purge() {
        lock.writeLock().lock();
        try {
            List<INDArray> pending = pending();
            forgetAll();
            for (INDArray u : pending) updates.put(updatesCounter.getAndIncrement(), u);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Applies every update not yet applied to {@code params} (DL4J's SGD step: params minus the decoded update) and
     * empties the queue. For a worker between fits: its network then holds every step the mesh delivered.
     *
     * @return how many queued updates were applied
     */
    int settle(INDArray params) {
        lock.writeLock().lock();
        try {
            List<INDArray> pending = pending();
            if (!pending.isEmpty()) {
                if (settleSum == null || !java.util.Arrays.equals(settleSum.shape(), params.shape())
                        || settleSum.dataType() != params.dataType()) {
                    try (org.nd4j.linalg.api.memory.MemoryWorkspace out = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                        settleSum = Nd4j.create(params.dataType(), params.shape());
                    }
                } else {
                    settleSum.assign(0);
                }
                for (INDArray u : pending) smartDecompress(u.unsafeDuplication(true), settleSum);
                params.subi(settleSum);
            }
            forgetAll();
            return pending.size();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Moves every update of DL4J's own queue (none applied yet) into this one. Call under {@code from}'s lock. */
    void takeAll(IndexedTail from) {
        List<Long> keys = new ArrayList<>(from.getUpdates().keySet());
        keys.sort(null);
        lock.writeLock().lock();
        try {
            // Queued before the catcher subscribed: it will not see these.
            for (Long k : keys) queue(from.getUpdates().get(k));
        } finally {
            lock.writeLock().unlock();
        }
        from.getUpdates().clear();
    }

    /** The updates after the furthest reader's position, in order (collapsed-away indices are absent). */
    private List<INDArray> pending() {
        long next = 0;
        for (AtomicLong p : positions.values()) next = Math.max(next, p.get());
        List<INDArray> out = new ArrayList<>();
        for (long i = next; i < updatesCounter.get(); i++) {
            INDArray u = updates.get(i);
            if (u != null) out.add(u);
        }
        return out;
    }

    /** Empties the queue and forgets its readers (DL4J's bookkeeping fields); callers hold the write lock. */
    private void forgetAll() {
        positions.clear();
        updates.clear();
        updatesCounter.set(0);
        lastDeletedIndex.set(-1);
        collapsedMode.set(false);
        collapsedIndex.set(-1);
    }
}
