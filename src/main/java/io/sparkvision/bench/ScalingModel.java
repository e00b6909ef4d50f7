package io.sparkvision.bench;

import io.sparkvision.train.sizing.RoundSizing;

import java.util.ArrayList;
import java.util.List;

/**
 * A first-order model of data-parallel training on N workers with DL4J's two Spark masters, following what
 * DL4J 1.0.0-M2.1 and Spark 3.5 do (docs/scaling.md derives every term and says which are measured and which modelled).
 * A <b>worker</b> is what users size: one executor with k cores, one NIC and one DL4J worker (one model replica);
 * its compute rate is a quiet multi-thread {@code bench train} single-JVM rate (or an assumed GPU rate).
 *
 * <ul>
 *   <li>Parameter averaging (PA): one round = f minibatches of b per worker, then {@code RDD.treeAggregate} of every
 *       worker's parameters + updater state (S bytes) to the driver and a TorrentBroadcast back. Per tree level of
 *       fan-in k: the senders serialise in parallel (S·σs), the receiver takes k·S over its link and deserialises and
 *       sums them one after the other (k·S·(8/B + σr)). Broadcast: serialise once, H_N copies over the driver's link
 *       (TorrentBroadcast: each executor fetches each block from a random holder; measured by scripts/netrig)
 *       (torrent blocks spread peer to peer), deserialise on every executor in parallel. Plus a scheduling term.</li>
 *   <li>Gradient sharing (GS): every iteration each worker threshold-encodes its update into a message of m bytes
 *       (bitmap: P/16 + 5 ints; sparse: s·P + 4 ints, at most the bitmap's size, as EncodingHandler switches) and sends
 *       it up the relay tree rooted at the driver ({@code ModelParameterServer}, {@code MeshOrganizer}). PLAIN: the
 *       driver forwards each update to the N-1 others, N(N-1)·m out of its NIC; MESH: an 8-ary tree, the busiest node
 *       sends min(8, N)·(N-1)·m. Every worker decodes and applies the N-1 updates it receives.</li>
 * </ul>
 */
public final class ScalingModel {
    /** {@code MeshOrganizer.MAX_DOWNSTREAMS} in nd4j-parameter-server-node 1.0.0-M2 (javap -constants). */
    public static final int MESH_MAX_DOWNSTREAMS = 8;

    public enum Executor { CPU, GPU }

    public enum Mesh { PLAIN, MESH }

    /**
     * Per-byte and per-value costs. Which of them are measured and which modelled is in docs/scaling.md.
     *
     * @param serializeSecondsPerByte   σs, sender side, paid once per level (the senders work in parallel)
     * @param deserializeSumSecondsPerByte σr, receiver side, paid once per received result, serially
     * @param roundBaseSeconds          fixed scheduling seconds per PA round (job + stages)
     * @param perTaskSeconds            driver seconds to schedule one task (paid serially by the driver)
     * @param cpuApplySecondsPerValue   GS: seconds to encode or decode-and-apply one value on a CPU executor
     * @param gpuApplySecondsPerValue   the same on a GPU executor
     */
    public record Costs(double serializeSecondsPerByte, double deserializeSumSecondsPerByte, double roundBaseSeconds,
                        double perTaskSeconds, double cpuApplySecondsPerValue, double gpuApplySecondsPerValue) {
        /**
         * The document's values: σ from the quiet AlexNet PA row of docs/benchmarks.md (2026-12-01, one JVM, 37.3 s outside
         * compute for 2 results + broadcast of 0.70 GB = 21.3 s/GB per result, split equally between sender and
         * receiver); scheduling and apply costs modelled (0.05 s + 2 ms per task; 1 ns per value on CPU, 0.01 ns on GPU).
         */
        public static final Costs DOC = new Costs(10.7e-9, 10.7e-9, 0.05, 0.002, 1e-9, 0.01e-9);
    }

    /**
     * @param params        P, floats of the model
     * @param updaterState  U, floats of updater state (Adam: 2P); PA moves it, GS does not
     * @param batch         b, minibatch per worker
     * @param cpuExamplesPerSecond one CPU executor's quiet rate (measured by bench train, single JVM)
     * @param gpuExamplesPerSecond one GPU executor's rate (an ASSUMPTION: no GPU ran here)
     */
    public record Inputs(String model, long params, long updaterState, int batch, double cpuExamplesPerSecond,
                         double gpuExamplesPerSecond, Costs costs) {
        public Inputs {
            if (params <= 0 || batch <= 0 || cpuExamplesPerSecond <= 0 || gpuExamplesPerSecond <= 0)
                throw new IllegalArgumentException("scaling inputs must be positive: params " + params + ", batch " + batch
                        + ", CPU ex/s " + cpuExamplesPerSecond + ", GPU ex/s " + gpuExamplesPerSecond);
        }

        /** S: bytes each PA worker ships per round (float32 parameters + updater state); the broadcast is as large. */
        public long paBytesPerWorker() {
            return 4L * (params + updaterState);
        }

        double computeSeconds(Executor e, int examples) {
            return examples / (e == Executor.CPU ? cpuExamplesPerSecond : gpuExamplesPerSecond);
        }

        double applySecondsPerValue(Executor e) {
            return e == Executor.CPU ? costs.cpuApplySecondsPerValue() : costs.gpuApplySecondsPerValue();
        }
    }

