package io.sparkvision.train.sizing;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one training round moves and holds, computed from a built model before any Spark work. Pure arithmetic
 * (no Spark), so the train job, the benchmark and tests share it. How DL4J M2 behaves, from its source:
 * <ul>
 * <li>Parameter averaging broadcasts the driver's parameters <b>and</b> updater state every round (always, whatever
 * {@code saveUpdater}); each worker returns its parameters plus, with {@code saveUpdater} (train.average-updater),
 * its updater state. Spark's {@code treeAggregate(depth)} sums them; its last level brings
 * {@link #resultsAtDriver} results to the driver, all counted against {@code spark.driver.maxResultSize}.</li>
 * <li>Gradient sharing broadcasts parameters + updater state once per fit; workers exchange threshold-encoded
 * updates every iteration (at most 2 bits per parameter, DL4J's bitmap encoding) and return only their updater
 * state, summed by a {@code treeAggregate} of depth 4.</li>
 * </ul>
 * Activation memory is an estimate: twice the sum of every layer's output for the minibatch (the forward values kept
 * for backprop plus the gradients flowing back), convolution scratch space not included.
 */
public record RoundSizing(
        String master, int workers, int workersPerExecutor, int batch, boolean averageUpdater, boolean gpu,
        long params, long updaterState, int bytesPerValue, long activationBytesPerWorker,
        long toDriverPerWorker, long broadcast, int resultsAtDriver, long resultBytesAtDriver,
        long meshBytesPerIteration,
        long driverHeap, long driverOffHeap, long executorHeap, long executorOffHeap, long gpuPerExecutor, int evalBatch) {

    public static final String PARAMETER_AVERAGING = "parameter-averaging";
    public static final String GRADIENT_SHARING = "gradient-sharing";
    /** Spark's own reserved heap plus what the job itself keeps (conf, closures, evaluator bookkeeping). */
    static final long JVM_BASELINE = 512L << 20;
    static final long EXECUTOR_BASELINE = 300L << 20;
    /**
     * Copies of one large task result on the driver's heap while Spark's TaskResultGetter handles it: the fetched
     * bytes, their contiguous copy, the value bytes read from it, the deserialized value. (A 3 GiB vgg16 driver
     * ran out of heap bringing two 512 MiB results at once.)
     */
    static final int WORKER_MODEL_COPIES = 4;

    /**
     * The run's shape.
     *
     * @param executors          executor JVMs (0 = local mode: the driver JVM runs the workers)
     * @param evalBatch          minibatch of the driver-side evaluator (0 = evaluation runs on the executors)
     * @param trainExamples      images in the training split (their decoded arrays live off-heap on the executors)
     * @param inputValues        values per example (C x H x W)
     */
    public record Setup(String master, int workers, int executors, int batch, int evalBatch, long trainExamples,
                        long inputValues, int aggregationDepth, boolean averageUpdater, boolean gpu) {
    }

    public static RoundSizing of(Model model, InputShape input, Setup s) {
        return of(model, input, s, true);
    }

    /** @param withUpdaterState false sizes the same run with a stateless updater (train.updater = sgd) */
    public static RoundSizing of(Model model, InputShape input, Setup s, boolean withUpdaterState) {
        long params = model.numParams();
        long updater = withUpdaterState ? updaterStateLength(model) : 0;
        int width = model.params().dataType().width();
        Activations act = activations(model, input);
        boolean gs = GRADIENT_SHARING.equals(s.master());
        int perExecutor = s.executors() <= 0 ? s.workers() : (int) Math.ceil(s.workers() / (double) s.executors());
        long p = params * width, u = updater * width;

        long broadcast = p + u;
        // Gradient sharing: DL4J's fit returns each worker's updater state; a second job then brings each worker's
        // parameters (WorkerModels). One job at a time reaches the driver, so the larger of the two counts.
        long toDriver = gs ? Math.max(u, p) : p + (s.averageUpdater() ? u : 0);
        int atDriver = resultsAtDriver(s.workers(), gs ? 4 : s.aggregationDepth());
        long resultsBytes = atDriver * toDriver;
        long mesh = gs ? params / 4 : 0;
        long trainActivations = 2L * act.sum() * s.batch() * width;
        // Per worker: its own copy of parameters, their gradients, updater state and the batch's activations. Gradient
        // sharing adds the residual (parameter-sized), encoded-message buffers and the dense array the kept-updates
        // queue sums arrivals into before applying them (RetainedUpdates' settle sum). Not counted: the network
        // SharedTrainingWrapper deserializes from the broadcast at every fit call and drops; it is garbage that
        // JavaCPP's maxbytes limit makes the JVM collect (alexnet2012 executors ran bounded at 2G; unbounded they
        // held ~3.5 GB).
        long worker = 2 * p + u + trainActivations + (gs ? p + 4 * mesh + p : 0);
        long data = s.trainExamples() * s.inputValues() * width / Math.max(1, s.executors() <= 0 ? 1 : s.executors());
        long execOff = broadcast + perExecutor * worker + data;
        // Heap, live bytes: this round's and the previous round's serialized broadcast pieces, and each worker's result
        // serialized twice (value, then task result). ExecutorHeap adds what G1 wastes on them as humongous arrays.
        long execHeap = EXECUTOR_BASELINE + ExecutorHeap.BROADCASTS_HELD * broadcast
                + (long) perExecutor * ExecutorHeap.RESULT_COPIES * toDriver;
        long evalActivations = 2L * act.max() * s.evalBatch() * width;
        // Driver: the model (+ updater), the running sum and one deserialized result off-heap; the fetched results
        // and the serialized broadcast on the heap.
        long driverOff = p + u + 2 * toDriver + evalActivations;
        // Gradient sharing then brings the executors' parameters one at a time (WorkerModels), each through Spark's
        // task-result path, which holds up to WORKER_MODEL_COPIES copies of it on the heap at once.
        long driverHeap = JVM_BASELINE + broadcast + (gs ? Math.max(resultsBytes, WORKER_MODEL_COPIES * p) : resultsBytes);
        if (s.executors() <= 0) { // local mode: one JVM does both
            driverOff += execOff - broadcast;
            driverHeap += perExecutor * 2 * toDriver;
        }
        long gpuBytes = s.gpu() ? perExecutor * worker : 0;
        return new RoundSizing(s.master(), s.workers(), perExecutor, s.batch(), s.averageUpdater(), s.gpu(), params, updater,
                width, trainActivations, toDriver, broadcast, atDriver, resultsBytes, mesh, driverHeap, driverOff,
                execHeap, execOff, gpuBytes, s.evalBatch());
    }

    /**
     * Results Spark's {@code treeAggregate} brings to the driver at its last level, as Spark 3.5 computes it:
     * scale = max(ceil(n^(1/depth)), 2); while n > scale + ceil(n / scale), n /= scale.
     */
    public static int resultsAtDriver(int partitions, int depth) {
        if (partitions <= 1) return Math.max(partitions, 0);
        int scale = Math.max((int) Math.ceil(Math.pow(partitions, 1.0 / depth)), 2);
        int n = partitions;
        while (n > scale + Math.ceil((double) n / scale)) n /= scale;
        return n;
    }

    /** Updater state values, per parameter from each layer's configured updater (Adam 2, Nesterov 1, SGD 0 per value). */
    public static long updaterStateLength(Model model) {
        long n = 0;
        for (Layer l : layers(model)) {
            for (Map.Entry<String, INDArray> e : l.paramTable().entrySet()) {
                IUpdater u = l.conf().getLayer().getUpdaterByParam(e.getKey());
                if (u != null) n += u.stateSize(e.getValue().length());
            }
        }
        return n;
    }

    /** Sum and largest of the per-example output sizes of every layer/vertex, from DL4J's shape propagation. */
    record Activations(long sum, long max) {
    }

    static Activations activations(Model model, InputShape in) {
        InputType t = InputType.convolutional(in.height(), in.width(), in.channels());
        Collection<InputType> types = model instanceof MultiLayerNetwork m
                ? m.getLayerWiseConfigurations().getLayerActivationTypes(t)
                : ((ComputationGraph) model).getConfiguration().getLayerActivationTypes(t).values();
        long sum = 0, max = 0;
        for (InputType o : types) {
            long n = o.arrayElementsPerExample();
            sum += n;
            max = Math.max(max, n);
        }
        return new Activations(sum, max);
    }

    private static Layer[] layers(Model model) {
        return model instanceof MultiLayerNetwork m ? m.getLayers() : ((ComputationGraph) model).getLayers();
    }

    /** For report.json / model.json provenance: every number, in bytes. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("master", master);
        m.put("workers", workers);
        m.put("workersPerExecutor", workersPerExecutor);
        m.put("parameters", params);
        m.put("updaterStateValues", updaterState);
        m.put("bytesPerValue", bytesPerValue);
        m.put("averageUpdater", averageUpdater);
        m.put("bytesPerWorkerToDriver", toDriverPerWorker);
        m.put("broadcastBytes", broadcast);
        m.put("resultsAtDriver", resultsAtDriver);
        m.put("resultBytesAtDriver", resultBytesAtDriver);
        if (meshBytesPerIteration > 0) m.put("meshBytesPerIterationMax", meshBytesPerIteration);
        m.put("activationBytesPerWorker", activationBytesPerWorker);
        m.put("driverHeapBytes", driverHeap);
        m.put("driverOffHeapBytes", driverOffHeap);
        m.put("executorHeapBytes", executorHeap);
        m.put("executorOffHeapBytes", executorOffHeap);
        if (gpu) m.put("gpuBytesPerExecutor", gpuPerExecutor);
        return m;
    }

    /** The first sizing line: what a round moves. */
    public String trafficLine(String updaterName) {
        StringBuilder sb = new StringBuilder(String.format(java.util.Locale.ROOT,
                "sizing: %,d parameters + %,d %s state values (%d-byte); %s, %d workers (%d per executor): ",
                params, updaterState, updaterName, bytesPerValue, master, workers, workersPerExecutor));
        if (GRADIENT_SHARING.equals(master)) {
            sb.append(String.format(java.util.Locale.ROOT, "broadcast %s per fit, <= %s per worker per iteration on the mesh, "
                    + "%s per worker to the driver per fit (%d results at once)", bytes(broadcast), bytes(meshBytesPerIteration),
                    bytes(toDriverPerWorker), resultsAtDriver));
        } else {
            sb.append(String.format(java.util.Locale.ROOT, "each round %s per worker to the driver (%d results at once = %s), "
                    + "%s broadcast back", bytes(toDriverPerWorker), resultsAtDriver, bytes(resultBytesAtDriver), bytes(broadcast)));
        }
        return sb.toString();
    }

    public static String bytes(long b) {
        if (b >= 1L << 30) return String.format(java.util.Locale.ROOT, "%.2f GiB", b / (double) (1L << 30));
        return String.format(java.util.Locale.ROOT, "%.1f MiB", b / (double) (1L << 20));
    }
}
