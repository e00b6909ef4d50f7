package io.sparkvision.bench;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.SparkContexts;
import io.sparkvision.image.InputShape;
import io.sparkvision.model.Architecture;
import io.sparkvision.model.Architectures;
import io.sparkvision.train.SparkModel;
import io.sparkvision.train.TrainingMasters;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.nativeblas.NativeOpsHolder;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Training throughput of one model, measured side by side in one run on the same random data: a single JVM's
 * {@code fit}, Spark parameter averaging and gradient sharing (local[workers], one OpenMP thread per task), PyTorch
 * on the same model/input/batch/updater, and a large SGEMM as the machine's reference rate.
 * For the Spark masters each round (f minibatches per worker, then PA's aggregation + broadcast) is timed on its own:
 * worker compute from DL4J's training statistics, the rest is communication (serialization, aggregation, broadcast).
 * Effective GFLOP/s = examples/s x 3 x 2 x forward multiply-adds (forward + two backward passes of the same size).
 */
public final class TrainBenchmark {
    /** What to measure; {@code masters} from {single, pa, gs}. */
    public record Settings(String model, InputShape input, int batch, int workers, double seconds, int averagingFrequency,
                           int rounds, int warmUpRounds, Set<String> masters, String updater, boolean torch, int gemmSize, int gradientSharingPort) {
    }

    private static final int CLASSES = 10;
    private final Settings s;
    private final PrintStream out;

    public TrainBenchmark(Settings settings, PrintStream out) {
        this.s = settings;
        this.out = out;
    }

    public static IUpdater updater(String name) {
        return switch (name) {
            case "adam" -> new Adam(1e-3);
            case "sgd" -> new Sgd(1e-2);
            case "nesterovs" -> new Nesterovs(1e-2, 0.9);
            default -> throw new IllegalArgumentException("--updater must be adam, sgd or nesterovs, got '" + name + "'");
        };
    }

    /** Seconds per round and its parts for one Spark master (mean over the measured rounds, warm-up excluded). */
    record SparkResult(String name, double examplesPerSecond, double roundSeconds, double computeSeconds, double aggregateSeconds,
                       double broadcastSeconds, String failure) {
        double communicationSeconds() {
            return Math.max(0, roundSeconds - computeSeconds);
        }
    }

    public void run(long forwardMacs) {
        Architecture arch = Architectures.get(s.model());
        int cores = Runtime.getRuntime().availableProcessors();
        out.printf(Locale.ROOT, "bench train: %s on %s, batch %d, updater %s, %d Spark workers, averaging every %d, %d rounds (+%d warm-up), %,d forward MACs/example%n",
                s.model(), s.input(), s.batch(), s.updater(), s.workers(), s.averagingFrequency(), s.rounds(), s.warmUpRounds(), forwardMacs);
        GemmReference gemm = GemmReference.measure(s.gemmSize(), 5);
        out.println("  reference: " + gemm.describe());

        // Sizing from the built model: what parameter averaging moves per round.
        Model sizing = arch.build(s.input(), CLASSES, 1, updater(s.updater()), 0);
        long params = sizing.params().length();
        INDArray state = updaterState(sizing);
        long updaterFloats = state == null ? 0 : state.length();
        long bytesPerWorker = 4L * (params + updaterFloats);
        out.printf(Locale.ROOT, "  sizing: %,d parameters + %,d updater-state floats = %s per PA worker to the driver per round, the same broadcast back;"
                        + " driver heap %.1f GB max, javacpp off-heap %.1f GB max%n",
                params, updaterFloats, bytes(bytesPerWorker), Runtime.getRuntime().maxMemory() / 1e9, org.bytedeco.javacpp.Pointer.maxBytes() / 1e9);
        sizing = null;
        System.gc(); // the sizing copy's off-heap arrays (VGG-16 with Adam: 2 GB) go before training starts

        // PyTorch first, while nothing of ours runs: after a gradient-sharing fit in this JVM DL4J's threads keep
        // spinning (measured: PyTorch's ResNet-18 64² fell from 111 to 25 ex/s when timed after the Spark modes).
        TorchReference.Result torch = s.torch()
                ? TorchReference.measure(s.model(), s.input(), s.batch(), CLASSES, cores, s.seconds(), s.updater())
                : new TorchReference.Result(Double.NaN, 0, 0, null, "not measured: --no-torch");
        if (torch.measured()) {
            out.printf(Locale.ROOT, "  PyTorch (%s, %d threads, same model/input/batch/updater): %.2f examples/s, %,d parameters%n",
                    torch.python(), torch.threads(), torch.examplesPerSecond(), torch.params());
        }

        List<DataSet> data = batches(s.input(), s.batch(), Math.min(8, Math.max(2, (int) s.seconds())), CLASSES, 0);
        double single = Double.NaN;
        if (s.masters().contains("single")) {
            try {
                single = single(arch, data, cores);
            } catch (OutOfMemoryError e) { // ND4J's off-heap limit: name the setting rather than end the run
                out.printf(Locale.ROOT, "  single JVM fit failed: %s. Raise -Dorg.bytedeco.javacpp.maxbytes/maxphysicalbytes in SPARKVISION_JAVA_OPTS"
                        + " (have %.1f GB off-heap) or lower --batch%n", String.valueOf(e.getMessage()).lines().findFirst().orElse("out of memory"),
                        org.bytedeco.javacpp.Pointer.maxBytes() / 1e9);
                System.gc();
            }
        }

        threads(1); // Spark: one BLAS/OpenMP thread per task, as the product's scripts set OMP_NUM_THREADS=1
        String unfit = paDoesNotFit(params, updaterFloats, bytesPerWorker);
        if (unfit != null && s.masters().contains("pa")) out.println("  Spark parameter averaging skipped: " + unfit);
        SparkResult pa = s.masters().contains("pa") && unfit == null ? spark("parameter-averaging", arch, bytesPerWorker) : null;
        SparkResult gs = s.masters().contains("gs") ? spark("gradient-sharing", arch, bytesPerWorker) : null;


        out.println();
        double flops = 6.0 * forwardMacs;
        out.printf(Locale.ROOT, "  %-38s %11s %9s %11s %9s %12s%n", "mode", "examples/s", "vs 1 JVM", "eff GFLOP/s", "% SGEMM", "vs PyTorch");
        if (!Double.isNaN(single)) row("single JVM fit (" + cores + " threads)", single, single, flops, gemm, torch);
        for (SparkResult r : new SparkResult[] {pa, gs}) {
            if (r == null) continue;
            if (r.failure() != null) out.printf(Locale.ROOT, "  %-38s failed: %s%n", r.name(), r.failure());
            else row(r.name(), r.examplesPerSecond(), single, flops, gemm, torch);
        }
        out.printf(Locale.ROOT, "  %-38s %s%n", "PyTorch (" + cores + " threads)",
                torch.measured() ? String.format(Locale.ROOT, "%11.2f", torch.examplesPerSecond()) : torch.note());

        perRound(pa, gs, params, bytesPerWorker);
        if (s.workers() > 1 && gs != null && gs.failure() == null)
            out.println("  * gradient sharing in one JVM trains without DL4J's mesh (nothing is exchanged); the bytes above are what a cluster would send.");
    }

    private void row(String name, double rate, double single, double flops, GemmReference gemm, TorchReference.Result torch) {
        double gf = rate * flops / 1e9;
        out.printf(Locale.ROOT, "  %-38s %11.2f %9s %11.2f %8.1f%% %12s%n", name, rate,
                Double.isNaN(single) ? "-" : String.format(Locale.ROOT, "%.2fx", rate / single), gf, 100 * gf / gemm.gflops(),
                torch.measured() ? String.format(Locale.ROOT, "%.2fx", rate / torch.examplesPerSecond()) : "not measured");
    }

    /** Per round: compute, communication bytes and seconds, compute share; then the inputs for `bench scaling`. */
    private void perRound(SparkResult pa, SparkResult gs, long params, long bytesPerWorker) {
        int n = s.workers(), f = s.averagingFrequency();
        if ((pa == null || pa.failure() != null) && (gs == null || gs.failure() != null)) return;
        out.println();
        out.printf(Locale.ROOT, "  per round (%d workers x %d minibatches of %d), mean of %d measured rounds:%n", n, f, s.batch(), s.rounds());
        if (pa != null && pa.failure() == null) {
            out.printf(Locale.ROOT, "  PA: %.2f s = compute %.2f s (slowest worker's fits, DL4J stats) + outside compute %.2f s (driver aggregate %.2f s incl. waiting, broadcast %.2f s); compute share %.0f%%%n",
                    pa.roundSeconds(), pa.computeSeconds(), pa.communicationSeconds(), pa.aggregateSeconds(), pa.broadcastSeconds(),
                    100 * pa.computeSeconds() / pa.roundSeconds());
            out.printf(Locale.ROOT, "      bytes: %d x %s to the driver (parameters + updater state, float32) + %s broadcast = %s per round;"
                            + " communication %.2f s = %.2f s/GB%n", n, bytes(bytesPerWorker), bytes(bytesPerWorker), bytes((n + 1) * (double) bytesPerWorker),
                    pa.communicationSeconds(), pa.communicationSeconds() / ((n + 1) * (double) bytesPerWorker / 1e9));
        }
        double lo = 4e-4 * params, hi = 4e-2 * params;
        if (gs != null && gs.failure() == null) {
            String share = pa != null && pa.failure() == null
                    ? String.format(Locale.ROOT, "%.0f%% (PA's measured worker compute for the same minibatches / GS round)", 100 * Math.min(1, pa.computeSeconds() / gs.roundSeconds()))
                    : "n/a (DL4J M2 keeps no timing stats for gradient sharing; run with --masters pa,gs)";
            out.printf(Locale.ROOT, "  GS: %.2f s per %d iterations; compute share %s%n", gs.roundSeconds(), f, share);
            out.printf(Locale.ROOT, "      bytes (estimate, not counted by DL4J): %d iterations x %d workers x 4 B x s x %,d params, s in [1e-4, 1e-2] (adaptive threshold's target range)"
                    + " = %s-%s sent per round; each worker receives the other %d workers' updates%n", f, n, params, bytes(f * n * lo), bytes(f * n * hi), n - 1);
        }
        if (pa != null && pa.failure() == null && pa.computeSeconds() > 0) {
            // One JVM, no network: outside compute = S·σs (senders, parallel) + n·S·σr (driver, serial) + S·(σs + σr) (broadcast);
            // with σs = σr = σ/2 that is S·σ·(n/2 + 1.5). Scheduling is folded in, so σ is an upper bound.
            double sigma = pa.communicationSeconds() / (bytesPerWorker * (n / 2.0 + 1.5)) / 2;
            out.printf(Locale.ROOT, "  scaling inputs: scripts/sparkvision bench scaling --model %s --input %dx%dx%d --batch %d --updater %s"
                            + " --cpu-ex-per-s <this run's single-JVM rate> --gpu-ex-per-s <assumed> --serialize-s-per-gb %.2f --deserialize-sum-s-per-gb %.2f%n",
                    s.model(), s.input().channels(), s.input().height(), s.input().width(), s.batch(), s.updater(), sigma * 1e9, sigma * 1e9);
        }
    }

    static String bytes(double b) {
        return b >= 1e9 ? String.format(Locale.ROOT, "%.2f GB", b / 1e9) : b >= 1e6 ? String.format(Locale.ROOT, "%.1f MB", b / 1e6)
                : String.format(Locale.ROOT, "%.1f kB", b / 1e3);
    }

    private double single(Architecture arch, List<DataSet> data, int cores) {
        threads(cores);
        Model net = arch.build(s.input(), CLASSES, 1, updater(s.updater()), 0);
        for (int i = 0; i < 2; i++) fit(net, data.get(i % data.size()));
        long t0 = System.nanoTime();
        long n = 0;
        for (int i = 0; (System.nanoTime() - t0) / 1e9 < s.seconds(); i++) {
            fit(net, data.get(i % data.size()));
            n += s.batch();
        }
        return n / ((System.nanoTime() - t0) / 1e9);
    }

    private SparkResult spark(String master, Architecture arch, long bytesPerWorker) {
        String name = (master.equals("parameter-averaging") ? "Spark parameter averaging" : "Spark gradient sharing*") + " local[" + s.workers() + "]";
        SparkConf conf = new SparkConf().setMaster("local[" + s.workers() + "]").setAppName("sparkvision-bench-train");
        SparkContexts.applyDefaults(conf);
        // Every worker's parameters + updater state arrive at the driver each round (Spark's default limit is 1 GB).
        long resultBytes = s.workers() * bytesPerWorker + (256L << 20);
        conf.set("spark.driver.maxResultSize", Math.max(1024, (long) (resultBytes * 1.2) >> 20) + "m");
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            JobConfig cfg = JobConfig.fromString("train { master = " + master + ", batch-size-per-worker = " + s.batch()
                    + ", averaging-frequency = " + s.averagingFrequency() + ", workers = " + s.workers()
                    + ", gradient-sharing.port = " + s.gradientSharingPort() + " }");
            // PA: every fit call on one round's data is exactly one round, timed alone. GS has no rounds of its own
            // and a fixed start-up per fit call: after the warm-up it fits all measured rounds' minibatches at once.
            boolean stats = master.equals("parameter-averaging");
            // One round's minibatches, generated on the executors and cached there as the train job's are.
            JavaRDD<DataSet> round = generated(sc, s.workers() * s.averagingFrequency()).persist(StorageLevel.MEMORY_ONLY());
            round.count();
            JavaRDD<DataSet> allRounds = stats ? null : generated(sc, s.rounds() * s.workers() * s.averagingFrequency()).persist(StorageLevel.MEMORY_ONLY());
            if (allRounds != null) allRounds.count();
            TrainingMaster<?, ?> tm = TrainingMasters.create(cfg, s.workers());
            // DL4J's statistics stamp events with an NTP clock by default (pool.ntp.org: unreachable offline, and
            // the bench only needs durations measured in this JVM).
            System.setProperty(org.deeplearning4j.spark.time.TimeSourceProvider.TIMESOURCE_CLASSNAME_PROPERTY,
                    org.deeplearning4j.spark.time.SystemClockTimeSource.class.getName());
            SparkModel model = SparkModel.of(sc, arch.build(s.input(), CLASSES, 1, updater(s.updater()), 0), tm);
            double wall = 0, compute = 0, aggregate = 0, broadcast = 0;
            int w = s.warmUpRounds();
            for (int r = 1 - w; r <= (stats ? s.rounds() : 1); r++) {
                if (stats) { // a fresh statistics helper per round
                    tm.setCollectTrainingStats(false);
                    tm.setCollectTrainingStats(true);
                }
                long t0 = System.nanoTime();
                model.fit(r <= 0 || stats ? round : allRounds);
                double secs = (System.nanoTime() - t0) / 1e9;
                RoundTimes times = stats ? RoundTimes.of(tm.getTrainingStats()) : null;
                out.printf(Locale.ROOT, "  %s %s: %.2f s%s%n", name, r <= 0 ? "round " + r + " (warm-up)" : stats ? "round " + r : s.rounds() == 1 ? "round 1" : "rounds 1-" + s.rounds() + " in one fit", secs, times == null ? ""
                        : String.format(Locale.ROOT, ", worker compute %.2f s over %d minibatch fits, driver aggregate %.2f s", times.computeSeconds(), times.minibatches(), times.aggregateSeconds()));
                if (r <= 0) continue;
                wall += secs;
                if (times != null) {
                    compute += times.computeSeconds();
                    aggregate += times.aggregateSeconds();
                    broadcast += times.broadcastSeconds();
                }
            }
            int k = s.rounds();
            return new SparkResult(name, k * (double) s.workers() * s.averagingFrequency() * s.batch() / wall, wall / k, compute / k,
                    aggregate / k, broadcast / k, null);
        } catch (Exception | OutOfMemoryError e) {
            String why = e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            boolean offHeap = String.valueOf(e.getMessage()).contains("physicalBytes") || String.valueOf(e.getMessage()).contains("Pointer");
            out.printf(Locale.ROOT, "  %s failed: %s%n    %s: try --workers 1, a smaller --batch, --updater sgd,"
                            + " or more memory via SPARKVISION_JAVA_OPTS='-Xmx<GB>g -Dorg.bytedeco.javacpp.maxbytes=<GB>G -Dorg.bytedeco.javacpp.maxphysicalbytes=<GB>G'%n",
                    name, why, offHeap
                            ? String.format(Locale.ROOT, "ND4J's off-heap limit was reached (%.1f GB; maxphysicalbytes counts the whole process) by %d workers' networks and activations",
                                    org.bytedeco.javacpp.Pointer.maxBytes() / 1e9, s.workers())
                            : String.format(Locale.ROOT, "a round needs ~%.1f GB of driver heap for %d workers' results (have %.1f GB)",
                                    2.0 * (s.workers() + 1) * bytesPerWorker / 1e9, s.workers(), Runtime.getRuntime().maxMemory() / 1e9));
            return new SparkResult(name, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, why);
        } finally {
            // As the train job does: DL4J's parameter server (Aeron media driver, transport thread pools) is left
            // running by the master after a gradient-sharing fit.
            if (master.equals("gradient-sharing")) TrainingMasters.stopGradientSharing();
        }
    }

    /**
     * Why a PA round cannot fit in this JVM, or null. In local mode the driver holds every worker's serialized
     * result plus the broadcast on heap (x2 for buffer growth), and off-heap the driver's network and one copy per
     * worker (parameters, gradients, updater state; activations come on top).
     */
    private String paDoesNotFit(long params, long updaterFloats, long bytesPerWorker) {
        double heapNeed = 2.0 * (s.workers() + 1) * bytesPerWorker;
        double offHeapNeed = (s.workers() + 1) * 4.0 * (2 * params + updaterFloats);
        long heap = Runtime.getRuntime().maxMemory(), offHeap = org.bytedeco.javacpp.Pointer.maxBytes();
        if (heapNeed <= heap && offHeapNeed <= offHeap) return null;
        return String.format(Locale.ROOT, "a round of %d workers needs ~%.1f GB heap (have %.1f) and ~%.1f GB off-heap before activations (have %.1f)."
                        + " Use --workers 1, --updater sgd (no updater state to ship), or SPARKVISION_JAVA_OPTS='-Xmx%dg -Dorg.bytedeco.javacpp.maxbytes=%dG"
                        + " -Dorg.bytedeco.javacpp.maxphysicalbytes=%dG' if the machine has that much free memory",
                s.workers(), heapNeed / 1e9, heap / 1e9, offHeapNeed / 1e9, offHeap / 1e9,
                (long) Math.ceil(heapNeed / 1e9) + 1, (long) Math.ceil(offHeapNeed / 1e9) + 3, (long) Math.ceil((heapNeed + offHeapNeed) / 1e9) + 5);
    }

    private static INDArray updaterState(Model net) {
        if (net instanceof MultiLayerNetwork m) return m.getUpdater() == null ? null : m.getUpdater().getStateViewArray();
        ComputationGraph g = (ComputationGraph) net;
        return g.getUpdater() == null ? null : g.getUpdater().getStateViewArray();
    }

    private JavaRDD<DataSet> generated(JavaSparkContext sc, int n) {
        List<Integer> parts = new ArrayList<>();
        for (int p = 0; p < s.workers(); p++) parts.add(p);
        int per = (n + s.workers() - 1) / s.workers(), b = s.batch();
        InputShape in = s.input();
        return sc.parallelize(parts, s.workers()).flatMap(p -> batches(in, b, per, CLASSES, p).iterator());
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

    private static void fit(Model net, DataSet ds) {
        if (net instanceof MultiLayerNetwork m) m.fit(ds);
        else ((ComputationGraph) net).fit(ds);
    }

    /**
     * Threads for work started from the calling thread. oneDNN takes its thread count from OpenMP, whose default the
     * launchers fix at one ({@code OMP_NUM_THREADS=1}, right for one Spark task per core); omp_set_num_threads changes
     * it for the calling thread only, so the single-JVM fit gets all cores while Spark's task threads keep one each.
     */
    static void threads(int n) {
        Nd4j.getEnvironment().setMaxThreads(n);
        Nd4j.factory().blas().setMaxThreads(n);
        NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(n);
    }
}
