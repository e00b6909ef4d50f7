package io.sparkvision.train.sharing;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The gradient-sharing queue that keeps every update until a step (or settle) applies it. */
class RetainedUpdatesTest {
    private static INDArray row(float... v) {
        return Nd4j.createFromArray(new float[][] {v});
    }

    private static INDArray drained(RetainedUpdates q, long thread) {
        INDArray into = Nd4j.zeros(DataType.FLOAT, 1, 3);
        q.drainTo(thread, into);
        return into;
    }

    @Test
    void purgeKeepsWhatNoStepAppliedForTheNextFit() {
        RetainedUpdates q = new RetainedUpdates(new long[] {1, 3});
        q.put(row(1, 0, 0));
        assertEquals(row(1, 0, 0), drained(q, 1)); // applied by the fit's thread
        q.put(row(0, 2, 0));
        q.put(row(0, 0, 4)); // arrived after the fit's last step
        q.purge(); // what DL4J M2 calls after each fit: its own queue drops these two
        // The next fit may run on another thread: it gets exactly the two, not the one already applied.
        assertEquals(row(0, 2, 4), drained(q, 2));
        assertEquals(row(0, 0, 0), drained(q, 2));
    }

    @Test
    void putIfNewDoesNotQueueTheUpdateJustQueuedTwice() {
        RetainedUpdates q = new RetainedUpdates(new long[] {1, 3});
        INDArray a = row(1, 0, 0);
        q.put(a); // DL4J's consumer queued it
        q.putIfNew(a); // the catcher sees the same message after it
        q.putIfNew(row(0, 2, 0)); // one the consumer ignored (between fits)
        assertEquals(row(1, 2, 0), drained(q, 1));
        assertEquals(2, q.received());
    }

    @Test
    void putIfNewRecognisesAnUpdateAfterTheConsumerPutAnother() {
        RetainedUpdates q = new RetainedUpdates(new long[] {1, 3});
        INDArray a = row(1, 0, 0), b = row(0, 2, 0);
        // Two of DL4J's message threads at once: the consumer puts a, then b, before the catcher looks at a.
        q.put(a);
        q.put(b);
        q.putIfNew(a);
        q.putIfNew(b);
        assertEquals(row(1, 2, 0), drained(q, 1));
        assertEquals(2, q.received());
    }

    @Test
    void settleAppliesThePendingUpdatesOnceAsAnSgdStep() {
        RetainedUpdates q = new RetainedUpdates(new long[] {1, 3});
        INDArray params = row(10, 10, 10);
        q.put(row(1, 0, 0));
        q.put(row(0, 2, 0));
        assertEquals(2, q.settle(params));
        assertEquals(row(9, 8, 10), params);
        assertEquals(0, q.settle(params));
        assertEquals(row(0, 0, 0), drained(q, 1));
    }

    @Test
    void aBacklogBetweenFitsIsSummedIntoOneUpdate() {
        RetainedUpdates q = new RetainedUpdates(new long[] {1, 3});
        for (int i = 0; i < RetainedUpdates.BACKLOG + 5; i++) q.put(row(1, 0, 2));
        assertEquals(6, q.getUpdates().size(), "the first 32 summed into one, then 5 more");
        int n = RetainedUpdates.BACKLOG + 5;
        assertEquals(row(n, 0, 2 * n), drained(q, 7));
    }
}
