package io.sparkvision.train.sharing;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.util.TaskCompletionListener;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.Repartitioner;
import org.deeplearning4j.spark.impl.repartitioner.DefaultRepartitioner;
import org.deeplearning4j.spark.util.SparkUtils;

import java.util.Iterator;
import java.util.concurrent.Semaphore;

/**
 * Gradient sharing's repartitioner: only one training task of a JVM at a time enters DL4J's
 * {@code SharedTrainingWrapper}; on a cluster the partitions are DL4J's own ({@link DefaultRepartitioner}: one
 * minibatch each here), in Spark's local mode one per worker.
 *
 * <p>Why: DL4J M2 trains every task of a JVM through one wrapper. The first task to arrive trains, the others attach
 * their partition's iterator to it and wait until it has been consumed. When the training task has run out of
 * batches and another task attaches before the wrapper has reset its iterator list, that iterator is dropped and its
 * task waits forever: the stage never ends and the job hangs without an error. It happens wherever one JVM runs two
 * tasks of a fit (Spark {@code local[n]}, executors with more than one core) and a partition is short or a task
 * starts late; a 2-epoch MNIST run on {@code local[2]} hung in 1 of 4 tries. One task at a time costs nothing a
 * user would see: a JVM has one training thread either way ({@code workersPerNode = 1}), the other tasks only hand
 * it their iterators, and their batches are trained in the same order (one partition after the other); executors
 * with one core ran their tasks one at a time already.
 *
 * <p>The permit is taken where the training task first asks this RDD for its partition (before DL4J's function sees
 * the iterator) and given back when the task ends, success or not, after the wrapper has reset.
 */
public final class OneTrainingTaskPerJvm implements Repartitioner {
    private static final long serialVersionUID = 1L;
    private static final Semaphore TRAINING_TASK = new Semaphore(1, true);
    private static final DefaultRepartitioner DEFAULT = new DefaultRepartitioner();

    @Override
    public <T> JavaRDD<T> repartition(JavaRDD<T> input, int minObjectsPerPartition, int numExecutors) {
        return cut(input, minObjectsPerPartition, numExecutors).mapPartitions(OneTrainingTaskPerJvm::enter, true);
    }

    /**
     * On a cluster, DL4J's own cut keeps the training as it was measured (docs/scaling.md models one task per worker
     * as a change of its own: it alters gradient sharing's schedule and needs the parity runs again). In local mode
     * every task trains the one network of the JVM, and one minibatch per task no longer works once the tasks take
     * turns: each turn is a fit of its own, after which DL4J resets the accumulator that still holds the step's update
     * (it is applied at the next step), so nothing trained (FineTuneJobTest: the fine-tuned layer unchanged). One
     * partition per worker makes each turn a worker's whole share of the epoch, which the old concurrent tasks did by
     * attaching to one fit.
     */
    private static <T> JavaRDD<T> cut(JavaRDD<T> input, int minObjectsPerPartition, int numExecutors) {
        if (input.context().isLocal()) return SparkUtils.repartitionEqually(input, Repartition.NumPartitionsWorkersDiffers, numExecutors);
        return DEFAULT.repartition(input, minObjectsPerPartition, numExecutors);
    }

    private static <T> Iterator<T> enter(Iterator<T> partition) throws InterruptedException {
        TaskContext task = TaskContext.get();
        TRAINING_TASK.acquire();
        if (task == null) {
            // Not inside a Spark task (nothing to release it later): nothing to serialise against either.
            TRAINING_TASK.release();
            return partition;
        }
        task.addTaskCompletionListener((TaskCompletionListener) ended -> TRAINING_TASK.release());
        return partition;
    }

    /** Training tasks waiting for the permit in this JVM (tests). */
    static int waiting() {
        return TRAINING_TASK.getQueueLength();
    }
}
