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

    private SparkContexts() {
    }

    public static JavaSparkContext create(JobConfig job, String jobName) {
        SparkConf conf = new SparkConf();
        if (!conf.contains("spark.master")) conf.setMaster(job.get(Options.SPARK_MASTER));
        String app = job.get(Options.SPARK_APP_NAME);
        conf.setAppName(app.isBlank() ? "sparkvision-" + jobName : app);
        applyDefaults(conf);
        return new JavaSparkContext(conf);
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
