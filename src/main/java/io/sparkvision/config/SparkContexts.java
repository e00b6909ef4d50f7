package io.sparkvision.config;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Creates the job's Spark context. Under spark-submit the master and conf/spark-defaults.conf come from there;
 * run directly (scripts/sparkvision, tests) the job's {@code spark.master} applies and the product's defaults
 * are set here so both paths behave the same.
 */
public final class SparkContexts {
    /** The executors' default Java options: {@link JvmFlags#EXECUTOR} (from conf/jvm-flags.properties). */
    public static final String EXECUTOR_FLAGS = JvmFlags.EXECUTOR;
    /** model.onednn.NativePath.PROPERTY (this package sits below model). */
    static final String NATIVE_PATH_PROPERTY = "sparkvision.native-path";

    private SparkContexts() {
    }

    public static JavaSparkContext create(JobConfig job, String jobName) {
        return new JavaSparkContext(conf(new SparkConf(), job, jobName));
    }

    /** The job's Spark configuration: {@code conf} (spark-submit's settings) completed by the job and the defaults. */
    static SparkConf conf(SparkConf conf, JobConfig job, String jobName) {
        if (!conf.contains("spark.master")) conf.setMaster(job.get(Options.SPARK_MASTER));
        String app = job.get(Options.SPARK_APP_NAME);
        conf.setAppName(app.isBlank() ? "sparkvision-" + jobName : app);
        applyDefaults(conf);
        if (!job.get(Options.MODEL_NATIVE_PATH)) {
            // model.onednn.NativePath reads this property in every JVM that builds or loads a network: here for the
            // driver, through the executors' Java options for theirs (set before any executor starts).
            System.setProperty(NATIVE_PATH_PROPERTY, "false");
            conf.set("spark.executor.extraJavaOptions", conf.get("spark.executor.extraJavaOptions", "") + " -D" + NATIVE_PATH_PROPERTY + "=false");
        }
        if ((jobName.equals("train") || jobName.equals("retrain")) && !job.get(Options.TRAIN_MASTER).perEpoch()) {
            // Gradient sharing: DL4J repartitions an epoch into one Spark task per minibatch, and a worker's next
            // task starts only after its step met the others'. When one executor holds the shuffled minibatches
            // (three of six LeNet-5 runs here), Spark's delay scheduling keeps the other executor's next task back
            // for spark.locality.wait (3 s) every time: 4 s per pair of steps, 29 examples/s instead of 107-366. A
            // minibatch is cheap to fetch; an idle worker holds up every worker.
            conf.setIfMissing("spark.locality.wait", "0s");
        }
        return conf;
    }

    public static void applyDefaults(SparkConf conf) {
        conf.setIfMissing("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
        conf.setIfMissing("spark.kryo.registrator", "io.sparkvision.util.KryoRegistrator");
        conf.setIfMissing("spark.kryoserializer.buffer.max", "512m");
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        conf.setIfMissing("spark.executor.extraJavaOptions", EXECUTOR_FLAGS);
        String master = conf.get("spark.master", "");
        if (master.startsWith("local")) {
            // Everything on loopback, and no web UI to bind for embedded runs and tests.
            conf.setIfMissing("spark.driver.host", "127.0.0.1");
            conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
            conf.setIfMissing("spark.ui.enabled", "false");
        }
        System.setProperty("org.eclipse.deeplearning4j.helpers.disable", "false");
    }
}
