package io.sparkvision.train;

import io.sparkvision.train.sharing.KeepSharedUpdates;
import io.sparkvision.train.sharing.ReceivedUpdates;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.DoubleAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs inside every training worker and counts, per fitted minibatch, its examples, the minibatch and its loss into
 * Spark accumulators ({@link TrainingCounters} reads them on the driver, live, from the executors' heartbeats).
 * <p>
 * Gradient sharing's workers keep the listener they were given in the first epoch on their network for the whole
 * run (DL4J's SharedTrainingWrapper attaches listeners once), and an accumulator only reports for the Spark task
 * that deserialized it. So each deserialized copy registers itself for its task, and counts go to the copy of the
 * task this thread is running, whichever copy DL4J calls. With gradient sharing it also reports, per executor and
 * epoch, the minibatches it fitted and the updates it received from the other workers ({@link ReceivedUpdates}).
 */
public final class ExampleCounter extends BaseTrainingListener implements Serializable {
    private static final long serialVersionUID = 2L;
    private static final Map<Long, ExampleCounter> BY_TASK = new ConcurrentHashMap<>();
    private final LongAccumulator examples;
    private final LongAccumulator minibatches;
    private final DoubleAccumulator lossSum;
    /** Gradient sharing: one "executor minibatches updatesReceived" entry per worker task (= per executor and epoch). */
    private final CollectionAccumulator<String> meshWorkers;

    public ExampleCounter(LongAccumulator examples, LongAccumulator minibatches, DoubleAccumulator lossSum,
                          CollectionAccumulator<String> meshWorkers) {
        this.examples = examples;
        this.minibatches = minibatches;
        this.lossSum = lossSum;
        this.meshWorkers = meshWorkers;
    }

    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        // Spark workers build their networks inside DL4J, out of the product's reach: the product's oneDNN path is
        // installed here, after a worker network's first step (idempotent; off where NativePath is off).
        io.sparkvision.model.onednn.NativePath.install(model);
        ExampleCounter sink = sink();
        sink.examples.add(model.batchSize());
        sink.minibatches.add(1);
        ReceivedUpdates.count(); // starts counting once this JVM's gradient-sharing node is up
        double loss = model.score();
        if (Double.isFinite(loss)) sink.lossSum.add(loss);
    }

    /** The copy registered for the Spark task this thread runs (this one outside a task). */
    private ExampleCounter sink() {
        TaskContext task = TaskContext.get();
        return task == null ? this : BY_TASK.getOrDefault(task.taskAttemptId(), this);
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        TaskContext task = TaskContext.get();
        if (task != null) {
            BY_TASK.put(task.taskAttemptId(), this);
            ReceivedUpdates.count(); // subscribes the counter once this JVM's gradient-sharing node is up
            task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> {
                BY_TASK.remove(ctx.taskAttemptId());
                // Reported before Spark collects the task's accumulators: this task's minibatches (its copy's
                // task-local count) and everything the node has received from the other workers so far (the
                // driver takes the difference between epochs: an update that arrives between two tasks counts too).
                if (ReceivedUpdates.meshNode()) {
                    long kept = KeepSharedUpdates.received();
                    meshWorkers.add(SparkEnv.get().executorId() + " " + minibatches.value() + " "
                            + (kept >= 0 ? kept : ReceivedUpdates.count()));
                }
            });
        }
    }
}
