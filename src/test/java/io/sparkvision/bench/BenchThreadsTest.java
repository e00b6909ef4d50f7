package io.sparkvision.bench;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOps;
import org.nd4j.nativeblas.NativeOpsHolder;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The bench's single-JVM row must run oneDNN on every core although the launchers (and this test JVM) start with
 * OMP_NUM_THREADS=1 for one Spark task per core; the Spark rows' task threads must keep one OpenMP thread each.
 */
class BenchThreadsTest {

    @Test
    void singleJvmThreadsReachOpenMpOnTheCallingThreadOnly() throws Exception {
        Nd4j.getEnvironment(); // loads the native backend (NativeOpsHolder alone cannot)
        NativeOps ops = NativeOpsHolder.getInstance().getDeviceNativeOps();
        int startDefault = maxThreadsOnNewThread(ops);
        try {
            TrainBenchmark.threads(startDefault + 1);
            assertEquals(startDefault + 1, ops.ompGetMaxThreads(), "the single-JVM fit's thread sees the bench's thread count");
            assertEquals(startDefault, maxThreadsOnNewThread(ops), "a Spark task thread keeps the process's OpenMP default");
        } finally {
            TrainBenchmark.threads(startDefault);
        }
        assertEquals(startDefault, ops.ompGetMaxThreads());
    }

    private static int maxThreadsOnNewThread(NativeOps ops) throws InterruptedException {
        AtomicInteger seen = new AtomicInteger(-1);
        Thread t = new Thread(() -> seen.set(ops.ompGetMaxThreads()));
        t.start();
        t.join();
        return seen.get();
    }
}
