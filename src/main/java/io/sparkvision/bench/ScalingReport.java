package io.sparkvision.bench;

import io.sparkvision.bench.ScalingModel.Executor;
import io.sparkvision.bench.ScalingModel.Gs;
import io.sparkvision.bench.ScalingModel.Inputs;
import io.sparkvision.bench.ScalingModel.Mesh;
import io.sparkvision.bench.ScalingModel.Option;
import io.sparkvision.bench.ScalingModel.Pa;
import io.sparkvision.bench.ScalingModel.Point;
import io.sparkvision.model.Architectures;
import io.sparkvision.image.InputShape;
import io.sparkvision.model.ModelStats;
import io.sparkvision.model.NetConf;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** The tables of docs/scaling.md, printed from {@link ScalingModel}: `bench scaling` and the doc share this code. */
public final class ScalingReport {
    public static final int[] WORKERS = {1, 8, 32, 256};
    public static final double[] GBITS = {10, 25, 100};
    /** Below this share of time computing an option is said not to scale. */
    public static final double SCALES = 0.5;
    /** ImageNet-1k training images (ILSVRC-2012), 90 epochs as in Goyal et al. 2017. */
    static final long IMAGENET_TRAIN = 1_281_167;
    static final int EPOCHS = 90;

    /** The options compared: PA's default and a long round, GS's product default and the two DL4J alternatives. */
    public static List<Option> options(int depth, double sparsity) {
        return List.of(new Pa(5, depth), new Pa(20, depth), new Gs(Mesh.PLAIN, 0, true), new Gs(Mesh.MESH, 0, true),
                new Gs(Mesh.MESH, sparsity, false));
    }

    /**
     * The document's cases: CPU rates are quiet single-JVM, 2-thread `bench train` rates (docs/benchmarks.md);
     * GPU rates are ASSUMED: ResNet-50 360 ex/s (order of published single-V100 FP32 figures), the others scaled by
     * their multiply-adds.
     */
    public static final double RESNET50_GPU_ASSUMED = 360;

    public static List<Inputs> docInputs(int batch) {
        double resnetMacs = macs("resnet50");
        return List.of(inputs("alexnet2012", batch, 5.75, RESNET50_GPU_ASSUMED * resnetMacs / macs("alexnet2012")),
                inputs("vgg16", batch, 0.47, RESNET50_GPU_ASSUMED * resnetMacs / macs("vgg16")),
                inputs("resnet50", batch, 3.46, RESNET50_GPU_ASSUMED));
    }

    static NetConf conf(String model) {
        return Architectures.get(model).configure(Architectures.get(model).defaultInput(), 1000, 1, TrainBenchmark.updater("adam"), 0);
    }

    static double macs(String model) {
        return ModelStats.summary(conf(model)).stream().mapToLong(ModelStats.Row::multiplyAdds).sum();
    }

    /** Inputs for a model at 1,000 classes with Adam (updater state 2P), on the document's costs. */
    public static Inputs inputs(String model, int batch, double cpuExPerS, double gpuExPerS) {
        return inputs(model, null, 1000, "adam", batch, cpuExPerS, gpuExPerS, ScalingModel.Costs.DOC);
    }

    public static Inputs inputs(String model, InputShape shape, int classes, String updater, int batch, double cpuExPerS,
                                double gpuExPerS, ScalingModel.Costs costs) {
        InputShape s = shape != null ? shape : Architectures.get(model).defaultInput();
        NetConf conf = Architectures.get(model).configure(s, classes, 1, TrainBenchmark.updater(updater), 0);
        long params = ModelStats.params(conf);
        return new Inputs(model, params, TrainBenchmark.updater(updater).stateSize(params), batch, cpuExPerS, gpuExPerS, costs);
    }

    /** One line per executor × network × option, one cell per worker count: "examples/s (share computing)". */
    public static void printDetail(Inputs in, List<Option> options, PrintStream out) {
        ScalingModel.Costs c = in.costs();
        out.printf(Locale.ROOT, "%s: P=%,d, S=%.0f MB per PA result, GS bitmap %.1f MB, sparse %.2f MB, GS task result (updater state) %.0f MB per minibatch;"
                        + " b=%d; CPU %.2f ex/s (measured), GPU %.0f ex/s (assumed);"
                        + " σs=σr=%.1f s/GB, round %.2f s + %.0f ms/task, apply %.2f/%.3f ns/value CPU/GPU%n",
                in.model(), in.params(), in.paBytesPerWorker() / 1e6, ScalingModel.gsMessageBytes(in.params(), 0) / 1e6,
                ScalingModel.gsMessageBytes(in.params(), sparsity(options)) / 1e6, in.gsTaskResultBytes() / 1e6, in.batch(), in.cpuExamplesPerSecond(),
                in.gpuExamplesPerSecond(), c.serializeSecondsPerByte() * 1e9, c.roundBaseSeconds(), c.perTaskSeconds() * 1e3,
                c.cpuApplySecondsPerValue() * 1e9, c.gpuApplySecondsPerValue() * 1e9);
        StringBuilder head = new StringBuilder("| exec | network | option |");
        StringBuilder rule = new StringBuilder("|---|---|---|");
        for (int n : WORKERS) {
            head.append(" N=").append(n).append(" |");
            rule.append("---|");
        }
        out.println(head);
        out.println(rule);
        for (Executor e : Executor.values())
            for (double gbit : GBITS)
                for (Option o : options) {
                    StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %s | %.0f Gbit | %s |", e, gbit, o.label()));
                    for (int n : WORKERS) {
                        Point p = ScalingModel.point(in, o, n, e, gbit);
                        row.append(' ').append(rate(p.examplesPerSecond())).append(" (").append(percent(p.efficiency())).append(") |");
                    }
                    out.println(row);
                }
    }

