package io.sparkvision.ml;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.SparkContexts;
import io.sparkvision.ingest.MnistIdxIngest;
import io.sparkvision.jobs.TrainJob;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import static org.apache.spark.sql.functions.col;
import static io.sparkvision.ingest.ImageIngest.Storage.PNG_FILES;

/**
 * Not a test: a side-by-side benchmark, in one JVM on local[2], of the three ways to score a cached DataFrame of
 * image bytes: {@code transform} in minibatches of 64, {@code transform} one image at a time, and the SQL function
 * (which Spark calls per row). A LeNet-5 trained for one epoch on mnist-tiny scores its 200 test PNGs copied 20
 * times (4,000 images, 4 partitions); three rounds, the first one warms up. Run it against the application jar (so
 * the jar's own classes and DL4J are used, Spark from the Maven classpath, as spark-shell would):
 * <pre>
 * mvn -q -DskipTests package
 * CP=target/sparkvision-0.1.0-SNAPSHOT-app.jar:$(tr ':' '\n' &lt; target/test-classpath.txt \
 *    | grep -vE "/org/(deeplearning4j|nd4j|bytedeco|datavec)/|twelvemonkeys" | paste -sd:)
 * FL="$(grep ^java17.opens conf/jvm-flags.properties | cut -d= -f2-) $(grep ^dl4j.flags conf/jvm-flags.properties | cut -d= -f2-)"
 * SPARK_LOCAL_IP=127.0.0.1 OMP_NUM_THREADS=1 java -Xmx3g $FL -cp "$CP" \
 *    src/test/java/io/sparkvision/ml/ScoringPathsBench.java /tmp/bench-work src/test/resources/mnist-tiny
 * </pre>
 */
public final class ScoringPathsBench {
    private ScoringPathsBench() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Paths.get(args[0]);
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("scoring-paths-bench");
        SparkContexts.applyDefaults(conf);
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
            Path data = work.resolve("data");
            MnistIdxIngest.run(sc, args[1], data.toString(), 2, PNG_FILES, List.of(), quiet);
            TrainJob.run(JobConfig.fromString("data.root = \"" + data + "\"\noutput.dir = \"" + work.resolve("run")
                    + "\"\ntrain { epochs = 1, batch-size-per-worker = 16 }"), sc, quiet);
            String model = work.resolve("run/model.zip").toString();
            Path images = Files.createDirectories(work.resolve("images"));
            List<Path> pngs;
            try (Stream<Path> s = Files.walk(data.resolve("test"))) {
                pngs = s.filter(p -> p.toString().endsWith(".png")).sorted().toList();
            }
            for (int copy = 0; copy < 20; copy++) {
                for (Path p : pngs) Files.copy(p, images.resolve("c" + copy + "_" + p.getParent().getFileName() + "_" + p.getFileName()));
            }
            Dataset<Row> bytes = spark.read().format("binaryFile").load(images.toString()).repartition(4).cache();
            long n = bytes.count();
            ImageClassifierModel batched = ImageClassifierModel.fromModel(model).setBatchSize(64);
            ImageClassifierModel single = ImageClassifierModel.fromModel(model).setBatchSize(1);
            SparkVision.registerUdf(spark, "classify", model);
            bytes.createOrReplaceTempView("images");
            for (int round = 0; round < 3; round++) {
                double b64 = rate(n, () -> batched.transform(bytes).filter(col("error").isNull()).count());
                double b1 = rate(n, () -> single.transform(bytes).filter(col("error").isNull()).count());
                double sql = rate(n, () -> spark.sql("SELECT classify(content) AS c FROM images").filter(col("c.error").isNull()).count());
                System.out.printf(Locale.ROOT, "round %d, %d images: transform batchSize 64 %.0f images/s | transform batchSize 1 "
                        + "%.0f images/s | SQL classify %.0f images/s%n", round, n, b64, b1, sql);
            }
        }
    }

    /** Images per second of one run; the run must score every image. */
    private static double rate(long n, java.util.function.LongSupplier scored) {
        long t = System.nanoTime();
        long ok = scored.getAsLong();
        if (ok != n) throw new IllegalStateException("scored " + ok + " of " + n);
        return n / ((System.nanoTime() - t) / 1e9);
    }
}
