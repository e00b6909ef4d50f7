package io.sparkvision;

import io.sparkvision.config.SparkContexts;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.File;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Real Spark contexts for tests, with the product's own defaults; and where the fixtures are. */
public final class TestSpark {
    private TestSpark() {
    }

    public static JavaSparkContext local(int cores) {
        SparkConf conf = new SparkConf().setMaster("local[" + cores + "]").setAppName("sparkvision-test");
        SparkContexts.applyDefaults(conf);
        return new JavaSparkContext(conf);
    }

    public static Path basedir() {
        return Paths.get(System.getProperty("project.basedir", new File(".").getAbsolutePath())).toAbsolutePath();
    }

    /** 1,000 train + 200 test real MNIST images in IDX form. */
    public static String mnistTiny() {
        return basedir().resolve("src/test/resources/mnist-tiny").toString();
    }
}
