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
 * The product's own oneDNN path against DL4J's, single JVM, 2 threads, in one run: three networks of the same model and
 * seed - the whole path (conv + BatchNorm), the conv-only path of the first step, DL4J's helpers - trained in alternating slices (so machine load hits
 * both alike), then the PyTorch twin. Prints examples/s of each and the ratios.
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
        Model fast = arch.build(in, classes, 1, TrainBenchmark.updater(updater), 0);
        Model convOnly = arch.build(in, classes, 1, TrainBenchmark.updater(updater), 0);
        Model dl4j = arch.build(in, classes, 1, TrainBenchmark.updater(updater), 0);
        NativePath.uninstall(dl4j);
        NativePath.uninstall(convOnly);
        NativePath.uninstall(fast);
        NativePath.installAlways(fast);
        int installed = NativePath.installed(fast);
        int convs = NativePath.installAlways(convOnly, false);
        if (NativePath.installed(dl4j) != 0) throw new IllegalStateException("DL4J's side still has the product's helper");
        Model[] nets = {fast, convOnly, dl4j};
        String[] names = {"product's oneDNN (conv + BatchNorm)", "conv only (the first step)", "DL4J's path"};
        for (int i = 0; i < 2; i++)
            for (Model n : nets) fit(n, data.get(i));
        double[] t = new double[3], cpu = new double[3];
        long[] ex = new long[3];
        PrintOut.line("native-path A/B/C: %s %s batch %d %s, %d layers on the product's oneDNN (%d convs in the conv-only net), %d rounds x %.0f s each side, 2 threads",
                model, in, batch, updater, installed, convs, rounds, slice);
        for (int r = 0; r < rounds; r++) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  round %d:", r + 1));
            for (int i = 0; i < 3; i++) {
                double[] s = slice(nets[i], data, batch, slice);
                t[i] += s[0];
                ex[i] += (long) s[1];
                cpu[i] += s[2];
                line.append(String.format(Locale.ROOT, " %s %.2f ex/s, %.1f CPU-ms/ex;", names[i], s[1] / s[0], 1e3 * s[2] / s[1]));
            }
            PrintOut.line("%s (load %s)", line, load());
        }
        double rf = ex[0] / t[0], rc = ex[1] / t[1], rd = ex[2] / t[2];
        // -Dsparkvision.bench.torch=false: no PyTorch twin (A/B only)
        boolean withTorch = Boolean.parseBoolean(System.getProperty("sparkvision.bench.torch", "true"));
        TorchReference.Result torch = withTorch ? TorchReference.measure(model, in, batch, classes, cores, slice * rounds, updater) : null;
        // CPU time of the whole process per example: less sensitive to other processes' load than wall time (time not
        // scheduled does not count), though cache sharing and OpenMP spin-waits still move it.
        double[] cms = new double[3];
        for (int i = 0; i < 3; i++) cms[i] = 1e3 * cpu[i] / ex[i];
        PrintOut.line("  CPU-ms per example: new %.1f, conv only %.1f, DL4J %.1f (conv only / new %.2fx, DL4J / new %.2fx)",
                cms[0], cms[1], cms[2], cms[1] / cms[0], cms[2] / cms[0]);
        PrintOut.line("  %-36s %.2f ex/s", names[0], rf);
        PrintOut.line("  %-36s %.2f ex/s   (new / conv only %.2fx)", names[1], rc, rf / rc);
        PrintOut.line("  %-36s %.2f ex/s   (new / DL4J %.2fx, conv only / DL4J %.2fx)", names[2], rd, rf / rd, rc / rd);
        if (torch == null) PrintOut.line("  PyTorch: not run (-Dsparkvision.bench.torch=false)");
        else if (torch.measured()) PrintOut.line("  PyTorch (2 threads)    %.2f ex/s   (new / PyTorch %.2fx, DL4J / PyTorch %.2fx)",
                torch.examplesPerSecond(), rf / torch.examplesPerSecond(), rd / torch.examplesPerSecond());
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
