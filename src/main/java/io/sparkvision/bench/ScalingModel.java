package io.sparkvision.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A first-order model of data-parallel training throughput on N workers, for DL4J's two Spark masters, fed with
 * per-round quantities measured by {@code bench train}. See docs/scaling.md for the derivation and its check.
 *
 * <ul>
 *   <li>Parameter averaging (PA), one round = f minibatches of b examples per worker, then Spark's treeAggregate of
 *       every worker's parameters + updater state (S bytes each) and a broadcast of the result:
 *       {@code T = f·b·c + (Σ fan-in per tree level + 1) · S · (σ + 8/B) + o}, where c is compute seconds per
 *       example, σ the measured serialize + deserialize seconds per byte, B the link in bit/s and o a fixed overhead.
 *       Every hop of the tree is serial at its receiver, so the cost grows with the fan-in, not with N.</li>
 *   <li>Gradient sharing (GS), one iteration = one minibatch per worker; each worker sends a threshold-encoded
 *       update of about 4·s·P bytes (sparse format, s = fraction of parameters above the threshold) and receives
 *       every other worker's: {@code T = max(b·c, (N-1) · 4·s·P · 8/B) + e}, e the measured encode/apply cost.</li>
 * </ul>
 */
public final class ScalingModel {
    public enum Executor { CPU, GPU }

    /**
     * @param params                  P, trainable + non-trainable floats of the model
     * @param updaterState            floats of updater state (Adam: 2 per trainable parameter)
     * @param cpuSecondsPerExample    c on one CPU executor (measured: worker compute per round / examples per worker)
     * @param gpuSecondsPerExample    c on one GPU executor (an ASSUMPTION, from published throughputs)
     * @param serializeSecondsPerByte σ, measured from the PA round's time outside worker compute
     * @param gsOverheadSeconds       e, GS seconds per iteration beyond compute (measured on CPU)
     * @param gsSparsity              s, fraction of the parameters in each encoded update
     */
    public record Inputs(String model, long params, long updaterState, int batch, int averagingFrequency, int aggregationDepth,
                         double cpuSecondsPerExample, double gpuSecondsPerExample, double serializeSecondsPerByte,
                         double roundOverheadSeconds, double gsOverheadSeconds, double gsSparsity) {
        /** Bytes each PA worker ships to the driver per round (float parameters + updater state). */
        public long paBytesPerWorker() {
            return 4L * (params + updaterState);
        }

        /** Bytes of one threshold-encoded GS update: one int (index and sign) per encoded value, plus a small header. */
        public double gsBytesPerUpdate() {
            return 4.0 * gsSparsity * params + 16;
        }

        double secondsPerExample(Executor e) {
            return e == Executor.CPU ? cpuSecondsPerExample : gpuSecondsPerExample;
        }
    }

    /** Throughput of N workers and the share of their time spent computing. */
    public record Point(double examplesPerSecond, double efficiency) {
    }

    private ScalingModel() {
    }

    /**
     * How many results the busiest receiver takes at each level of Spark's {@code RDD.treeAggregate(depth)} over
     * {@code partitions} partitions, the driver's own last level included (the same loop as Spark 3.5's).
     */
    public static List<Integer> treeFanIns(int partitions, int depth) {
        List<Integer> fanIns = new ArrayList<>();
        int scale = Math.max((int) Math.ceil(Math.pow(partitions, 1.0 / depth)), 2);
        int n = partitions;
        while (n > scale + Math.ceil((double) n / scale)) {
            int next = n / scale;
            fanIns.add((n + next - 1) / next);
            n = next;
        }
        fanIns.add(n);
        return fanIns;
    }

    /** Seconds per link byte; an infinite link (one JVM, as measured here) costs nothing. */
    static double wireSecondsPerByte(double gbit) {
        return Double.isInfinite(gbit) ? 0 : 8 / (gbit * 1e9);
    }

