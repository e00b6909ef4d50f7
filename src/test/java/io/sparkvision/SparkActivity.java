package io.sparkvision;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What Spark did during a call, for tests that claim "no Spark context was started" or "no Spark job ran".
 * {@code SparkContext.getActive().isEmpty()} or absent output also hold after a context started and stopped again;
 * these counts do not.
 * <ul>
 * <li>{@link #countContexts()}: every SparkContext constructed anywhere in this JVM while it is open, whoever built
 *     it. It names this class in {@code spark.extraListeners} (a system property, which every {@code new SparkConf()}
 *     reads); Spark instantiates the listener, through its SparkConf constructor, inside each SparkContext's
 *     constructor.</li>
 * <li>{@link #watchJobs(JavaSparkContext)}: the jobs a running context starts from now on, and the executors whose
 *     tasks fitted minibatches ({@link #executorsThatFitted()}).</li>
 * </ul>
 */
public final class SparkActivity extends SparkListener implements AutoCloseable {
    private static final String EXTRA_LISTENERS = "spark.extraListeners";
    private static final AtomicInteger CONTEXTS = new AtomicInteger();

    /** The product's count of fitted minibatches (TrainingCounters): only training tasks add to it. */
    static final String MINIBATCHES = "sparkvision.minibatches";
    private final AtomicInteger jobs = new AtomicInteger();
    private final java.util.List<String> descriptions = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Set<String> fitted = ConcurrentHashMap.newKeySet();
    private final JavaSparkContext sc;

    /** Called by Spark, once per SparkContext built while {@link #countContexts()} is open. */
    public SparkActivity(SparkConf conf) {
        CONTEXTS.incrementAndGet();
        this.sc = null;
    }

    private SparkActivity(JavaSparkContext sc) {
        this.sc = sc;
    }

    @Override
    public void onJobStart(SparkListenerJobStart jobStart) {
        jobs.incrementAndGet();
        String d = jobStart.properties() == null ? null : jobStart.properties().getProperty("spark.job.description");
        descriptions.add(String.valueOf(d));
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        scala.collection.Iterator<AccumulableInfo> it = end.taskInfo().accumulables().iterator();
        while (it.hasNext()) {
            AccumulableInfo a = it.next();
            if (a.name().isDefined() && MINIBATCHES.equals(a.name().get()) && a.update().isDefined()
                    && ((Number) a.update().get()).longValue() > 0) {
                fitted.add(end.taskInfo().executorId());
            }
        }
    }

    /** Counts the SparkContexts constructed in this JVM until closed. Not for tests running in parallel. */
    public static ContextCount countContexts() {
        return new ContextCount();
    }

    /** Counts the jobs {@code sc} starts from now until {@link #close()}. */
    public static SparkActivity watchJobs(JavaSparkContext sc) {
        SparkActivity a = new SparkActivity(sc);
        sc.sc().addSparkListener(a);
        return a;
    }

    /** The jobs started since {@link #watchJobs}, once Spark delivered every event posted so far. */
    public int jobsStarted() {
        try {
            sc.sc().listenerBus().waitUntilEmpty(60_000);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Spark's listener bus did not drain in 60 s", e);
        }
        return jobs.get();
    }

    /** Each started job's description (spark.job.description; "null" where none), once the bus drained. */
    public java.util.List<String> jobDescriptions() {
        jobsStarted();
        return java.util.List.copyOf(descriptions);
    }

    /** The executors (ids; "driver" in local mode) that ran a task which fitted at least one minibatch, so far. */
    public Set<String> executorsThatFitted() {
        jobsStarted(); // drains the listener bus
        return new TreeSet<>(fitted);
    }

    @Override
    public void close() {
        sc.sc().removeSparkListener(this);
    }

    public static final class ContextCount implements AutoCloseable {
        private final int before = CONTEXTS.get();
        private final String previous = System.getProperty(EXTRA_LISTENERS);

        private ContextCount() {
            String me = SparkActivity.class.getName();
            System.setProperty(EXTRA_LISTENERS, previous == null || previous.isBlank() ? me : previous + "," + me);
        }

        /** SparkContexts constructed (even if stopped again, or failed later in their constructor) since opened. */
        public int started() {
            return CONTEXTS.get() - before;
        }

        @Override
        public void close() {
            if (previous == null) System.clearProperty(EXTRA_LISTENERS);
            else System.setProperty(EXTRA_LISTENERS, previous);
        }
    }
}
