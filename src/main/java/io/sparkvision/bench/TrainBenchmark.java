package io.sparkvision.bench;

import io.sparkvision.config.JobConfig;
import io.sparkvision.model.Architecture;
import io.sparkvision.model.InputShape;
import io.sparkvision.model.ModelRegistry;
import io.sparkvision.train.SparkModel;
import io.sparkvision.train.TrainingMasters;
import io.sparkvision.util.SparkContexts;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Training throughput of one model, measured side by side in one run on the same data: a single JVM's
 * {@code fit}, Spark parameter averaging and Spark gradient sharing (local[workers]), and a GEMM for scale.
 * Examples/s and their ratios; effective GFLOP/s = examples/s x 3 x 2 x forward multiply-adds (forward + two
 * backward passes of the same size, two FLOPs per multiply-add).
 */
public final class TrainBenchmark {
    private final String modelName;
    private final InputShape input;
    private final int batch;
    private final int workers;
    private final double seconds;
    private final int averagingFrequency;
    private final PrintStream out;

    public TrainBenchmark(String modelName, InputShape input, int batch, int workers, double seconds, int averagingFrequency, PrintStream out) {
        this.modelName = modelName;
        this.input = input;
        this.batch = batch;
        this.workers = workers;
        this.seconds = seconds;
        this.averagingFrequency = averagingFrequency;
        this.out = out;
    }

    public void run(long forwardMacs) {
        Architecture arch = ModelRegistry.get(modelName);
        int classes = 10;
        out.printf(Locale.ROOT, "bench train: %s on %s, batch %d, %d Spark workers, ~%.0f s per measurement, %,d forward MACs/example%n",
                modelName, input, batch, workers, seconds, forwardMacs);
        double gemm = gemmGflops();
        out.printf(Locale.ROOT, "  GEMM (1024x1024 float, %d threads): %.1f GFLOP/s%n", Runtime.getRuntime().availableProcessors(), gemm);

        List<DataSet> data = batches(64, classes);
        // 1. One JVM, all cores to BLAS/OpenMP.
        threads(Runtime.getRuntime().availableProcessors());
        Model net = arch.build(input, classes, 1, new Adam(1e-3), 0);
        fitSingle(net, data, 3);
        long t0 = System.nanoTime();
        long n = 0;
        while ((System.nanoTime() - t0) / 1e9 < seconds) {
            for (DataSet ds : data) {
                fitSingle(net, ds);
                n += ds.numExamples();
                if ((System.nanoTime() - t0) / 1e9 >= seconds) break;
            }
        }
        double single = n / ((System.nanoTime() - t0) / 1e9);
        int sparkBatches = (int) Math.max(workers * averagingFrequency * 2, Math.ceil(single * seconds / batch));

        // 2 and 3. Spark in this JVM, one BLAS/OpenMP thread per task (the product's default: scripts set OMP_NUM_THREADS=1).
        threads(1);
        double paDefaults = spark("dl4j-defaults", arch, classes, sparkBatches);
        double pa = spark("parameter-averaging", arch, classes, sparkBatches);
        double gs = spark("gradient-sharing", arch, classes, sparkBatches);

        double flopsPerExample = 6.0 * forwardMacs;
        out.println();
        out.printf(Locale.ROOT, "  %-34s %12s %10s %12s %10s%n", "mode", "examples/s", "vs 1 JVM", "eff. GFLOP/s", "% of GEMM");
        row("single JVM fit (" + Runtime.getRuntime().availableProcessors() + " threads)", single, single, flopsPerExample, gemm);
        row("Spark param. averaging, DL4J dflt", paDefaults, single, flopsPerExample, gemm);
        row("Spark parameter averaging", pa, single, flopsPerExample, gemm);
        row("Spark gradient sharing*", gs, single, flopsPerExample, gemm);
        out.println("  * in one JVM DL4J's gradient sharing trains without its mesh (nothing to exchange); the multi-JVM");
        out.println("    path is exercised by scripts/local-cluster + StandaloneClusterTest, not timed here.");
    }

