package io.sparkvision.train.sizing;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkExecutorInfo;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.network.util.JavaUtils;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The memory a running Spark application actually has, read from the live context: the driver's heap
 * ({@code Runtime.maxMemory}, this JVM is the driver) and ND4J off-heap limit, the executors' configured heap,
 * ND4J limit (from {@code spark.executor.extraJavaOptions}) and container overhead, and
 * G1 region size (from {@code -XX:G1HeapRegionSize} or JDK 17's choice for that heap), and
 * {@code spark.driver.maxResultSize} as the executors got it at launch (they drop a single result above it; the
 * driver re-reads the live value for every task set, so only the total can be raised at run time).
 */
public record MemoryLimits(String sparkMaster, boolean local, int executors, long driverHeap, long driverOffHeap,
                           long maxResultSizeAtLaunch, long maxResultSizeNow, boolean maxResultSizeSetByUser,
                           long executorHeap, long executorOffHeap, long executorOverhead, boolean overheadEnforced,
                           long executorRegion, boolean executorRegionSet) {

    static final String MAX_RESULT = "spark.driver.maxResultSize";
    /** Where the value from before our raise is kept, so a second job in the same context knows the executors' limit. */
    static final String MAX_RESULT_AT_LAUNCH = "spark.sparkvision.maxResultSizeAtLaunch";
    private static final Pattern JAVACPP_MAX = Pattern.compile("-Dorg\\.bytedeco\\.javacpp\\.maxbytes=(\\S+)");

    public static MemoryLimits read(JavaSparkContext sc) {
        SparkConf conf = sc.sc().conf(); // the live conf: TaskSetManager reads maxResultSize from it
        String master = sc.master();
        boolean local = master.equals("local") || master.startsWith("local[");
        long now = conf.getSizeAsBytes(MAX_RESULT, "1g");
        long atLaunch = conf.contains(MAX_RESULT_AT_LAUNCH) ? conf.getSizeAsBytes(MAX_RESULT_AT_LAUNCH) : now;
        long execHeap = conf.getSizeAsBytes("spark.executor.memory", "1g");
        String execOpts = conf.get("spark.executor.extraJavaOptions", "");
        long execOff = javacppMaxBytes(execOpts, execHeap);
        long overhead = conf.contains("spark.executor.memoryOverhead")
                ? conf.getSizeAsMb("spark.executor.memoryOverhead") << 20
                : Math.max(384L << 20, (long) (execHeap * conf.getDouble("spark.executor.memoryOverheadFactor", 0.1)));
        boolean enforced = master.startsWith("yarn") || master.startsWith("k8s");
        return new MemoryLimits(master, local, local ? 0 : executors(sc), Runtime.getRuntime().maxMemory(),
                org.bytedeco.javacpp.Pointer.maxBytes(), atLaunch, now, conf.contains(MAX_RESULT) && !conf.contains(MAX_RESULT_AT_LAUNCH),
                execHeap, execOff, overhead, enforced, ExecutorHeap.region(execOpts, execHeap), ExecutorHeap.regionSet(execOpts));
    }

    /** Raises the driver-side total for later task sets (the executors keep their launch value per result). */
    static void raiseMaxResultSize(JavaSparkContext sc, long bytes) {
        SparkConf conf = sc.sc().conf();
        if (!conf.contains(MAX_RESULT_AT_LAUNCH)) conf.set(MAX_RESULT_AT_LAUNCH, conf.get(MAX_RESULT, "1g"));
        conf.set(MAX_RESULT, sparkSize(bytes));
    }

    /** JavaCPP's limit for ND4J's off-heap arrays: -Dorg.bytedeco.javacpp.maxbytes, else the heap size. */
    static long javacppMaxBytes(String javaOptions, long heap) {
        Matcher m = JAVACPP_MAX.matcher(javaOptions);
        if (!m.find()) return heap;
        try {
            return JavaUtils.byteStringAsBytes(m.group(1).toLowerCase(java.util.Locale.ROOT));
        } catch (NumberFormatException e) {
            return heap;
        }
    }

    /** Executors registered now (the status tracker lists the driver too). */
    static int executors(JavaSparkContext sc) {
        int n = 0;
        org.apache.spark.storage.BlockManagerId driver = org.apache.spark.SparkEnv.get().blockManager().blockManagerId();
        for (SparkExecutorInfo e : sc.sc().statusTracker().getExecutorInfos()) {
            if (!(e.host().equals(driver.host()) && e.port() == driver.port())) n++;
        }
        if (n == 0) n = sc.getConf().getInt("spark.executor.instances", 0); // not registered yet (dynamic allocation)
        return n;
    }

    /** A size as a Spark conf value, rounded up to whole MiB. */
    static String sparkSize(long bytes) {
        return ((bytes + (1L << 20) - 1) >> 20) + "m";
    }

    /** A size as a JVM/-driver-memory value, rounded up to whole GiB. */
    static String gigabytes(long bytes) {
        return ((bytes + (1L << 30) - 1) >> 30) + "g";
    }
}
