package io.sparkvision.train;

import io.sparkvision.train.sharing.DenseEncoding;
import io.sparkvision.train.sharing.LearningRateThreshold;
import io.sparkvision.train.sharing.OneTrainingTaskPerJvm;
import io.sparkvision.config.Choices;
import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.ThresholdAlgorithm;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.residual.NoOpResidualPostProcessor;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.residual.ResidualClippingPostProcessor;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.threshold.AdaptiveThresholdAlgorithm;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.threshold.FixedThresholdAlgorithm;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.threshold.TargetSparsityThresholdAlgorithm;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;
import org.nd4j.parameterserver.distributed.v2.ModelParameterServer;
import org.nd4j.parameterserver.distributed.v2.enums.MeshBuildMode;
import org.nd4j.parameterserver.distributed.v2.transport.impl.StaticPortSupplier;

/** Builds the DL4J training master a job file asks for. */
public final class TrainingMasters {
    private TrainingMasters() {
    }

    public static TrainingMaster<?, ?> create(JobConfig c, int workers) {
        return create(c, workers, c.get(Options.TRAIN_SEED), 1);
    }

    /**
     * @param batchesPerWorker minibatches each worker fits per epoch (gradient sharing's schedule clock)
     * @param rngSeed seeds the master's own randomness (how an epoch is cut into averaging rounds); the train job
     *                derives it from the run's seed and the epoch, so a resumed run cuts epochs as an uninterrupted one.
     */
    public static TrainingMaster<?, ?> create(JobConfig c, int workers, long rngSeed, int batchesPerWorker) {
        int batch = c.get(Options.TRAIN_BATCH);
        if (!c.get(Options.TRAIN_MASTER).perEpoch()) return gradientSharing(c, workers, batch, rngSeed, batchesPerWorker);
        // The second argument is the number of examples in each DataSet of the RDD: ImageDataset.epochBatches
        // emits ready-made minibatches of batch-size-per-worker examples, so DL4J must not merge them again.
        return new EveryBatchParameterAveraging(new ParameterAveragingTrainingMaster.Builder(workers, batch)
                .batchSizePerWorker(batch)
                .averagingFrequency(c.get(Options.TRAIN_AVG_FREQ))
                .workerPrefetchNumBatches(c.get(Options.TRAIN_PREFETCH))
                // What each round ships to the driver and how many results reach it at once (see RoundSizing).
                .saveUpdater(c.get(Options.TRAIN_AVERAGE_UPDATER))
                .aggregationDepth(c.get(Options.TRAIN_AGGREGATION_DEPTH))
                // The epoch's batches are already spread evenly over one partition per worker (ImageDataset):
                // DL4J's default 'Always' would shuffle every averaging round's batches through Spark again.
                .repartionData(Repartition.NumPartitionsWorkersDiffers)
                .rddTrainingApproach(RDDTrainingApproach.Direct)
                .storageLevel(StorageLevel.MEMORY_ONLY())
                .rngSeed(rngSeed));
    }

    /**
     * Stops this JVM's gradient-sharing node (DL4J's parameter server: the Aeron transport, its media driver and
     * thread pools) while the executors are still up. Left to the JVM's shutdown hook, it ran after Spark had
     * stopped and its threads' late work was rejected by already-terminated pools.
     */
    public static void stopGradientSharing() {
        ModelParameterServer server = ModelParameterServer.getInstance();
        if (server.isInitialized()) server.shutdown();
    }