    public static double paRoundSeconds(Inputs in, int workers, Executor e, double gbit) {
        double compute = (double) in.averagingFrequency() * in.batch() * in.secondsPerExample(e);
        int hops = treeFanIns(workers, in.aggregationDepth()).stream().mapToInt(Integer::intValue).sum() + 1; // + broadcast
        double perHop = in.paBytesPerWorker() * (in.serializeSecondsPerByte() + wireSecondsPerByte(gbit));
        return compute + hops * perHop + in.roundOverheadSeconds();
    }

    public static double gsIterationSeconds(Inputs in, int workers, Executor e, double gbit) {
        double compute = in.batch() * in.secondsPerExample(e);
        double inbound = (workers - 1) * in.gsBytesPerUpdate() * wireSecondsPerByte(gbit);
        // The encode/apply cost is measured on CPU; on a GPU it is assumed to keep the same share of compute.
        double overhead = in.gsOverheadSeconds() * (e == Executor.CPU ? 1 : in.gpuSecondsPerExample() / in.cpuSecondsPerExample());
        return Math.max(compute, inbound) + overhead;
    }

    public static Point pa(Inputs in, int workers, Executor e, double gbit) {
        double t = paRoundSeconds(in, workers, e, gbit);
        double compute = (double) in.averagingFrequency() * in.batch() * in.secondsPerExample(e);
        return new Point(workers * in.averagingFrequency() * in.batch() / t, compute / t);
    }

    public static Point gs(Inputs in, int workers, Executor e, double gbit) {
        double t = gsIterationSeconds(in, workers, e, gbit);
        return new Point(workers * in.batch() / t, in.batch() * in.secondsPerExample(e) / t);
    }

    /** One line per executor kind × network × master, one column per worker count: "examples/s (efficiency)". */
    public static void printTable(Inputs in, int[] workers, double[] gbits, PrintStream out) {
        out.printf(Locale.ROOT, "%s: P=%,d, updater state %,d floats, PA %.0f MB per worker per round, GS update %.2f MB at s=%.0e;"
                        + " b=%d, f=%d, depth %d; CPU %.3f s/example, GPU %.4f s/example (assumed); σ=%.2f s/GB, o=%.2f s, e=%.2f s%n",
                in.model(), in.params(), in.updaterState(), in.paBytesPerWorker() / 1e6, in.gsBytesPerUpdate() / 1e6, in.gsSparsity(),
                in.batch(), in.averagingFrequency(), in.aggregationDepth(), in.cpuSecondsPerExample(), in.gpuSecondsPerExample(),
                in.serializeSecondsPerByte() * 1e9, in.roundOverheadSeconds(), in.gsOverheadSeconds());
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "| %-4s | %-8s | %-6s |", "exec", "network", "master"));
        StringBuilder rule = new StringBuilder("|---|---|---|");
        for (int n : workers) {
            head.append(String.format(Locale.ROOT, " N=%d |", n));
            rule.append("---|");
        }
        out.println(head);
        out.println(rule);
        for (Executor e : Executor.values()) {
            for (double gbit : gbits) {
                for (String master : new String[] {"PA", "GS"}) {
                    StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %-4s | %-8s | %-6s |", e,
                            Double.isInfinite(gbit) ? "none" : String.format(Locale.ROOT, "%.0f Gbit", gbit), master));
                    for (int n : workers) {
                        Point p = master.equals("PA") ? pa(in, n, e, gbit) : gs(in, n, e, gbit);
                        row.append(String.format(Locale.ROOT, " %s (%s) |", rate(p.examplesPerSecond()), percent(p.efficiency())));
                    }
                    out.println(row);
                }
            }
        }
    }

    static String percent(double share) {
        return share < 0.005 ? "<1%" : String.format(Locale.ROOT, "%.0f%%", 100 * share);
    }

    static String rate(double r) {
        return r >= 100 ? String.format(Locale.ROOT, "%,.0f", r) : r >= 10 ? String.format(Locale.ROOT, "%.1f", r) : String.format(Locale.ROOT, "%.2f", r);
    }
}
