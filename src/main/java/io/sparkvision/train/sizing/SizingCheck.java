package io.sparkvision.train.sizing;

import io.sparkvision.config.Choices;
import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Launcher;
import io.sparkvision.config.Options;
import io.sparkvision.image.InputShape;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.factory.Nd4j;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static io.sparkvision.train.sizing.MemoryLimits.gigabytes;
import static io.sparkvision.train.sizing.MemoryLimits.sparkSize;
import static io.sparkvision.train.sizing.RoundSizing.bytes;

/**
 * The train job's sizing step: sizes a round ({@link RoundSizing}) against what the application has
 * ({@link MemoryLimits}), prints both in two lines, raises {@code spark.driver.maxResultSize} where that is safe, and
 * otherwise stops before any training with the exact settings to change.
 */
public final class SizingCheck {
    /** Serialization framing on top of the raw array bytes (measured: ~0.5% on AlexNet's 670 MiB results). */
    static final double SERIALIZED_SLACK = 1.02;
    static final long SLACK_BYTES = 16L << 20;

    private SizingCheck() {
    }

    /** What to do: problems with their fixes (empty = fits), and a new driver-side maxResultSize (0 = leave it). */
    public record Verdict(List<String> problems, List<String> fixes, long raiseMaxResultSizeTo) {
        public boolean fits() {
            return problems.isEmpty();
        }
    }

    /** As spark-submit's driver would be told (the launcher is unknown). */
    public static Verdict judge(RoundSizing s, MemoryLimits m) {
        return judge(s, m, new Launcher(Launcher.Kind.SPARK_SUBMIT, 0, null), "");
    }

    /**
     * @param launcher          what started this JVM: the driver's fixes are written for it
     * @param driverJavaOptions spark.driver.extraJavaOptions as this driver got it (a spark-submit fix extends it)
     */
    public static Verdict judge(RoundSizing s, MemoryLimits m, Launcher launcher, String driverJavaOptions) {
        List<String> problems = new ArrayList<>();
        List<String> fixes = new ArrayList<>();
        long perResult = (long) (s.toDriverPerWorker() * SERIALIZED_SLACK) + SLACK_BYTES;
        long total = (long) (s.resultBytesAtDriver() * SERIALIZED_SLACK) + SLACK_BYTES;
        long raise = 0;
        if (m.maxResultSizeAtLaunch() > 0 && perResult > m.maxResultSizeAtLaunch()) {
            problems.add("one worker's result (" + bytes(perResult) + ") exceeds spark.driver.maxResultSize as the executors got it ("
                    + bytes(m.maxResultSizeAtLaunch()) + "); they drop larger results");
            fixes.add("--conf spark.driver.maxResultSize=" + sparkSize(total));
        } else if (m.maxResultSizeNow() > 0 && total > m.maxResultSizeNow()) {
            if (m.maxResultSizeSetByUser()) {
                problems.add(s.resultsAtDriver() + " results of " + bytes(perResult) + " reach the driver at once, above the "
                        + "spark.driver.maxResultSize you set (" + bytes(m.maxResultSizeNow()) + ")");
                fixes.add("--conf spark.driver.maxResultSize=" + sparkSize(total));
            } else {
                raise = total;
            }
        }
        boolean heapShort = s.driverHeap() > m.driverHeap(), offHeapShort = s.driverOffHeap() > m.driverOffHeap();
        if (heapShort) problems.add("the driver needs ~" + bytes(s.driverHeap()) + " of heap, it has " + bytes(m.driverHeap()));
        if (offHeapShort) {
            problems.add("the driver needs ~" + bytes(s.driverOffHeap()) + " off-heap for ND4J, its limit is " + bytes(m.driverOffHeap()));
        }
        if (heapShort || offHeapShort) fixes.addAll(DriverFlags.needed(s, m, heapShort, offHeapShort).render(launcher, driverJavaOptions));
        if (!m.local()) {
            long heap = ExecutorHeap.needed(s, m.executorRegion());
            if (heap > m.executorHeap()) {
                problems.add("each executor needs ~" + bytes(heap) + " of heap (its serialized results and broadcast pieces, on "
                        + bytes(m.executorRegion()) + " G1 regions), spark.executor.memory is " + bytes(m.executorHeap()));
                long enough = ExecutorHeap.smallestHeap(s, m.executorRegionSet() ? m.executorRegion() : 0);
                fixes.add("--conf spark.executor.memory=" + gigabytes(enough));
                long noWaste = ExecutorHeap.smallestHeap(s, 16L << 20);
                if (m.executorRegion() < 16L << 20 && noWaste < enough) {
                    fixes.add("(or spark.executor.memory=" + gigabytes(noWaste) + " with " + ExecutorHeap.NO_WASTE_FLAG
                            + " in spark.executor.extraJavaOptions)");
                }
            }
            if (s.executorOffHeap() > m.executorOffHeap()) {
                problems.add("each executor needs ~" + bytes(s.executorOffHeap()) + " off-heap for ND4J, its limit is " + bytes(m.executorOffHeap()));
                fixes.add("-Dorg.bytedeco.javacpp.maxbytes=" + gigabytes(s.executorOffHeap()).toUpperCase(Locale.ROOT)
                        + " in spark.executor.extraJavaOptions");
            }
            if (m.overheadEnforced() && s.executorOffHeap() > m.executorOverhead()) {
                problems.add("ND4J's ~" + bytes(s.executorOffHeap()) + " off-heap does not fit spark.executor.memoryOverhead ("
                        + bytes(m.executorOverhead()) + "), the container would be killed");
                fixes.add("--conf spark.executor.memoryOverhead=" + gigabytes(s.executorOffHeap()));
            }
        }
        return new Verdict(problems, fixes, problems.isEmpty() ? raise : 0);
    }