    /** The running driver's IP (DL4J needs an address, and spark.driver.host may be a name), or null. */
    static String driverAddress() {
        scala.Option<org.apache.spark.SparkContext> active = org.apache.spark.SparkContext$.MODULE$.getActive();
        if (active.isEmpty() || !active.get().conf().contains("spark.driver.host")) return null;
        try {
            return java.net.InetAddress.getByName(active.get().conf().get("spark.driver.host")).getHostAddress();
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }

    /** The threshold algorithm the run uses: "auto" is the learning-rate threshold for Adam, DL4J's adaptive otherwise. */
    static Choices.ThresholdAlgorithm thresholdChoice(JobConfig c) {
        Choices.ThresholdAlgorithm chosen = c.get(Options.GS_THRESHOLD_ALGORITHM);
        if (chosen != Choices.ThresholdAlgorithm.AUTO) return chosen;
        Choices.Updater u = c.get(Options.TRAIN_UPDATER);
        return u == Choices.Updater.ADAM || u == Choices.Updater.ADAMW ? Choices.ThresholdAlgorithm.LEARNING_RATE
                : Choices.ThresholdAlgorithm.ADAPTIVE;
    }

    /**
     * "auto" with Adam: an Adam step moves a weight by about the learning rate at most, so a threshold at the rate
     * sends each step at full size, and nothing is dropped (no residual clipping, bitmap messages): measured the
     * closest to parameter averaging (docs/design.md, Gradient sharing: what to expect).
     */
    static boolean lossless(JobConfig c) {
        return c.get(Options.GS_THRESHOLD_ALGORITHM) == Choices.ThresholdAlgorithm.AUTO
                && thresholdChoice(c) == Choices.ThresholdAlgorithm.LEARNING_RATE;
    }

    /** Whether gradient sharing's messages are all bitmaps ({@link DenseEncoding}). */
    public static boolean denseEncoding(JobConfig c) {
        return c.get(Options.GS_DENSE_ENCODING) || lossless(c) || c.get(Options.GS_MAX_STALENESS) >= 0;
    }

    static ThresholdAlgorithm thresholdAlgorithm(JobConfig c, int workers, int batchesPerWorker) {
        double threshold = c.get(Options.GS_THRESHOLD);
        switch (thresholdChoice(c)) {
            case FIXED:
                return new FixedThresholdAlgorithm(threshold);
            case ADAPTIVE:
                return new AdaptiveThresholdAlgorithm(threshold);
            case TARGET_SPARSITY:
                return new TargetSparsityThresholdAlgorithm(threshold, c.get(Options.GS_TARGET_SPARSITY),
                        TargetSparsityThresholdAlgorithm.DEFAULT_DECAY_RATE);
            default:
                return new LearningRateThreshold(new LearningRates(c, workers), c.get(Options.TRAIN_EPOCHS),
                        c.get(Options.GS_THRESHOLD_FACTOR), batchesPerWorker);
        }
    }

    /**
     * Size of the pieces an update travels the mesh in. DL4J M2's receiver (MessageSplitter.merge) allocates a buffer
     * of the whole message for every piece that arrives and keeps only the first: at its default 64 KiB an alexnet2012
     * bitmap (13.9 MiB, 223 pieces) costs each receiver ~3 GB of garbage per update, vgg16's (32 MiB, 512) ~17 GB.
     * 1 MiB cuts that 16-fold and stays within Aeron's largest message, an eighth of its term buffer (2 MiB with the
     * 16 MiB that conf/jvm-flags.properties sets; DL4J's own 32 MiB would allow 4 MiB).
     */
    static final int MESH_CHUNK_BYTES = 1 << 20;

    private static TrainingMaster<?, ?> gradientSharing(JobConfig c, int workers, int batch, long rngSeed, int batchesPerWorker) {
        VoidConfiguration.VoidConfigurationBuilder voidConf = VoidConfiguration.builder()
                .unicastPort(c.get(Options.GS_PORT))
                // Each node's own port. Without it DL4J M2 binds every node, the driver included, to its default
                // 49876 whatever unicastPort says (AeronUdpTransport takes its own port from the port supplier).
                .portSupplier(new StaticPortSupplier(c.get(Options.GS_PORT)))
                .meshBuildMode(c.get(Options.GS_MESH) == Choices.Mesh.MESH ? MeshBuildMode.MESH : MeshBuildMode.PLAIN)
                .maxChunkSize(MESH_CHUNK_BYTES);
        if (!c.get(Options.GS_NETWORK_MASK).isBlank()) voidConf.networkMask(c.get(Options.GS_NETWORK_MASK));
        String controller = c.get(Options.GS_CONTROLLER).isBlank() ? driverAddress() : c.get(Options.GS_CONTROLLER);
        if (controller != null) voidConf.controllerAddress(controller);
        double clip = c.get(Options.GS_RESIDUAL_CLIP);
        return new SharedTrainingMaster.Builder(voidConf.build(), batch)
                .thresholdAlgorithm(thresholdAlgorithm(c, workers, batchesPerWorker))
                .residualPostProcessor(clip > 0 && !lossless(c) ? new ResidualClippingPostProcessor(clip, 5) : new NoOpResidualPostProcessor())
                .batchSizePerWorker(batch)
                // Two training threads per node deadlock on the network's lock in DL4J M2: one per node.
                .workersPerNode(1)
                .workerPrefetchNumBatches(c.get(Options.TRAIN_PREFETCH))
                // One training task per JVM at a time: two at once can lose one's batches in DL4J's wrapper and hang
                // the stage. DL4J's own partitions on a cluster, one per worker in local mode (OneTrainingTaskPerJvm).
                .repartitioner(new OneTrainingTaskPerJvm())
                .rddTrainingApproach(RDDTrainingApproach.Direct)
                .storageLevel(StorageLevel.MEMORY_ONLY())
                .rngSeed(rngSeed)
                .collectTrainingStats(false)
                .build();
    }
}
