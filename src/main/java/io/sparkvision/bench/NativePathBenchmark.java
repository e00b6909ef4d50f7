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
 * The product's own oneDNN path against DL4J's, single JVM, 2 threads, in one run: two networks of the same model and
 * seed, one with the path installed and one with DL4J's helpers, trained in alternating slices (so machine load hits
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
        Model dl4j = arch.build(in, classes, 1, TrainBenchmark.updater(updater), 0);
        NativePath.uninstall(dl4j);
        NativePath.installAlways(fast);
        int installed = NativePath.installed(fast);
        if (NativePath.installed(dl4j) != 0) throw new IllegalStateException("DL4J's side still has the product's helper");
        for (int i = 0; i < 2; i++) {
            fit(fast, data.get(i));
            fit(dl4j, data.get(i));
        }
        double tf = 0, td = 0;
        long nf = 0, nd = 0;
        PrintOut.line("native-path A/B: %s %s batch %d %s, %d conv layers on the product's oneDNN, %d rounds x %.0f s each side, 2 threads",
                model, in, batch, updater, installed, rounds, slice);
        for (int r = 0; r < rounds; r++) {
            double[] f = slice(fast, data, batch, slice), d = slice(dl4j, data, batch, slice);
            tf += f[0];
            nf += (long) f[1];
            td += d[0];
            nd += (long) d[1];
            PrintOut.line("  round %d: product's oneDNN %.2f ex/s, DL4J's path %.2f ex/s (load %s)", r + 1, f[1] / f[0], d[1] / d[0], load());
        }
        double rf = nf / tf, rd = nd / td;
        TorchReference.Result torch = TorchReference.measure(model, in, batch, classes, cores, slice * rounds, updater);
        PrintOut.line("  product's oneDNN path  %.2f ex/s", rf);
        PrintOut.line("  DL4J's path            %.2f ex/s   (native / DL4J %.2fx)", rd, rf / rd);
        if (torch.measured()) PrintOut.line("  PyTorch (2 threads)    %.2f ex/s   (native / PyTorch %.2fx, DL4J / PyTorch %.2fx)",
                torch.examplesPerSecond(), rf / torch.examplesPerSecond(), rd / torch.examplesPerSecond());
        else PrintOut.line("  PyTorch: %s", torch.note());
        PrintOut.line("  load at end: %s", load());
    }

    private static double[] slice(Model net, List<DataSet> data, int batch, double seconds) {
        long t0 = System.nanoTime();
        long n = 0;
        for (int i = 0; (System.nanoTime() - t0) / 1e9 < seconds; i++) {
            fit(net, data.get(i % data.size()));
            n += batch;
        }
        return new double[] {(System.nanoTime() - t0) / 1e9, n};
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
