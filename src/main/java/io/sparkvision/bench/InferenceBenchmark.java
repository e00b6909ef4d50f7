package io.sparkvision.bench;

import io.sparkvision.image.InputShape;
import io.sparkvision.model.Architecture;
import io.sparkvision.model.Architectures;
import io.sparkvision.model.Models;
import io.sparkvision.model.onednn.NativePath;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * Forward-only throughput (inference: no gradients, DL4J's {@code output(..., train=false)} as the score and evaluate
 * jobs call it through {@link Models#output}, the product's native path as those jobs install it) against PyTorch's
 * {@code model.eval()} under {@code torch.no_grad()} on the same model, input, batch and threads, in one run. The two
 * sides run in alternating slices ({@code rounds}) so that load on a shared machine hits both alike; each side also
 * reports its process's CPU time per example, which moves less with the load than the wall clock.
 */
public final class InferenceBenchmark {
    /** What to measure. */
    public record Settings(String model, InputShape input, int batch, int threads, double seconds, int rounds, boolean torch) {
    }

    /** Both sides' rates; {@code torch} NaN where PyTorch was not measured. */
    public record Result(double productExamplesPerSecond, double productCpuMsPerExample, double torchExamplesPerSecond,
                         double torchCpuMsPerExample, int nativeLayers, String torchNote) {
        public double ratio() {
            return productExamplesPerSecond / torchExamplesPerSecond;
        }
    }

    private static final int CLASSES = 10;
    private final Settings s;
    private final PrintStream out;

    public InferenceBenchmark(Settings settings, PrintStream out) {
        this.s = settings;
        this.out = out;
    }

    public Result run() {
        Architecture arch = Architectures.get(s.model());
        Model model = arch.build(s.input(), CLASSES, 1, new Sgd(0.1), 0); // installs the native path as the jobs do
        int nativeLayers = NativePath.installed(model);
        out.printf(Locale.ROOT, "bench infer: %s on %s, batch %d, %d threads, %d x %.0f s per side; product's native path on %d layers%s%n",
                s.model(), s.input(), s.batch(), s.threads(), s.rounds(), s.seconds(), nativeLayers,
                NativePath.enabled() ? "" : " (switched off: -D" + NativePath.PROPERTY + "=false)");
        TrainBenchmark.threads(s.threads());
        INDArray x = Nd4j.rand(DataType.FLOAT, s.batch(), s.input().channels(), s.input().height(), s.input().width());
        for (int i = 0; i < 2; i++) Models.output(model, x); // warm-up: primitives, workspaces, JIT

        var bean = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long examples = 0, nanos = 0, cpuNanos = 0;
        double torchExamples = 0, torchSeconds = 0, torchCpu = 0;
        String note = s.torch() ? "" : "not measured: --no-torch";
        for (int r = 0; r < s.rounds(); r++) {
            long t0 = System.nanoTime(), c0 = bean.getProcessCpuTime(), n = 0;
            do {
                Models.output(model, x);
                n += s.batch();
            } while (System.nanoTime() - t0 < s.seconds() * 1e9);
            long dt = System.nanoTime() - t0, dc = bean.getProcessCpuTime() - c0;
            examples += n;
            nanos += dt;
            cpuNanos += dc;
            String line = String.format(Locale.ROOT, "  round %d: product %.2f ex/s (%.1f CPU-ms/ex)", r + 1, n / (dt / 1e9), dc / 1e6 / n);
            if (s.torch() && note.isEmpty()) {
                TorchReference.Result t = TorchReference.measureInference(s.model(), s.input(), s.batch(), CLASSES, s.threads(), s.seconds());
                if (t.measured()) {
                    double secs = s.seconds(); // the script runs at least this long; weight the rounds by it, as ours
                    torchExamples += t.examplesPerSecond() * secs;
                    torchSeconds += secs;
                    torchCpu += t.cpuSecondsPerExample() * t.examplesPerSecond() * secs;
                    line += String.format(Locale.ROOT, ", PyTorch %.2f ex/s (%.1f CPU-ms/ex)", t.examplesPerSecond(), t.cpuSecondsPerExample() * 1e3);
                } else {
                    note = t.note();
                }
            }
            out.println(line);
        }
        double product = examples / (nanos / 1e9), productCpu = cpuNanos / 1e6 / examples;
        double torch = torchSeconds > 0 ? torchExamples / torchSeconds : Double.NaN;
        double torchCpuMs = torchExamples > 0 ? torchCpu * 1e3 / torchExamples : Double.NaN;
        Result result = new Result(product, productCpu, torch, torchCpuMs, nativeLayers, note);
        out.printf(Locale.ROOT, "  product (DL4J output(train=false), native path on %d layers): %.2f examples/s, %.1f CPU-ms/example%n",
                nativeLayers, product, productCpu);
        if (Double.isNaN(torch)) {
            out.println("  PyTorch: " + note);
        } else {
            out.printf(Locale.ROOT, "  PyTorch 1.13 eval() + no_grad(), %d threads: %.2f examples/s, %.1f CPU-ms/example%n", s.threads(), torch, torchCpuMs);
            out.printf(Locale.ROOT, "  ratio product / PyTorch: %.2fx (CPU per example: %.2fx)%n", result.ratio(), torchCpuMs / productCpu);
        }
        return result;
    }
}