    /** The train job's step: size, print, adjust or stop. Returns the sizing for the run's provenance. */
    public static RoundSizing run(JobConfig cfg, JavaSparkContext sc, Model net, InputShape shape, int workers,
                                  long trainExamples, PrintStream out) {
        MemoryLimits limits = MemoryLimits.read(sc);
        boolean gpu = cfg.get(Options.TRAIN_SIZING_GPU) || Nd4j.getBackend().getClass().getName().toLowerCase(Locale.ROOT).contains("cuda");
        int evalBatch = cfg.get(Options.EVAL_WHERE) == Choices.EvalWhere.DRIVER ? cfg.get(Options.EVAL_BATCH) : 0;
        // Executors not registered yet (right after submit): assume one worker per executor, Spark's usual layout here.
        int executors = limits.local() ? 0 : limits.executors() > 0 ? limits.executors() : workers;
        RoundSizing.Setup setup = new RoundSizing.Setup(cfg.get(Options.TRAIN_MASTER).label(), workers, executors,
                cfg.get(Options.TRAIN_BATCH), evalBatch, trainExamples, (long) shape.channels() * shape.height() * shape.width(),
                cfg.get(Options.TRAIN_AGGREGATION_DEPTH), cfg.get(Options.TRAIN_AVERAGE_UPDATER), gpu);
        RoundSizing s = RoundSizing.of(net, shape, setup);
        Launcher launcher = Launcher.current();
        String driverOptions = sc.getConf().get("spark.driver.extraJavaOptions", "");
        Verdict v = judge(s, limits, launcher, driverOptions);
        RoundSizing asked = s;
        if (!v.fits()) {
            RoundSizing smaller = smallerEvalBatch(net, shape, setup, limits, launcher, driverOptions);
            if (smaller != null) {
                s = smaller;
                v = judge(s, limits, launcher, driverOptions);
            }
        }
        out.println(s.trafficLine(cfg.get(Options.TRAIN_UPDATER).label()));
        out.println(memoryLine(s, limits));
        if (s != asked) {
            out.printf(Locale.ROOT, "sizing: eval.batch-size %d -> %d: at %d the driver-side evaluator would need ~%s more, which this "
                    + "JVM does not have (a smaller evaluation batch changes no result)%n", evalBatch, s.evalBatch(), evalBatch,
                    bytes(asked.driverOffHeap() - s.driverOffHeap()));
        }
        if (limits.local()) v = LocalMachine.check(v, s, launcher, new LocalMachine.Resizer(net, shape, setup), out);
        if (v.raiseMaxResultSizeTo() > 0) {
            MemoryLimits.raiseMaxResultSize(sc, v.raiseMaxResultSizeTo());
            out.printf("sizing: set spark.driver.maxResultSize=%s (was %s; the driver heap holds it)%n",
                    sparkSize(v.raiseMaxResultSizeTo()), bytes(limits.maxResultSizeNow()));
        }
        if (!v.fits()) {
            String msg = "sizing: this run does not fit: " + String.join("; ", v.problems()) + ". Set " + String.join(", ", v.fixes())
                    + alternatives(s, cfg) + " (train.sizing.enforce = false runs anyway)";
            if (cfg.get(Options.TRAIN_SIZING_ENFORCE)) throw new IllegalArgumentException(msg);
            out.println("warning: " + msg);
        }
        return s;
    }