    /** A way to run: PA with an averaging frequency and tree depth, or GS with a mesh mode, encoding and sync. */
    public sealed interface Option permits Pa, Gs {
        String label();
    }

    public record Pa(int averagingFrequency, int depth) implements Option {
        public String label() {
            return "PA f=" + averagingFrequency;
        }
    }

    /** @param sparsity 0 = bitmap (the product's default), else the fraction of values a sparse message carries */
    public record Gs(Mesh mesh, double sparsity, boolean synchronous) implements Option {
        public String label() {
            return "GS " + mesh + (sparsity == 0 ? " bitmap" : " sparse") + (synchronous ? " sync" : " async");
        }
    }

    /** Throughput of N workers, the share of their time spent computing, and seconds per step (round or iteration). */
    public record Point(double examplesPerSecond, double efficiency, double stepSeconds) {
    }

    private ScalingModel() {
    }

    /**
     * Fan-in of the busiest receiver at each level of Spark 3.5's {@code RDD.treeAggregate(depth)} over N partitions,
     * the driver's level last. A shuffle level appears while n > scale + ceil(n / scale) (depth 2: from N = 6).
     */
    public static List<Integer> treeFanIns(int partitions, int depth) {
        List<Integer> fanIns = new ArrayList<>();
        int scale = Math.max((int) Math.ceil(Math.pow(partitions, 1.0 / depth)), 2);
        int n = partitions;
        while (n > scale + Math.ceil((double) n / scale)) {
            int next = n / scale;
            fanIns.add((n + next - 1) / next); // the busiest reducer's share
            n = next;
        }
        fanIns.add(RoundSizing.resultsAtDriver(partitions, depth)); // the driver's level, as the sizing counts it
        return fanIns;
    }

    /** Tasks of one treeAggregate: the N partition tasks plus every shuffle level's reducers. */
    static int treeTasks(int partitions, int depth) {
        int scale = Math.max((int) Math.ceil(Math.pow(partitions, 1.0 / depth)), 2);
        int n = partitions, tasks = partitions;
        while (n > scale + Math.ceil((double) n / scale)) {
            n /= scale;
            tasks += n;
        }
        return tasks;
    }

    static double wireSecondsPerByte(double gbit) {
        return Double.isInfinite(gbit) ? 0 : 8 / (gbit * 1e9);
    }

    public static double paRoundSeconds(Inputs in, Pa o, int workers, Executor e, double gbit) {
        Costs c = in.costs();
        double s = in.paBytesPerWorker(), wire = wireSecondsPerByte(gbit);
        double compute = in.computeSeconds(e, o.averagingFrequency() * in.batch());
        List<Integer> fanIns = treeFanIns(workers, o.depth());
        double aggregate = 0;
        for (int k : fanIns) aggregate += s * c.serializeSecondsPerByte() + k * s * c.deserializeSumSecondsPerByte();
        double broadcast = s * (c.serializeSecondsPerByte() + c.deserializeSumSecondsPerByte());
        double scheduling = c.roundBaseSeconds() + treeTasks(workers, o.depth()) * c.perTaskSeconds();
        return compute + aggregate + broadcast + paWireBytes(in, o, workers) * wire + scheduling;
    }

    /**
     * Bytes on the critical path of one PA round: every level's busiest receiver takes k results over its link, then
     * the broadcast's copies leave the driver (scripts/netrig checks these against /proc/net/dev).
     */
    public static double paWireBytes(Inputs in, Pa o, int workers) {
        double s = in.paBytesPerWorker(), bytes = broadcastDriverCopies(workers) * s;
        for (int k : treeFanIns(workers, o.depth())) bytes += k * s;
        return bytes;
    }

    /** Bytes through the driver's NIC per PA round, both directions: its level's results in, the broadcast's copies out. */
    public static double paDriverBytes(Inputs in, Pa o, int workers) {
        List<Integer> fanIns = treeFanIns(workers, o.depth());
        return (fanIns.get(fanIns.size() - 1) + broadcastDriverCopies(workers)) * (double) in.paBytesPerWorker();
    }

