package io.sparkvision.model.onednn;

import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * The ReLU pieces' element-wise work of one ResNet-18 64x64 batch-64 step, DL4J's way against the product's, in
 * alternating rounds in one JVM (process CPU time and wall time per simulated step): 17 ReLU layers forward and
 * backward (1 at 64x32x32x64, 4 each at 64x16x16x64, 64x8x8x128, 64x4x4x256, 64x2x2x512), 8 residual adds. DL4J:
 * ActivationLayer's copy + ReLU, copy + derivative; ElementWiseVertex's copy + add. Product: one oneDNN pass each,
 * the add with its ReLU fused (its ReLU layer then passes through: no forward of its own).
 * {@code java -cp ... io.sparkvision.model.onednn.ReluPiecesMicroBench ROUNDS STEPS_PER_ROUND}
 */
public final class ReluPiecesMicroBench {
    public static void main(String[] a) {
        int rounds = Integer.parseInt(a[0]), steps = Integer.parseInt(a[1]);
        Nd4j.getEnvironment().setMaxMasterThreads(2);
        org.bytedeco.javacpp.Pointer.maxBytes(); // load
        long[][] relu = {{64, 32, 32, 64}, {64, 16, 16, 64}, {64, 16, 16, 64}, {64, 16, 16, 64}, {64, 16, 16, 64},
                {64, 8, 8, 128}, {64, 8, 8, 128}, {64, 8, 8, 128}, {64, 8, 8, 128}, {64, 4, 4, 256}, {64, 4, 4, 256},
                {64, 4, 4, 256}, {64, 4, 4, 256}, {64, 2, 2, 512}, {64, 2, 2, 512}, {64, 2, 2, 512}, {64, 2, 2, 512}};
        int[] addAt = {2, 4, 6, 8, 10, 12, 14, 16}; // the block-output ReLUs follow an add
        INDArray[] x = new INDArray[relu.length], g = new INDArray[relu.length], b = new INDArray[relu.length];
        for (int i = 0; i < relu.length; i++) {
            x[i] = Nd4j.randn(DataType.FLOAT, relu[i]);
            g[i] = Nd4j.randn(DataType.FLOAT, relu[i]);
            b[i] = Nd4j.randn(DataType.FLOAT, relu[i]);
        }
        DnnlEltwise e = new DnnlEltwise();
        ActivationReLU act = new ActivationReLU();
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        double[] cpu = new double[2], wall = new double[2];
        int[] wins = new int[2];
        for (int r = 0; r < rounds + 1; r++) {
            double[] c = new double[2];
            for (int k = 0; k < 2; k++) {
                int side = (k + r) % 2;
                long c0 = os.getProcessCpuTime(), t0 = System.nanoTime();
                for (int s = 0; s < steps; s++)
                    for (int i = 0; i < relu.length; i++) {
                        boolean add = java.util.Arrays.binarySearch(addAt, i) >= 0;
                        if (side == 0) { // DL4J
                            INDArray in = x[i];
                            if (add) {
                                in = Nd4j.createUninitialized(DataType.FLOAT, relu[i]);
                                in.assign(x[i]);
                                in.addi(b[i]);
                            }
                            INDArray y = act.getActivation(in.dup(), true);
                            INDArray d = act.backprop(in.dup(), g[i]).getFirst();
                            if (add) {
                                d.dup();
                                d.dup();
                            }
                            if (y.length() < 0) throw new AssertionError();
                        } else { // product
                            INDArray y = Nd4j.createUninitialized(DataType.FLOAT, relu[i]);
                            if (add) e.addRelu(x[i], b[i], y);
                            else e.reluForward(x[i], y);
                            INDArray d = Nd4j.createUninitialized(DataType.FLOAT, relu[i]);
                            e.reluBackward(y, g[i], d);
                            if (add) {
                                d.dup();
                                d.dup();
                            }
                        }
                    }
                c[side] = (os.getProcessCpuTime() - c0) / 1e6 / steps;
                if (r > 0) { // round 0 warms up
                    cpu[side] += c[side];
                    wall[side] += (System.nanoTime() - t0) / 1e6 / steps;
                }
            }
            if (r > 0) wins[c[1] < c[0] ? 1 : 0]++;
            System.out.printf(Locale.ROOT, "round %d: DL4J %.1f CPU-ms/step, product %.1f%n", r, c[0], c[1]);
        }
        System.out.printf(Locale.ROOT, "DL4J's way %.1f CPU-ms %.1f wall-ms per step; product's %.1f CPU-ms %.1f wall-ms; product less CPU in %d of %d rounds; load %s%n",
                cpu[0] / rounds, wall[0] / rounds, cpu[1] / rounds, wall[1] / rounds, wins[1], rounds, load());
    }

    private static String load() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
        } catch (java.io.IOException ex) {
            return "?";
        }
    }
}
