package io.sparkvision.config;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The Spark settings a job adds to what spark-submit gave it. */
class SparkContextsTest {
    private static SparkConf conf(String job, String hocon, SparkConf submitted) {
        return SparkContexts.conf(submitted, JobConfig.fromString(hocon), job);
    }

    @Test
    void gradientSharingTrainingSchedulesEveryTaskAtOnce() {
        String gs = "train.master = gradient-sharing";
        assertEquals("0s", conf("train", gs, new SparkConf(false)).get("spark.locality.wait"));
        assertEquals("0s", conf("retrain", gs, new SparkConf(false)).get("spark.locality.wait"));
        // A user's own value stands.
        assertEquals("1s", conf("train", gs, new SparkConf(false).set("spark.locality.wait", "1s")).get("spark.locality.wait"));
        // Parameter averaging, and jobs that read data where it lies, keep Spark's delay scheduling.
        assertFalse(conf("train", "train.master = parameter-averaging", new SparkConf(false)).contains("spark.locality.wait"));
        assertFalse(conf("score", gs, new SparkConf(false)).contains("spark.locality.wait"));
        assertFalse(conf("ingest", gs, new SparkConf(false)).contains("spark.locality.wait"));
    }

    /** model.native-path = false reaches NativePath on the driver and, through their Java options, every executor. */
    @org.junit.jupiter.api.Test
    void theNativePathKeySwitchesItOffOnDriverAndExecutors() {
        String before = System.getProperty(io.sparkvision.model.onednn.NativePath.PROPERTY);
        try {
            System.clearProperty(io.sparkvision.model.onednn.NativePath.PROPERTY);
            SparkConf on = conf("train", "model.native-path = true", new SparkConf(false));
            assertFalse(on.get("spark.executor.extraJavaOptions").contains("native-path"));
            assertEquals(null, System.getProperty(io.sparkvision.model.onednn.NativePath.PROPERTY));

            SparkConf off = conf("score", "model.native-path = false", new SparkConf(false)
                    .set("spark.executor.extraJavaOptions", "-Dmine=1"));
            assertEquals("-Dmine=1 -D" + io.sparkvision.model.onednn.NativePath.PROPERTY + "=false",
                    off.get("spark.executor.extraJavaOptions"), "the user's executor options are kept");
            assertFalse(io.sparkvision.model.onednn.NativePath.enabled(), "the driver's path is off");
        } finally {
            if (before == null) System.clearProperty(io.sparkvision.model.onednn.NativePath.PROPERTY);
            else System.setProperty(io.sparkvision.model.onednn.NativePath.PROPERTY, before);
        }
    }
}