    /**
     * Copies of a TorrentBroadcast that leave the driver when N executors fetch it at once: every executor asks for
     * each block from a random holder (Spark shuffles the locations), and the j-th fetcher of a block finds the driver
     * among j holders, so the driver serves 1 + 1/2 + ... + 1/N = H_N copies, not one. scripts/netrig measured 1.57
     * copies at N = 2 (H_2 = 1.5) and 1.97 at N = 3 (H_3 = 1.83), 2026-12-07.
     */
    public static double broadcastDriverCopies(int workers) {
        double h = 0;
        for (int j = 1; j <= workers; j++) h += 1.0 / j;
        return h;
    }

    /** Bytes of one encoded update: EncodingHandler's bitmap is P/16 + 5 ints; sparse s·P + 4 ints, capped at the bitmap. */
    public static double gsMessageBytes(long params, double sparsity) {
        double bitmap = 4.0 * (params / 16 + 5);
        return sparsity == 0 ? bitmap : Math.min(bitmap, 4.0 * (sparsity * params + 4));
    }

    /** Bytes per iteration out of the busiest relay's NIC: PLAIN the driver, N(N-1)m; MESH min(8, N)(N-1)m. */
    public static double gsBusiestRelayBytes(Mesh mesh, int workers, double message) {
        int downstreams = mesh == Mesh.PLAIN ? workers : Math.min(MESH_MAX_DOWNSTREAMS, workers);
        return (double) downstreams * (workers - 1) * message;
    }

    /** Store-and-forward hops on the longest path between two workers: up to the driver and down again. */
    static int gsHops(Mesh mesh, int workers) {
        if (mesh == Mesh.PLAIN) return 2;
        int levels = 1;
        long reach = MESH_MAX_DOWNSTREAMS, width = MESH_MAX_DOWNSTREAMS; // nodes within `levels` of the driver
        while (reach < workers) {
            width *= MESH_MAX_DOWNSTREAMS;
            reach += width;
            levels++;
        }
        return 2 * levels;
    }

    public static double gsIterationSeconds(Inputs in, Gs o, int workers, Executor e, double gbit) {
        double wire = wireSecondsPerByte(gbit);
        double compute = in.computeSeconds(e, in.batch());
        double comm = gsWireBytes(in, o, workers) * wire;
        double valuesPerUpdate = o.sparsity() == 0 ? in.params() : Math.min(in.params(), o.sparsity() * in.params());
        double encode = in.params() * in.applySecondsPerValue(e); // thresholding scans every value
        double apply = (workers - 1) * valuesPerUpdate * in.applySecondsPerValue(e);
        return (o.synchronous() ? compute + comm : Math.max(compute, comm)) + encode + apply;
    }

    /** Bytes on the critical path of one GS iteration: the busiest relay's sends plus one message per hop. */
    public static double gsWireBytes(Inputs in, Gs o, int workers) {
        double m = gsMessageBytes(in.params(), o.sparsity());
        return gsBusiestRelayBytes(o.mesh(), workers, m) + gsHops(o.mesh(), workers) * m;
    }

    /** Bytes through the driver's NIC per GS iteration, both directions: N updates in, each relayed to its downstreams. */
    public static double gsDriverBytes(Inputs in, Gs o, int workers) {
        double m = gsMessageBytes(in.params(), o.sparsity());
        return workers * m + gsBusiestRelayBytes(o.mesh(), workers, m);
    }

    /**
     * Bytes through the driver's NIC once per GS fit (this product: one fit per epoch or per checkpoint interval): the
     * parameters and updater state broadcast out (S, one copy), and back every worker's updater state and then its
     * parameters (WorkerModels), about S per worker. Long fits amortise it; the tables leave it out.
     */
    public static double gsFitDriverBytes(Inputs in, int workers) {
        return (workers + 1) * (double) in.paBytesPerWorker();
    }

    public static Point point(Inputs in, Option o, int workers, Executor e, double gbit) {
        if (o instanceof Pa pa) {
            int examples = pa.averagingFrequency() * in.batch();
            double t = paRoundSeconds(in, pa, workers, e, gbit);
            return new Point(workers * examples / t, in.computeSeconds(e, examples) / t, t);
        }
        Gs gs = (Gs) o;
        double t = gsIterationSeconds(in, gs, workers, e, gbit);
        return new Point(workers * in.batch() / t, in.computeSeconds(e, in.batch()) / t, t);
    }

    /** The option with the highest throughput. */
    public static Option best(Inputs in, List<Option> options, int workers, Executor e, double gbit) {
        Option best = options.get(0);
        for (Option o : options)
            if (point(in, o, workers, e, gbit).examplesPerSecond() > point(in, best, workers, e, gbit).examplesPerSecond()) best = o;
        return best;
    }
}
