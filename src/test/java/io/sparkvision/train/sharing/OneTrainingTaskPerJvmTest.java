package io.sparkvision.train.sharing;

import io.sparkvision.TestSpark;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Gradient sharing's repartitioner on local[2] (two task threads in one JVM, as DL4J's wrapper sees them): training
 * tasks of a JVM enter one at a time, a failed task gives its permit back, and local mode cuts one partition per
 * worker.
 */
class OneTrainingTaskPerJvmTest {
    static final AtomicInteger INSIDE = new AtomicInteger(), MOST_INSIDE = new AtomicInteger();

    @Test
    void theTasksOfOneJvmTrainOneAfterTheOtherAndAFailedTaskLetsTheNextIn() {
        try (JavaSparkContext sc = TestSpark.local(2)) {
            JavaRDD<Integer> batches = sc.parallelize(Arrays.asList(1, 2, 3, 4, 5, 6, 7, 8), 8);
            // Local mode: one partition per worker (DL4J's cut, one minibatch each, would give 8)
            JavaRDD<Integer> perWorker = new OneTrainingTaskPerJvm().repartition(batches, 1, 2);
            assertEquals(2, perWorker.getNumPartitions(), "one partition per worker in local mode");
            INSIDE.set(0);
            MOST_INSIDE.set(0);
            // Each task stays 400 ms "training"; without the permit local[2] runs both at once.
            List<Integer> seen = perWorker.mapPartitions(it -> {
                int now = INSIDE.incrementAndGet();
                MOST_INSIDE.accumulateAndGet(now, Math::max);
                Thread.sleep(400);
                int n = 0;
                while (it.hasNext()) n += it.next();
                INSIDE.decrementAndGet();
                return Collections.singletonList(n).iterator();
            }).collect();
            assertEquals(36, seen.stream().mapToInt(Integer::intValue).sum(), "every batch trained once: " + seen);
            assertEquals(1, MOST_INSIDE.get(), "training tasks inside DL4J's wrapper at once");

            // A task that fails inside gives the permit back: the next fit is not locked out.
            assertThrows(SparkException.class, () -> perWorker.mapPartitions(it -> {
                throw new IllegalStateException("a worker failed");
            }).collect());
            long after = perWorker.count();
            assertEquals(8, after);
            assertTrue(OneTrainingTaskPerJvm.waiting() == 0, "nobody waits for the permit after the jobs ended");
        }
    }
}
