package io.sparkvision.bench;

import io.sparkvision.image.InputShape;
import io.sparkvision.model.Architecture;
import io.sparkvision.model.Architectures;
import io.sparkvision.model.onednn.NativePath;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

import java.util.List;
import java.util.Locale;

/**
 * The product's own oneDNN path against DL4J's, single JVM, 2 threads, in one run: networks of the same model and seed,
 * one per variant ({@code -Dsparkvision.bench.variants}, default {@code all,convbn,dl4j}: the whole path with the ReLU
 * pieces, the second step's conv + BatchNorm path, DL4J's helpers; also {@code relu}: ReLU layers without fusion,
 * {@code conv}: the first step) trained in alternating slices, the order rotated each round (so machine load hits all
 * alike), then the PyTorch twin. Prints examples/s and process CPU-ms per example of each, ratios to the first variant,
 * and in how many rounds each used the least CPU per example.
 * {@code java ... io.sparkvision.bench.NativePathBenchmark MODEL CxHxW BATCH ROUNDS SECONDS_PER_SLICE [adam|sgd|nesterovs]}
 */
public final class NativePathBenchmark {
    private NativePathBenchmark() {
    }

    public static void main(String[] a) {
        String model = a[0];
        InputShape in = InputShape.parse(a[1]);
        int batch = Integer.parseInt(a[2]), rounds = Integer.parseInt(a[3]);
        double slice = Double.parseDouble(a[4]);
        String updater = a.length > 5 ? a[5] : "adam";
        int cores = 2, classes = 10;
        TrainBenchmark.threads(cores);
        Architecture arch = Architectures.get(model);
        List<DataSet> data = TrainBenchmark.batches(in, batch, 4, classes, 0);
        // -Dsparkvision.bench.variants=all,convbn,relu,conv,dl4j (default all,convbn,dl4j): the path's pieces side by side
        String[] keys = System.getProperty("sparkvision.bench.variants", "all,convbn,dl4j").split(",");
        int v = keys.length;
        Model[] nets = new Model[v];
        String[] names = new String[v];
        int[] installed = new int[v];
        for (int i = 0; i < v; i++) {
            nets[i] = arch.build(in, classes, 1, TrainBenchmark.updater(updater), 0);
            NativePath.uninstall(nets[i]);
            NativePath.Pieces p = switch (keys[i].trim()) {
                case "all" -> NativePath.Pieces.ALL;
                case "unblocked" -> new NativePath.Pieces(true, true, true, true, false);
                case "dl4jlayer" -> new NativePath.Pieces(true, true, true, true, true, false);
                case "dl4jpool" -> new NativePath.Pieces(true, true, true, true, true, true, false);
                case "dl4jstep" -> new NativePath.Pieces(true, true, true, true, true, true, true, false);
                case "relu" -> new NativePath.Pieces(true, true, true, false);
                case "convbn" -> new NativePath.Pieces(true, true, false, false);
                case "conv" -> new NativePath.Pieces(true, false, false, false);
                case "dl4j" -> null;
                default -> throw new IllegalArgumentException("sparkvision.bench.variants: unknown '" + keys[i]
                        + "'; use all, dl4jstep (all but the fused optimizer step), dl4jpool (all but the product's pooling and step), unblocked (all but blocked activations), dl4jlayer (all but the product's conv layer object), relu (ReLU layers, no fusion), convbn, conv, dl4j");
            };
            names[i] = switch (keys[i].trim()) {
                case "all" -> "whole path (conv+BN+ReLU fused, pooling, blocked activations, fused optimizer step)";
                case "dl4jstep" -> "whole path with DL4J's optimizer step";
                case "dl4jpool" -> "whole path with DL4J's pooling and optimizer step (sixth step)";
                case "unblocked" -> "whole path, NHWC activations (fourth step)";
                case "dl4jlayer" -> "whole path in DL4J's conv layer object, DL4J's pooling (fifth step)";
                case "relu" -> "conv+BN+ReLU layers, no fusion";
                case "convbn" -> "conv+BN (second step)";
                case "conv" -> "conv only (first step)";
                default -> "DL4J's path";
            };
            installed[i] = p == null ? 0 : NativePath.install(nets[i], p);
            if (p == null && NativePath.installed(nets[i]) != 0) throw new IllegalStateException("DL4J's side still has the product's helper");
        }
        for (int i = 0; i < 2; i++)
            for (Model n : nets) fit(n, data.get(i));
        double[] t = new double[v], cpu = new double[v];
        long[] ex = new long[v];
        int[] fastestCpu = new int[v];
        PrintOut.line("native-path A/B: %s %s batch %d %s, variants %s (layers/vertices on the product's code: %s), %d rounds x %.0f s each, 2 threads, load %s",
                model, in, batch, updater, String.join(",", keys), java.util.Arrays.toString(installed), rounds, slice, load());
        for (int r = 0; r < rounds; r++) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  round %d:", r + 1));
            double best = Double.MAX_VALUE;
            int bestI = 0;
            double[][] round = new double[v][];
            for (int k = 0; k < v; k++) {
                int i = (k + r) % v; // rotate the order so no variant always runs first
                double[] s = slice(nets[i], data, batch, slice);
                round[i] = s;
                t[i] += s[0];
                ex[i] += (long) s[1];
                cpu[i] += s[2];
                double cms = 1e3 * s[2] / s[1];
                if (cms < best) {
                    best = cms;
                    bestI = i;
                }
            }
            fastestCpu[bestI]++;
            for (int i = 0; i < v; i++)
                line.append(String.format(Locale.ROOT, " %s %.2f ex/s %.1f CPU-ms/ex;", keys[i], round[i][1] / round[i][0], 1e3 * round[i][2] / round[i][1]));
            PrintOut.line("%s: least CPU per example %s (load %s)", line, keys[bestI], load());
        }
        PrintOut.line("  conv algorithm (%s): %d shapes timed Winograd against direct, direct chosen for %d",
                System.getProperty("sparkvision.native-path.algorithm", "measure"),
                io.sparkvision.model.onednn.DnnlConvolutionHelper.shapesTimed(), io.sparkvision.model.onednn.DnnlConvolutionHelper.shapesChoosingDirect());
        for (int i = 0; i < v; i++) {
            var step = io.sparkvision.model.optim.FusedSteps.stepOf(nets[i]);
            if (step != null) PrintOut.line("  %s: optimizer step fused in %d updater blocks, %d steps", keys[i], step.fusedBlocks(), step.fusedSteps());
        }
        // -Dsparkvision.bench.torch=false: no PyTorch twin (A/B only)
        boolean withTorch = Boolean.parseBoolean(System.getProperty("sparkvision.bench.torch", "true"));
        TorchReference.Result torch = withTorch ? TorchReference.measure(model, in, batch, classes, cores, slice * rounds, updater) : null;
        // CPU time of the whole process per example: less sensitive to other processes' load than wall time (time not
        // scheduled does not count), though cache sharing and OpenMP spin-waits still move it.
        for (int i = 0; i < v; i++)
            PrintOut.line("  %-36s %7.2f ex/s  %6.1f CPU-ms/ex  (ex/s %.2fx, CPU-ms/ex %.2fx of the first; least CPU in %d of %d rounds)",
                    names[i], ex[i] / t[i], 1e3 * cpu[i] / ex[i], (ex[i] / t[i]) / (ex[0] / t[0]), (cpu[i] / ex[i]) / (cpu[0] / ex[0]), fastestCpu[i], rounds);
        if (torch == null) PrintOut.line("  PyTorch: not run (-Dsparkvision.bench.torch=false)");
        else if (torch.measured()) PrintOut.line("  PyTorch (2 threads)    %.2f ex/s   (first / PyTorch %.2fx)",
                torch.examplesPerSecond(), (ex[0] / t[0]) / torch.examplesPerSecond());
        else PrintOut.line("  PyTorch: %s", torch.note());
        PrintOut.line("  load at end: %s", load());
    }

    /** Wall seconds, examples, process CPU seconds. */
    private static double[] slice(Model net, List<DataSet> data, int batch, double seconds) {
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long c0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        long n = 0;
        for (int i = 0; (System.nanoTime() - t0) / 1e9 < seconds; i++) {
            fit(net, data.get(i % data.size()));
            n += batch;
        }
        return new double[] {(System.nanoTime() - t0) / 1e9, n, (os.getProcessCpuTime() - c0) / 1e9};
    }

    private static void fit(Model net, DataSet ds) {
        if (net instanceof MultiLayerNetwork m) m.fit(ds);
        else ((ComputationGraph) net).fit(ds);
    }

    private static String load() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    /** System.out with a root locale. */
    private static final class PrintOut {
        static void line(String f, Object... args) {
            System.out.println(String.format(Locale.ROOT, f, args));
        }
    }
}
