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
}