    /** The advice: per model × executor × network, the fastest option at 8/32/256 workers, or that none scales. */
    public static void printAdvice(List<Inputs> models, List<Option> options, PrintStream out) {
        out.println("| model | exec | network | N=8 | N=32 | N=256 |");
        out.println("|---|---|---|---|---|---|");
        for (Inputs in : models)
            for (Executor e : Executor.values())
                for (double gbit : GBITS) {
                    StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %s | %s | %.0f Gbit |", in.model(), e, gbit));
                    for (int n : new int[] {8, 32, 256}) {
                        Option o = recommend(in, options, n, e, gbit);
                        Point p = ScalingModel.point(in, o, n, e, gbit);
                        row.append(' ').append(p.efficiency() >= SCALES ? "" : "**none scales**; best ")
                                .append(o.label()).append(' ').append(percent(p.efficiency())).append(" |");
                    }
                    out.println(row);
                }
    }

    /** ResNet-50, ImageNet-1k, 90 epochs: hours with the fastest option, the global batch and Goyal et al.'s learning rate. */
    public static void printTimeToAccuracy(Inputs resnet50, List<Option> options, PrintStream out) {
        out.println("| exec | network | N | advised option | examples/s | hours for 90 epochs | global batch | learning rate (0.1 × batch/256, 5-epoch warm-up) |");
        out.println("|---|---|---|---|---|---|---|---|");
        for (Executor e : Executor.values())
            for (double gbit : GBITS)
                for (int n : new int[] {8, 32, 256}) {
                    Option o = recommend(resnet50, options, n, e, gbit);
                    Point p = ScalingModel.point(resnet50, o, n, e, gbit);
                    int global = n * resnet50.batch();
                    double hours = IMAGENET_TRAIN * EPOCHS / p.examplesPerSecond() / 3600;
                    out.printf(Locale.ROOT, "| %s | %.0f Gbit | %d | %s | %s | %s | %,d%s | %.2f |%n", e, gbit, n, o.label(),
                            rate(p.examplesPerSecond()), hours >= 100 ? String.format(Locale.ROOT, "%,.0f", hours) : String.format(Locale.ROOT, "%.1f", hours),
                            global, global > 8192 ? " (> 8k: LARS needed)" : "", 0.1 * global / 256);
                }
    }

    /**
     * The advice: the fastest synchronous option (PA, or GS with the product's default bitmap, whose accuracy matches
     * single-JVM training) if it keeps at least {@link #SCALES} of the time computing; else the fastest option
     * overall (asynchronous sparse GS trades accuracy for speed: stale updates, dropped quanta).
     */
    public static Option recommend(Inputs in, List<Option> options, int workers, Executor e, double gbit) {
        List<Option> sync = options.stream().filter(o -> !(o instanceof Gs g) || g.synchronous()).toList();
        Option best = ScalingModel.best(in, sync, workers, e, gbit);
        if (ScalingModel.point(in, best, workers, e, gbit).efficiency() >= SCALES) return best;
        return ScalingModel.best(in, options, workers, e, gbit);
    }

    /** Everything docs/scaling.md shows, in its order. */
    public static void printDoc(PrintStream out) {
        List<Inputs> models = docInputs(32);
        List<Option> options = options(2, 1e-2);
        for (Inputs in : models) {
            out.println("```");
            printDetail(in, options, out);
            out.println("```");
        }
        printAdvice(models, options, out);
        printTimeToAccuracy(models.get(2), options, out);
    }

    private static double sparsity(List<Option> options) {
        return options.stream().filter(o -> o instanceof Gs g && g.sparsity() > 0).mapToDouble(o -> ((Gs) o).sparsity()).findFirst().orElse(1e-2);
    }

    static String percent(double share) {
        return share < 0.005 ? "<1%" : String.format(Locale.ROOT, "%.0f%%", 100 * share);
    }

    static String rate(double r) {
        return r >= 100 ? String.format(Locale.ROOT, "%,.0f", r) : r >= 10 ? String.format(Locale.ROOT, "%.1f", r) : String.format(Locale.ROOT, "%.2f", r);
    }

    private ScalingReport() {
    }
}