    private void row(String name, double rate, double single, double flops, double gemm) {
        double gf = rate * flops / 1e9;
        out.printf(Locale.ROOT, "  %-34s %12.1f %9.2fx %12.2f %9.1f%%%n", name, rate, rate / single, gf, 100 * gf / gemm);
    }

    private double spark(String master, Architecture arch, int classes, int nBatches) {
        SparkConf conf = new SparkConf().setMaster("local[" + workers + "]").setAppName("sparkvision-bench-train");
        SparkContexts.applyDefaults(conf);
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            boolean defaults = master.equals("dl4j-defaults");
            JobConfig cfg = JobConfig.fromString("train { master = " + (defaults ? "parameter-averaging" : master) + ", batch-size-per-worker = " + batch
                    + ", averaging-frequency = " + averagingFrequency + ", workers = " + workers + " }");
            // Generated on the executors and cached there, as the train job's decoded batches are: shipping them
            // from the driver would put the whole dataset into every task.
            JavaRDD<DataSet> rdd = generated(sc, nBatches, classes).persist(StorageLevel.MEMORY_ONLY());
            rdd.count();
            Model net = arch.build(input, classes, 1, new Adam(1e-3), 0);
            SparkModel warm = SparkModel.of(sc, net, master(cfg, defaults));
            warm.fit(generated(sc, workers * averagingFrequency, classes));
            SparkModel model = SparkModel.of(sc, warm.network(), master(cfg, defaults));
            long t0 = System.nanoTime();
            model.fit(rdd);
            double secs = (System.nanoTime() - t0) / 1e9;
            return (double) nBatches * batch / secs;
        }
    }

    /** The product's master, or DL4J's parameter averaging as its builder defaults it (for comparison). */
    private org.deeplearning4j.spark.api.TrainingMaster<?, ?> master(JobConfig cfg, boolean dl4jDefaults) {
        if (!dl4jDefaults) return TrainingMasters.create(cfg, workers);
        return new org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster.Builder(workers, batch)
                .batchSizePerWorker(batch).averagingFrequency(averagingFrequency).build();
    }

    private JavaRDD<DataSet> generated(JavaSparkContext sc, int n, int classes) {
        List<Integer> parts = new ArrayList<>();
        for (int p = 0; p < workers; p++) parts.add(p);
        int per = (n + workers - 1) / workers, b = batch;
        InputShape in = input;
        return sc.parallelize(parts, workers).flatMap(p -> batches(in, b, per, classes, p).iterator());
    }

    private List<DataSet> batches(int n, int classes) {
        return batches(input, batch, n, classes, 0);
    }

    static List<DataSet> batches(InputShape input, int batch, int n, int classes, int seed) {
        Nd4j.getRandom().setSeed(123 + seed);
        List<DataSet> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            INDArray f = Nd4j.rand(DataType.FLOAT, batch, input.channels(), input.height(), input.width());
            INDArray l = Nd4j.zeros(DataType.FLOAT, batch, classes);
            for (int r = 0; r < batch; r++) l.putScalar(r, (i * 7 + r) % classes, 1f);
            out.add(new DataSet(f, l));
        }
        return out;
    }

    private static void fitSingle(Model net, List<DataSet> data, int times) {
        for (int i = 0; i < times; i++) fitSingle(net, data.get(i % data.size()));
    }

    private static void fitSingle(Model net, DataSet ds) {
        if (net instanceof MultiLayerNetwork) ((MultiLayerNetwork) net).fit(ds);
        else ((ComputationGraph) net).fit(ds);
    }

    static void threads(int n) {
        Nd4j.getEnvironment().setMaxThreads(n);
        Nd4j.factory().blas().setMaxThreads(n);
    }

    static double gemmGflops() {
        threads(Runtime.getRuntime().availableProcessors());
        int n = 1024;
        INDArray a = Nd4j.rand(DataType.FLOAT, n, n), b = Nd4j.rand(DataType.FLOAT, n, n);
        for (int i = 0; i < 3; i++) a.mmul(b);
        int reps = 10;
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) a.mmul(b);
        return 2.0 * n * n * n * reps / ((System.nanoTime() - t0) / 1e9) / 1e9;
    }
}
