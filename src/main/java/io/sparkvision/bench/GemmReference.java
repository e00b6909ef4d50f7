package io.sparkvision.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Locale;

/**
 * The machine's float GEMM rate measured the way a peak is measured: a large square SGEMM through ND4J's BLAS,
 * all cores, warm, best of several repetitions. A 1024² GEMM is far from peak here (≈ 50 vs ≈ 110–170 GFLOP/s),
 * so percentages against it overstate efficiency.
 */
public record GemmReference(int n, int threads, int reps, double gflops, String coreType) {

    public static GemmReference measure(int n, int reps) {
        int threads = Runtime.getRuntime().availableProcessors();
        TrainBenchmark.threads(threads);
        INDArray a = Nd4j.rand(DataType.FLOAT, n, n), b = Nd4j.rand(DataType.FLOAT, n, n);
        INDArray c = Nd4j.create(DataType.FLOAT, n, n);
        a.mmuli(b, c); // warm: BLAS thread pool, page faults of the output
        double best = 0;
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            a.mmuli(b, c);
            best = Math.max(best, 2.0 * n * n * n / ((System.nanoTime() - t0) / 1e9) / 1e9);
        }
        String core = System.getenv("OPENBLAS_CORETYPE");
        return new GemmReference(n, threads, reps, best, core == null || core.isBlank() ? "unset (OpenBLAS autodetects)" : core);
    }

    public String describe() {
        return String.format(Locale.ROOT, "SGEMM %dx%d, %d threads, best of %d warm reps: %.1f GFLOP/s (OPENBLAS_CORETYPE=%s)",
                n, n, threads, reps, gflops, coreType);
    }
}