    /**
     * The driver-side evaluator's batch changes no result: the run with the largest smaller one that fits this JVM, or
     * null if none does (then something else is short).
     */
    static RoundSizing smallerEvalBatch(Model net, InputShape shape, RoundSizing.Setup setup, MemoryLimits limits, Launcher launcher,
                                        String driverOptions) {
        for (int e = setup.evalBatch() / 2; e >= 1; e /= 2) {
            RoundSizing smaller = RoundSizing.of(net, shape, LocalMachine.withEvalBatch(setup, e));
            if (judge(smaller, limits, launcher, driverOptions).fits()) return smaller;
        }
        return null;
    }

    static String alternatives(RoundSizing s, JobConfig cfg) {
        if (!RoundSizing.PARAMETER_AVERAGING.equals(s.master()) || s.updaterState() == 0) return "";
        return "; or ship less per round: --set train.average-updater=false (" + cfg.get(Options.TRAIN_UPDATER)
                + " state restarts each round), --set train.updater=sgd, or --set train.master=gradient-sharing";
    }

    static String memoryLine(RoundSizing s, MemoryLimits m) {
        String line = String.format(Locale.ROOT, "sizing: driver ~%s heap (has %s) + ~%s off-heap (ND4J limit %s)", bytes(s.driverHeap()),
                bytes(m.driverHeap()), bytes(s.driverOffHeap()), bytes(m.driverOffHeap()));
        if (!m.local()) {
            line += String.format(Locale.ROOT, "; each of %d executors ~%s heap (spark.executor.memory %s) + ~%s off-heap (ND4J limit %s%s)",
                    (int) Math.ceil(s.workers() / (double) s.workersPerExecutor()), bytes(ExecutorHeap.needed(s, m.executorRegion())), bytes(m.executorHeap()), bytes(s.executorOffHeap()), bytes(m.executorOffHeap()),
                    m.overheadEnforced() ? ", memoryOverhead " + bytes(m.executorOverhead()) : "");
        }
        if (m.local()) {
            // The promise a local run can be held to: G1 may grow the heap to its limit, ND4J takes what the sizing
            // counts, the JVM itself (metaspace, code, threads, native libraries) about a GiB.
            line += String.format(Locale.ROOT, "; resident at most ~%s (heap limit + ND4J + %s for the JVM)",
                    bytes(m.driverHeap() + s.driverOffHeap() + Launcher.JVM_OVERHEAD), bytes(Launcher.JVM_OVERHEAD));
        }
        if (s.gpu()) line += String.format(Locale.ROOT, "; GPU ~%s per executor", bytes(s.gpuPerExecutor()));
        return line + String.format(Locale.ROOT, "; activations ~%s per worker at batch %d", bytes(s.activationBytesPerWorker()), s.batch());
    }
}
