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
 *       sends min(8, N)·(N-1)·m. Every worker decodes and applies the N-1 updates it receives.
 *       And what SharedTrainingMaster does around the mesh (read from its source, measured by scripts/netrig's event
 *       logs): its DefaultRepartitioner makes one partition per minibatch, so every iteration of every worker is one
 *       Spark task whose result carries the worker's whole updater state (4·U bytes); the fit sums those results with
 *       {@code treeAggregate(depth 4)}, whose shuffle moves about 4·U per iteration out of every worker, to the others.</li>
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
                         double gpuExamplesPerSecond, Costs costs, long examplesPerFit) {
        /** ImageNet-1k's training set: the product's gradient sharing fits once per epoch. */
        public static final long IMAGENET_EPOCH = 1_281_167;

        public Inputs {
            if (params <= 0 || batch <= 0 || cpuExamplesPerSecond <= 0 || gpuExamplesPerSecond <= 0 || examplesPerFit <= 0)
                throw new IllegalArgumentException("scaling inputs must be positive: params " + params + ", batch " + batch
                        + ", CPU ex/s " + cpuExamplesPerSecond + ", GPU ex/s " + gpuExamplesPerSecond + ", examples per fit " + examplesPerFit);
        }

        /** One GS fit per ImageNet epoch. */
        public Inputs(String model, long params, long updaterState, int batch, double cpuExamplesPerSecond,
                      double gpuExamplesPerSecond, Costs costs) {
            this(model, params, updaterState, batch, cpuExamplesPerSecond, gpuExamplesPerSecond, costs, IMAGENET_EPOCH);
        }

        public Inputs withExamplesPerFit(long examples) {
            return new Inputs(model, params, updaterState, batch, cpuExamplesPerSecond, gpuExamplesPerSecond, costs, examples);
        }

        /** 4·U: the updater state every GS task returns (SharedTrainingResult.updaterStateArray). */
        public double gsTaskResultBytes() {
            return 4.0 * updaterState;
        }

        /** I: minibatches (= Spark tasks) each of N workers runs per GS fit. */
        public long gsIterationsPerFit(int workers) {
            return Math.max(1, (long) Math.ceil((double) examplesPerFit / ((long) workers * batch)));
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

    /** {@code SharedTrainingMaster.processResults}: {@code results.treeAggregate(null, ..., 4)}. */
    public static final int GS_RESULT_DEPTH = 4;

    /**
     * Spark 3.5's {@code treeAggregate} shuffle levels over {@code partitions}: per level {results in, reducers out};
     * the results left after the last level go to the driver.
     */
    static List<long[]> treeLevels(long partitions, int depth) {
        List<long[]> levels = new ArrayList<>();
        long scale = Math.max((long) Math.ceil(Math.pow(partitions, 1.0 / depth)), 2);
        long n = partitions;
        while (n > scale + Math.ceil((double) n / scale)) {
            long next = n / scale;
            levels.add(new long[] {n, next});
            n = next;
        }
        return levels;
    }

    /** Results the driver receives at the end of a GS fit's treeAggregate (the last level's reducers). */
    static long gsResultsAtDriver(long tasks) {
        List<long[]> levels = treeLevels(tasks, GS_RESULT_DEPTH);
        return levels.isEmpty() ? tasks : levels.get(levels.size() - 1)[1];
    }

    public static double gsIterationSeconds(Inputs in, Gs o, int workers, Executor e, double gbit) {
        double wire = wireSecondsPerByte(gbit);
        double compute = in.computeSeconds(e, in.batch());
        double comm = gsRelayWireBytes(in, o, workers) * wire;
        double valuesPerUpdate = o.sparsity() == 0 ? in.params() : Math.min(in.params(), o.sparsity() * in.params());
        double encode = in.params() * in.applySecondsPerValue(e); // thresholding scans every value
        double apply = (workers - 1) * valuesPerUpdate * in.applySecondsPerValue(e);
        double step = (o.synchronous() ? compute + comm : Math.max(compute, comm)) + encode + apply;
        return step + gsSparkSecondsPerIteration(in, workers, gbit);
    }

    /**
     * What SharedTrainingMaster's Spark side adds to each iteration (it does not overlap the mesh): every iteration is
     * a task (the driver schedules N per iteration, serially) that serialises its result, the updater state, into the
     * shuffle; at the end of the fit treeAggregate's levels fetch, deserialise and sum them on the executors (spread
     * over the N, a level's work is its results / N, at least one reducer's fan-in), the last level's results cross
     * the driver's link, and after the fit this product brings every worker's parameters to the driver one executor
     * at a time (WorkerModels): the per-fit part is spread over the fit's I iterations. The fit's broadcast of the
     * network is fetched once per run (SharedTrainingWrapper builds its network on an executor's first task only).
     */
    static double gsSparkSecondsPerIteration(Inputs in, int workers, double gbit) {
        Costs c = in.costs();
        double wire = wireSecondsPerByte(gbit), r = in.gsTaskResultBytes();
        long iterations = in.gsIterationsPerFit(workers), tasks = iterations * workers;
        double remote = (workers - 1) / (double) workers;
        double perFit = 0;
        for (long[] level : treeLevels(tasks, GS_RESULT_DEPTH)) {
            double fanIn = Math.ceil((double) level[0] / level[1]);
            double perExecutor = Math.max((double) level[0] / workers, fanIn);
            perFit += perExecutor * r * (c.deserializeSumSecondsPerByte() + remote * wire)
                    + Math.max(1, level[1] / (double) workers) * r * c.serializeSecondsPerByte();
        }
        perFit += gsResultsAtDriver(tasks) * r * (wire + c.deserializeSumSecondsPerByte());
        perFit += workers * 4.0 * in.params() * (c.serializeSecondsPerByte() + wire + c.deserializeSumSecondsPerByte());
        perFit += c.roundBaseSeconds();
        return r * c.serializeSecondsPerByte() + workers * c.perTaskSeconds() + perFit / iterations;
    }

    /** Bytes on the critical path of one GS iteration's relay: the busiest relay's sends plus one message per hop. */
    public static double gsRelayWireBytes(Inputs in, Gs o, int workers) {
        double m = gsMessageBytes(in.params(), o.sparsity());
        return gsBusiestRelayBytes(o.mesh(), workers, m) + gsHops(o.mesh(), workers) * m;
    }

    /**
     * Bytes on the critical path of one GS iteration, every phase over its own link one after the other (the rig's
     * links all run at one rate): the relay (driver's link), the treeAggregate shuffle a worker serves and fetches
     * (its own link; full duplex, counted once), and the per-fit traffic through the driver's link spread over the fit.
     */
    public static double gsWireBytes(Inputs in, Gs o, int workers) {
        return gsRelayWireBytes(in, o, workers) + gsShuffleBytesPerWorker(in, workers)
                + gsFitDriverBytes(in, workers) / in.gsIterationsPerFit(workers);
    }

    /**
     * Bytes one worker sends to the other workers per iteration through treeAggregate's shuffle: each level's results
     * are spread over the N executors and (N-1)/N of every reducer's input lies on another executor. Uncompressed:
     * Spark's shuffle compresses it with lz4 (the mlp's Adam state, where unused input pixels leave zeros, to 0.79).
     */
    public static double gsShuffleBytesPerWorker(Inputs in, int workers) {
        long iterations = in.gsIterationsPerFit(workers), tasks = iterations * workers;
        double results = 0;
        for (long[] level : treeLevels(tasks, GS_RESULT_DEPTH)) results += level[0];
        return results / workers * (workers - 1) / workers * in.gsTaskResultBytes() / iterations;
    }

    /** Bytes of the treeAggregate's last level, into the driver once per fit: that many updater states. */
    public static double gsAggregateDriverBytes(Inputs in, int workers) {
        return gsResultsAtDriver(in.gsIterationsPerFit(workers) * workers) * in.gsTaskResultBytes();
    }

    /**
     * Bytes through the driver's NIC once per GS fit (this product: one fit per epoch or per checkpoint interval): the
     * last treeAggregate level's results (updater states) and, after the fit, every worker's parameters (WorkerModels,
     * one executor at a time).
     */
    public static double gsFitDriverBytes(Inputs in, int workers) {
        return gsAggregateDriverBytes(in, workers) + workers * 4.0 * in.params();
    }

    /** Bytes through the driver's NIC per GS iteration, both directions: N updates in, the relay out, the per-fit traffic. */
    public static double gsDriverBytes(Inputs in, Gs o, int workers) {
        double m = gsMessageBytes(in.params(), o.sparsity());
        return workers * m + gsBusiestRelayBytes(o.mesh(), workers, m) + gsFitDriverBytes(in, workers) / in.gsIterationsPerFit(workers);
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
