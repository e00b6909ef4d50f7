package io.sparkvision.train;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.DoubleAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.nd4j.parameterserver.distributed.v2.ModelParameterServer;
import scala.Tuple4;
import scala.collection.Iterator;

import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The driver's view of what the workers have fitted: examples, minibatches and the sum of their losses, counted by
 * {@link ExampleCounter}. Spark merges an accumulator into the driver's value only when a task ends; a
 * gradient-sharing epoch is one task per executor, so the live figures add the running tasks' partial values that
 * every executor heartbeat carries ({@code spark.executor.heartbeatInterval}, 10 s by default).
 */
public final class TrainingCounters extends SparkListener {
    private final LongAccumulator examples;
    private final LongAccumulator minibatches;
    private final DoubleAccumulator lossSum;
    private final CollectionAccumulator<String> meshWorkers;
    /** task id -> its latest heartbeat values (examples, minibatches, loss sum) while it runs */
    private final Map<Long, double[]> running = new ConcurrentHashMap<>();
    private final JavaSparkContext sc;
    /** executor id -> the updates it had received in all at the end of the last epoch it reported */
    private final Map<String, Long> receivedSoFar = new ConcurrentHashMap<>();

    public TrainingCounters(JavaSparkContext sc) {
        this.sc = sc;
        examples = sc.sc().longAccumulator("sparkvision.examples");
        minibatches = sc.sc().longAccumulator("sparkvision.minibatches");
        lossSum = sc.sc().doubleAccumulator("sparkvision.lossSum");
        meshWorkers = sc.sc().collectionAccumulator("sparkvision.meshWorkers");
        sc.sc().addSparkListener(this);
    }

    /** The listener each training worker runs. */
    public ExampleCounter workerListener() {
        return new ExampleCounter(examples, minibatches, lossSum, meshWorkers);
    }

    /** Figures of finished tasks only: exact once a fit has returned. */
    public Snapshot completed() {
        return new Snapshot(examples.value(), minibatches.value(), lossSum.value());
    }

    /** Finished tasks plus the latest heartbeat of each running one (may briefly count a just-ended task twice). */
    public Snapshot live() {
        long e = examples.value(), b = minibatches.value();
        double l = lossSum.value();
        for (double[] v : running.values()) {
            e += (long) v[0];
            b += (long) v[1];
            l += v[2];
        }
        return new Snapshot(e, b, l);
    }

    /**
     * Gradient sharing's evidence for the epoch that just ended: the worker nodes in the driver's mesh and what each executor reported (minibatches fitted, encoded updates received from the other workers),
     * by executor id. Resets the per-epoch report.
     */
    public Map<String, Object> takeMeshReport() {
        Map<String, long[]> byExecutor = new TreeMap<>();
        for (String entry : meshWorkers.value()) {
            String[] f = entry.split(" ");
            long[] sums = byExecutor.computeIfAbsent(f[0], k -> new long[2]);
            sums[0] += Long.parseLong(f[1]);
            sums[1] = Math.max(sums[1], Long.parseLong(f[2])); // the node's running total: its latest report
        }
        byExecutor.forEach((executor, sums) -> {
            long before = receivedSoFar.getOrDefault(executor, 0L);
            receivedSoFar.put(executor, sums[1]);
            sums[1] = sums[1] >= before ? sums[1] - before : sums[1]; // a restarted executor counts from 0 again
        });
        List<Map<String, Object>> workers = new ArrayList<>();
        byExecutor.forEach((executor, sums) -> {
            Map<String, Object> w = new LinkedHashMap<>();
            w.put("executor", executor);
            w.put("minibatches", sums[0]);
            w.put("updatesReceived", sums[1]);
            workers.add(w);
        });
        meshWorkers.reset();
        Map<String, Object> report = new LinkedHashMap<>();
        ModelParameterServer server = ModelParameterServer.getInstance();
        report.put("meshNodes", server.isInitialized() ? server.getTransport().totalNumberOfNodes() : 0);
        report.put("workers", workers);
        return report;
    }

    /** One line for the console: "mesh of 2 nodes; executor 0: 188 minibatches, 180 updates received; ...". */
    @SuppressWarnings("unchecked")
    public static String describe(Map<String, Object> meshReport) {
        StringBuilder sb = new StringBuilder("mesh of " + meshReport.get("meshNodes") + " nodes");
        for (Map<String, Object> w : (List<Map<String, Object>>) meshReport.get("workers")) {
            sb.append(String.format(Locale.ROOT, "; executor %s: %,d minibatches, %,d updates received from the others",
                    w.get("executor"), (Long) w.get("minibatches"), (Long) w.get("updatesReceived")));
        }
        // Each minibatch a worker fits sends (at most) one message to the others. Measured here: when DL4J's Aeron
        // transport fails ("MediaDriver keepalive", "Can't establish connection" in the executor logs) the
        // exchange stops for the rest of the run and each worker trains alone, with nothing else failing.
        List<Map<String, Object>> ws = (List<Map<String, Object>>) meshReport.get("workers");
        long all = ws.stream().mapToLong(w -> (Long) w.get("minibatches")).sum();
        for (Map<String, Object> w : ws) {
            long others = all - (Long) w.get("minibatches");
            if (ws.size() > 1 && (Long) w.get("updatesReceived") * 2 < others) {
                sb.append(String.format(Locale.ROOT, "%n  WARNING: executor %s received %,d updates for the %,d minibatches the others "
                        + "fitted: the mesh lost most of them and the workers trained largely alone (see the executors' logs "
                        + "for Aeron errors)", w.get("executor"), (Long) w.get("updatesReceived"), others));
            }
        }
        return sb.toString();
    }

    public void close() {
        sc.sc().removeSparkListener(this);
    }

    @Override
    public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
        Iterator<Tuple4<Object, Object, Object, scala.collection.Seq<AccumulableInfo>>> tasks = update.accumUpdates().iterator();
        while (tasks.hasNext()) {
            Tuple4<Object, Object, Object, scala.collection.Seq<AccumulableInfo>> t = tasks.next();
            double[] v = null;
            Iterator<AccumulableInfo> infos = t._4().iterator();
            while (infos.hasNext()) {
                AccumulableInfo info = infos.next();
                int slot = info.id() == examples.id() ? 0 : info.id() == minibatches.id() ? 1 : info.id() == lossSum.id() ? 2 : -1;
                if (slot < 0 || info.update().isEmpty()) continue;
                if (v == null) v = new double[3];
                v[slot] = ((Number) info.update().get()).doubleValue();
            }
            if (v != null) running.put((Long) t._1(), v);
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        running.remove(end.taskInfo().taskId());
    }

    /** What the workers had fitted at one moment. */
    public record Snapshot(long examples, long minibatches, double lossSum) {
        public Snapshot minus(Snapshot earlier) {
            return new Snapshot(examples - earlier.examples, minibatches - earlier.minibatches, lossSum - earlier.lossSum);
        }

        /** Mean loss of the counted minibatches, or NaN when none was counted. */
        public double meanLoss() {
            return minibatches > 0 ? lossSum / minibatches : Double.NaN;
        }
    }
}
