package io.sparkvision.train.sharing;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.optimize.solvers.accumulation.EncodedGradientsAccumulator;
import org.deeplearning4j.optimize.solvers.accumulation.EncodingHandler;
import org.deeplearning4j.optimize.solvers.accumulation.IndexedTail;
import org.deeplearning4j.spark.parameterserver.networking.v2.UpdatesConsumer;
import org.deeplearning4j.spark.parameterserver.pw.SharedTrainingWrapper;
import org.nd4j.common.primitives.Atomic;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.parameterserver.distributed.v2.ModelParameterServer;
import org.nd4j.parameterserver.distributed.v2.transport.Transport;
import org.nd4j.parameterserver.distributed.v2.transport.impl.BaseTransport;
import org.nd4j.parameterserver.distributed.v2.util.MeshOrganizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Serializable;
import java.lang.reflect.Field;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Makes every gradient-sharing worker apply every update the others sent, so that the workers' copies of the
 * network stay the same network. DL4J M2 loses updates in three places (measured: each worker received 50-80% of the
 * others' minibatches, and the copies drifted 2-7% apart):
 * <ol>
 *   <li>a worker that starts fitting before the other workers joined the driver's mesh sends its first updates to
 *       nobody: here each worker waits, before its first minibatch, until the mesh holds all workers;</li>
 *   <li>after each fit call SharedTrainingWrapper purges the updates not yet applied, and between fits its consumer
 *       ignores arriving ones ("bypass mode"), so whatever a faster worker received after its last step of an epoch
 *       is lost: here the queue is a {@link RetainedUpdates}, which keeps them, and a second subscriber queues the
 *       ones the consumer ignores;</li>
 *   <li>after the last epoch the queued updates would never be applied: {@link #settle} applies them before the
 *       executors' networks are brought to the driver ({@link WorkerModels}).</li>
 *   <li>SharedTrainingWrapper calls fit once per minibatch (the executors' log shows one step per fit) and after each
 *       fit resets the accumulator, which throws away this worker's residual (the parts of its updates below the
 *       threshold, not sent yet), at every step; a later Spark task fits in another thread, whose residual would
 *       start at zero anyway. Here the residual is taken at the end of a fit and given back to the training thread
 *       at the start of the next ({@link #onEpochEnd}, {@link #onEpochStart}).</li>
 * </ol>
 * And, with {@code maxStaleness >= 0}, it keeps the workers in step: after its step k a worker waits until it has
 * received the others' steps up to k - maxStaleness and applies them at once, so its next gradient is taken where
 * the shared model is. DL4J applies arrivals only inside the next step, after that step's gradient: each gradient
 * was then computed on a model missing the others' latest steps, and the later it arrived the worse (simulated in
 * lockstep with DL4J's encoding on 6,000 MNIST images, 2 epochs, one data order: 91.7% top-1 synchronous, 90.1% one
 * step late, 84.9% three steps late; parameter averaging 92.1%; docs/design.md, DL4J and Spark defects worked around). Counting works because every worker sends one message per step ({@link DenseEncoding})
 * and takes as many steps per epoch as the others ({@code ImageDataset#evenEpochBatches}).
 * A training listener because a listener is what DL4J runs on the worker, in the training thread, after its node
 * has joined the mesh and before the first minibatch ({@link #onEpochStart}).
 */
public final class KeepSharedUpdates extends BaseTrainingListener implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(KeepSharedUpdates.class);
    /** The transport this JVM's queue was installed for (a new run on a reused executor gets a new one). */
    private static Transport installedFor;
    private static volatile RetainedUpdates queue;
    /** This node's steps since its queue was installed (the run's steps on this executor). */
    private static long steps;
    /** Set when the others fell silent while this worker waited: it goes on without waiting (see {@link #inStep}). */
    private static boolean unsynchronised;
    private static long stepStartNanos, longestStepNanos;
    /** This fit's steps and the time they waited for the others (logged at its end: the price of staying in step). */
    private static long fitSteps, fitWaitNanos, fitStartNanos;
    /** This worker's residual between fits (see the class comment). */
    private static INDArray residual;

    private final int workers;
    private final long meshWaitMillis;
    private final boolean denseEncoding;
    private final int maxStaleness;

    /**
     * @param workers        the gradient-sharing workers (executors) of the run
     * @param meshWaitMillis how long a worker waits for the others to join the mesh before it starts alone
     * @param maxStaleness   steps a worker may run ahead of the others' updates; -1 = never wait
     */
    public KeepSharedUpdates(int workers, long meshWaitMillis, boolean denseEncoding, int maxStaleness) {
        this.workers = workers;
        this.meshWaitMillis = meshWaitMillis;
        this.denseEncoding = denseEncoding;
        this.maxStaleness = maxStaleness;
    }

    @Override
    public void onEpochStart(Model model) {
        if (install(denseEncoding, maxStaleness >= 0)) waitForMesh();
        if (queue != null && residual != null) residualOfThisThread().set(residual);
        residual = null;
        stepStartNanos = fitStartNanos = System.nanoTime();
        fitSteps = fitWaitNanos = 0;
    }

    /** The other workers' updates this node has queued since it joined the run, or -1 without a kept queue. */
    public static long received() {
        RetainedUpdates q = queue;
        return q == null ? -1 : q.received();
    }

    /** Keeps the residual the accumulator is about to drop (DL4J resets it right after this fit call). */
    @Override
    public void onEpochEnd(Model model) {
        if (queue == null) return;
        residual = residualOfThisThread().get();
        if (maxStaleness >= 0 && fitSteps > 0) {
            double secs = (System.nanoTime() - fitStartNanos) / 1e9, waited = fitWaitNanos / 1e9;
            LOG.info(String.format(java.util.Locale.ROOT, "gradient sharing: %d steps in %.1f s, %.1f s of it (%.0f%%) "
                    + "waiting for the other workers' updates (max-staleness %d)", fitSteps, secs, waited,
                    100 * waited / Math.max(1e-9, secs), maxStaleness));
        }
    }

    /** DL4J's per-thread residual: the accumulator's current ThreadLocal (reset() replaces it by a new one). */
    private static ThreadLocal<INDArray> residualOfThisThread() {
        Object wrapper = read(SharedTrainingWrapper.class, null, "INSTANCE");
        EncodedGradientsAccumulator accumulator = read(SharedTrainingWrapper.class, wrapper, "accumulator");
        return read(EncodedGradientsAccumulator.class, accumulator, "accumulator");
    }

    /** After each of this worker's steps: keeps it within maxStaleness steps of the others (see the class comment). */
    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        RetainedUpdates q = queue;
        if (q == null || maxStaleness < 0) return;
        long now = System.nanoTime();
        // The run's first step on this executor is not counted: it includes ND4J's workspace set-up (vgg16: 209 s
        // against 21-100 s later), which would stretch the silence below to over half an hour.
        if (steps > 0) longestStepNanos = Math.max(longestStepNanos, now - stepStartNanos);
        steps++;
        fitSteps++;
        if (!unsynchronised) inStep(q, (workers - 1) * (steps - maxStaleness));
        fitWaitNanos += System.nanoTime() - now;
        q.settle(model.params());
        stepStartNanos = System.nanoTime();
    }

    /**
     * Waits until {@code wanted} of the others' updates have arrived. If none arrives, while it waits, for ten of this
     * worker's longest steps after its first (at least two minutes: a big model's first steps are slow), the others have stopped
     * sending (an executor lost, or one given two partitions): the worker then trains on without waiting, as DL4J
     * does, and says so once.
     */
    private static void inStep(RetainedUpdates q, long wanted) {
        long silence = Math.max(TimeUnit.SECONDS.toNanos(120), 10 * longestStepNanos);
        long waitStart = System.nanoTime();
        while (q.received() < wanted) {
            // Quiet since the last arrival or since this wait began, whichever is later (the first wait follows the
            // mesh wait and a first step, with no update yet: that is no silence of the others).
            if (Math.min(q.nanosSinceLastUpdate(), System.nanoTime() - waitStart) > silence) {
                unsynchronised = true;
                LOG.warn("gradient sharing: after step {} this worker has {} of the other workers' {} updates and none "
                        + "arrived for {} s; it goes on without waiting for them (asynchronously){}",
                        steps, q.received(), wanted, TimeUnit.NANOSECONDS.toSeconds(silence), messageThreadsLost());
                return;
            }
            Thread.onSpinWait();
            if (q.nanosSinceLastUpdate() > TimeUnit.MILLISECONDS.toNanos(2)) sleep(1);
        }
    }

    /**
     * What the silence warning adds when DL4J's transport on this node has lost message threads: they end, without a
     * word, on any Error (DL4J catches only Exceptions), and the update each was merging is lost. Seen with vgg16:
     * JavaCPP's OutOfMemoryError at {@code -Dorg.bytedeco.javacpp.maxphysicalbytes} (the executor's resident set
     * includes Aeron's buffers) ended both of an executor's threads; nothing it received was applied after that.
     */
    static String messageThreadsLost() {
        try {
            ThreadPoolExecutor pool = read(BaseTransport.class, ModelParameterServer.getInstance().getTransport(), "executorService");
            int running = pool.getActiveCount(), started = pool.getMaximumPoolSize();
            return running >= started ? "" : String.format(java.util.Locale.ROOT, "; DL4J's transport on this executor "
                    + "runs %d of its %d message threads (the others ended on an Error, likely ND4J out of memory: raise "
                    + "-Dorg.bytedeco.javacpp.maxbytes / maxphysicalbytes in spark.executor.extraJavaOptions)", running, started);
        } catch (RuntimeException e) { // not an AeronUdpTransport, or DL4J changed: say nothing rather than guess
            return "";
        }
    }

    /**
     * On an executor between fits: applies the updates queued since the worker's last step to its network, after
     * the mesh has been quiet for a moment (the other workers' last updates travel through the driver).
     *
     * @return updates applied, or -1 when this JVM has no kept queue (not a gradient-sharing worker)
     */
    static int settle(Model network) {
        RetainedUpdates q = queue;
        if (q == null) return -1;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (q.nanosSinceLastUpdate() < TimeUnit.MILLISECONDS.toNanos(300) && System.nanoTime() < deadline) {
            sleep(50);
        }
        return q.settle(network.params());
    }

    /** Replaces DL4J's purging queue by a {@link RetainedUpdates}, once per node. True if it did so now. */
    private static synchronized boolean install(boolean denseEncoding, boolean messageEveryStep) {
        ModelParameterServer server = ModelParameterServer.getInstance();
        if (!server.isInitialized() || server.getTransport() == installedFor) return false;
        Object wrapper = read(SharedTrainingWrapper.class, null, "INSTANCE");
        UpdatesConsumer consumer = read(SharedTrainingWrapper.class, wrapper, "consumer");
        EncodedGradientsAccumulator accumulator = read(SharedTrainingWrapper.class, wrapper, "accumulator");
        Model network = read(SharedTrainingWrapper.class, wrapper, "originalModel");
        if (consumer == null || accumulator == null || network == null) return false; // one JVM: DL4J trains in place
        IndexedTail dl4jQueue = consumer.getUpdatesQueue();
        RetainedUpdates kept = new RetainedUpdates(network.params().shape());
        ReentrantReadWriteLock lock = read(IndexedTail.class, dl4jQueue, "lock");
        lock.writeLock().lock();
        try {
            kept.takeAll(dl4jQueue); // the other workers' updates that arrived while this one started
            write(UpdatesConsumer.class, consumer, "updatesBuffer", kept);
            accumulator.setExternalSource(kept);
        } finally {
            lock.writeLock().unlock();
        }
        // An update the consumer was putting during the swap ends in DL4J's queue: move it over too.
        sleep(50);
        lock.writeLock().lock();
        try {
            kept.takeAll(dl4jQueue);
        } finally {
            lock.writeLock().unlock();
        }
        if (denseEncoding) {
            // Before this worker's first step, in its training thread: no encoding is under way.
            EncodingHandler dl4j = (EncodingHandler) accumulator.getHandler();
            DenseEncoding dense = new DenseEncoding(read(EncodingHandler.class, dl4j, "initialThresholdAlgorithm"),
                    read(EncodingHandler.class, dl4j, "initialResidualPostProcessor"), messageEveryStep);
            dense.initialize(accumulator);
            write(EncodedGradientsAccumulator.class, accumulator, "handler", dense);
        }
        server.addUpdatesSubscriber(new BypassCatcher(kept));
        queue = kept;
        steps = 0;
        residual = null;
        unsynchronised = false;
        longestStepNanos = 0;
        installedFor = server.getTransport();
        return true;
    }

    /** Waits until the mesh holds every worker: updates sent earlier would reach only those already in it. */
    private void waitForMesh() {
        long deadline = System.currentTimeMillis() + meshWaitMillis;
        long nodes = meshNodes();
        while (nodes < workers + 1 && System.currentTimeMillis() < deadline) {
            sleep(100);
            nodes = meshNodes();
        }
        if (nodes < workers + 1) {
            LOG.warn("gradient sharing: {} of {} workers in the mesh after {} ms; starting without the others",
                    nodes - 1, workers, meshWaitMillis);
        }
    }

    private static long meshNodes() {
        Atomic<MeshOrganizer> mesh = read(BaseTransport.class, ModelParameterServer.getInstance().getTransport(), "mesh");
        MeshOrganizer organizer = mesh.get();
        return organizer == null ? 0 : organizer.totalNodes();
    }

    /** Queues the updates DL4J's consumer ignores between fits; the consumer is subscribed first, this after it. */
    private static final class BypassCatcher extends UpdatesObserver {
        private final RetainedUpdates kept;

        BypassCatcher(RetainedUpdates kept) {
            this.kept = kept;
        }

        @Override
        public void onNext(INDArray update) {
            kept.putIfNew(update);
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> T read(Class<?> owner, Object target, String name) {
        try {
            Field f = owner.getDeclaredField(name);
            f.setAccessible(true);
            return (T) f.get(target);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("DL4J's " + owner.getSimpleName() + " changed: no field " + name, e);
        }
    }

    private static void write(Class<?> owner, Object target, String name, Object value) {
        try {
            Field f = owner.getDeclaredField(name);
            f.setAccessible(true);
            f.set(target, value);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("DL4J's " + owner.getSimpleName() + " changed: no field " + name, e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
