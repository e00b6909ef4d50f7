package io.sparkvision.config;

import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.resource.ResourceInformation;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Serializable;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Binds the executor thread that runs a task to the GPU Spark's resource scheduling assigned the task
 * ({@code TaskContext.resources().get("gpu")}), before the task touches ND4J arrays. ND4J otherwise spreads threads
 * over all the devices it sees, so two executors on one host could train on the same GPU.
 *
 * <p>Every executor-side entry point that runs a network calls {@link #bindThisTask()} first: the training data
 * ({@link #bindTasks}, pulled by DL4J's worker before it builds its model), the parameter-averaging worker, the score
 * job's and the Spark ML scorer's partition functions. A no-op on the CPU backend without assigned GPUs (and on the
 * driver), so CPU clusters pay one map lookup per call.
 */
public final class GpuBinding {
    private static final Logger LOG = LoggerFactory.getLogger(GpuBinding.class);
    /** Present only when the nd4j-cuda jar (the -Pcuda build) is on the classpath; looked up without loading ND4J. */
    static final String CUDA_BACKEND_CLASS = "org.nd4j.linalg.jcublas.JCublasBackend";
    private static final ThreadLocal<Integer> BOUND = new ThreadLocal<>();
    private static final AtomicBoolean LOGGED = new AtomicBoolean();

    /** How a thread is bound to a device: ND4J's affinity manager in production; tests may record the calls. */
    public interface Backend extends Serializable {
        /** Whether ND4J's CUDA backend is the one loaded. */
        boolean cuda();

        void useDevice(int device);
    }

    /** The production backend: ND4J's own. */
    public static final Backend ND4J = new Nd4jBackend();

    private GpuBinding() {
    }

    /** The same RDD, its tasks bound to their GPU before they pull or build anything from it. */
    public static <T> JavaRDD<T> bindTasks(JavaRDD<T> rdd) {
        return rdd.mapPartitions(rows -> {
            bindThisTask();
            return rows;
        }, true);
    }

    /** Binds the calling task's thread to its assigned GPU; returns the device, or -1 where there is none to bind. */
    public static int bindThisTask() {
        return bindThisTask(ND4J);
    }

    public static int bindThisTask(Backend backend) {
        TaskContext task = TaskContext.get();
        if (task == null) return -1; // driver-side code
        ResourceInformation gpu = task.resourcesJMap().get("gpu");
        String[] addresses = gpu == null ? new String[0] : gpu.addresses();
        String executor = SparkEnv.get() == null ? "driver" : SparkEnv.get().executorId();
        int device = device(backend.cuda(), "driver".equals(executor), addresses, executor);
        if (device < 0) return -1;
        Integer bound = BOUND.get();
        if (bound != null && bound == device) return device;
        backend.useDevice(device);
        BOUND.set(device);
        if (LOGGED.compareAndSet(false, true)) {
            LOG.info("executor {}: task bound to GPU {} (assigned by Spark)", executor, device);
        }
        return device;
    }

    /**
     * The decision alone: the CUDA device a task must use, -1 for none, or an error naming the setting to fix.
     *
     * @param localMode tasks run in the driver's JVM (local[*]): Spark assigns no GPUs there, and ND4J picks its device
     */
    static int device(boolean cuda, boolean localMode, String[] addresses, String executor) {
        if (addresses.length == 0) {
            if (cuda && !localMode) throw new IllegalStateException(noGpuAssigned(executor));
            return -1;
        }
        if (!cuda) throw new IllegalStateException(cpuBackendLoaded(executor, String.join(",", addresses)));
        if (addresses.length > 1) {
            throw new IllegalStateException("executor " + executor + ": Spark assigned this task " + addresses.length
                    + " GPUs (" + String.join(",", addresses) + ") but a training task uses one: set "
                    + "spark.task.resource.gpu.amount=1 (conf/spark-gpu.conf), one task per GPU.");
        }
        try {
            return Integer.parseInt(addresses[0].trim());
        } catch (NumberFormatException e) {
            throw new IllegalStateException("executor " + executor + ": Spark assigned GPU address '" + addresses[0]
                    + "', not a CUDA device index: the GPU discovery script (spark.executor.resource.gpu.discoveryScript,"
                    + " scripts/gpu-discovery.sh) must report indices such as \"0\", \"1\".");
        }
    }

    static String noGpuAssigned(String executor) {
        return "executor " + executor + ": ND4J's CUDA backend is loaded but Spark assigned this task no GPU: set "
                + "spark.executor.resource.gpu.amount=1 and spark.task.resource.gpu.amount=1 with a discovery script "
                + "(conf/spark-gpu.conf has them all), or submit the CPU build (without -Pcuda).";
    }

    static String cpuBackendLoaded(String executor, String addresses) {
        return "executor " + executor + ": Spark assigned GPU " + addresses + " to this task but ND4J's CPU backend is "
                + "loaded: submit the app jar built with -Pcuda (mvn -Pcuda -DskipTests package bundles nd4j-cuda-11.6), "
                + "or drop spark.executor.resource.gpu.amount / spark.task.resource.gpu.amount to train on CPUs.";
    }

    private static final class Nd4jBackend implements Backend {
        /** Looked up once per JVM: scorers call this for every row. */
        private static final boolean CUDA = onClasspath(CUDA_BACKEND_CLASS);

        @Override
        public boolean cuda() {
            return CUDA;
        }

        private static boolean onClasspath(String name) {
            try {
                Class.forName(name, false, GpuBinding.class.getClassLoader());
                return true;
            } catch (ClassNotFoundException e) {
                return false;
            }
        }

        @Override
        public void useDevice(int device) {
            int visible = Nd4j.getAffinityManager().getNumberOfDevices();
            if (device >= visible) {
                throw new IllegalStateException("Spark assigned GPU " + device + " but ND4J sees " + visible
                        + " CUDA device(s): where the cluster hides the other GPUs (CUDA_VISIBLE_DEVICES, YARN or "
                        + "Kubernetes isolation) the discovery script must report the indices visible in the container.");
            }
            Nd4j.getAffinityManager().unsafeSetDevice(device);
        }

        private Object readResolve() {
            return ND4J;
        }
    }
}
