package io.sparkvision.data;

import io.sparkvision.image.ImagePreparer;
import io.sparkvision.image.InputShape;
import io.sparkvision.ingest.DatasetDescriptor;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.dataset.DataSet;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * One split of an ingested dataset as a Spark RDD of decoded examples. The manifest is the source of truth:
 * executors read and decode the files it lists; a label missing from the class index fails the load with
 * the file's path.
 *
 * <p>With augmentation on (a {@link PixelAugmentation}: the train job passes its augment.* settings), examples are
 * kept un-normalised in [0, 1];
 * {@link #epochBatches} augments then normalises each training example on the executors, with randomness drawn
 * from (seed, epoch, partition, position), so reruns see identical batches. {@link #batches} (evaluation) only
 * normalises: the ingested image is already the centre crop.
 */
public final class ImageDataset {
    private final DatasetDescriptor descriptor;
    private final JavaRDD<Example> examples;
    private final long count;
    /** Examples per partition, in partition order (the examples are cached, so these never change). */
    private final long[] partitionSizes;
    private final PixelAugmentation augment;

    private ImageDataset(DatasetDescriptor descriptor, JavaRDD<Example> examples, long[] partitionSizes, PixelAugmentation augment) {
        this.descriptor = descriptor;
        this.examples = examples;
        this.partitionSizes = partitionSizes;
        this.count = java.util.Arrays.stream(partitionSizes).sum();
        this.augment = augment;
    }

    /** Decodes {@code split} once, without augmentation, and keeps it in executor memory for the epochs to come. */
    public static ImageDataset load(JavaSparkContext sc, String root, DatasetDescriptor d, String split, int partitions, int limit) {
        return load(sc, root, d, split, partitions, limit, PixelAugmentation.NONE);
    }

    public static ImageDataset load(JavaSparkContext sc, String root, DatasetDescriptor d, String split, int partitions,
                                    int limit, PixelAugmentation augment) {
        InputShape shape = new InputShape(d.channels(), d.height(), d.width());
        // Augmented data is normalised after augmentation (colour jitter needs [0, 1] pixels), so decode raw.
        double[] mean = augment.enabled() ? new double[] {0} : d.mean();
        double[] std = augment.enabled() ? new double[] {1} : d.std();
        JavaRDD<Example> examples = StoredSplit.read(sc, root, d, split, partitions, limit).map(img -> {
                    if (img.isRaw()) throw new UnsupportedOperationException(img.path() + ": raw pixels are not read yet");
                    return new Example(ImagePreparer.prepared(img.bytes(), img.path(), shape, mean, std), img.label());
                }).persist(StorageLevel.MEMORY_ONLY());
        // One job, as count() would be, that also gives each partition's size (see evenEpochBatches).
        List<Long> sizes = examples.mapPartitions(it -> {
            long n = 0;
            for (; it.hasNext(); it.next()) n++;
            return List.of(n).iterator();
        }).collect();
        return new ImageDataset(d, examples, sizes.stream().mapToLong(Long::longValue).toArray(), augment);
    }

    public long count() {
        return count;
    }

    public DatasetDescriptor descriptor() {
        return descriptor;
    }

    public InputShape shape() {
        return new InputShape(descriptor.channels(), descriptor.height(), descriptor.width());
    }

    /**
     * The minibatches of one epoch: each partition's examples in an order fixed by (seed, epoch, partition), so
     * a rerun or a resumed run sees the same batches.
     */
    public JavaRDD<DataSet> epochBatches(long seed, int epoch, int batchSize) {
        return epochBatches(seed, epoch, batchSize, 0);
    }

    /** The minibatches {@link #epochBatches} gives in all (each partition's last one may be smaller). */
    public long batchCount(int batchSize) {
        long n = 0;
        for (long size : partitionSizes) n += (size + batchSize - 1) / batchSize;
        return n;
    }

    /** The most minibatches of {@code batchSize} any partition gives: what {@link #evenEpochBatches} gives each. */
    public int batchesPerPartition(int batchSize) {
        long most = 0;
        for (long n : partitionSizes) most = Math.max(most, (n + batchSize - 1) / batchSize);
        return (int) most;
    }

    /**
     * The epoch's minibatches as {@link #epochBatches}, except that every partition gives the same number of them
     * ({@link #batchesPerPartition}): a smaller partition's batches are a little smaller (sizes differ by at most one
     * example), no example is dropped or repeated. Gradient sharing's synchronous workers need it: a worker that
     * took one step more than the others would wait at the end of every epoch for an update nobody sends.
     */
    public JavaRDD<DataSet> evenEpochBatches(long seed, int epoch, int batchSize) {
        return epochBatches(seed, epoch, batchSize, batchesPerPartition(batchSize));
    }

    private JavaRDD<DataSet> epochBatches(long seed, int epoch, int batchSize, int batchesEach) {
        InputShape shape = shape();
        int classes = descriptor.classes().size();
        PixelAugmentation aug = augment;
        double[] mean = descriptor.mean(), std = descriptor.std();
        return examples.mapPartitionsWithIndex((idx, it) -> {
            List<Example> all = new ArrayList<>();
            it.forEachRemaining(all::add);
            long partSeed = seed * 1_000_003L + epoch * 7919L + idx;
            Collections.shuffle(all, new Random(partSeed));
            if (aug.enabled()) {
                for (int i = 0; i < all.size(); i++) {
                    // One generator per example: the result does not depend on how examples are batched.
                    Random rnd = new Random(partSeed * 31L + i);
                    Example e = all.get(i);
                    float[] px = aug.apply(e.pixels(), shape, rnd);
                    all.set(i, new Example(normalise(px, shape, mean, std), e.label()));
                }
            }
            return batchesEach > 0 ? Batches.batchEvenly(all, batchesEach, shape, classes)
                    : Batches.batch(all.iterator(), batchSize, shape, classes);
        }, true);
    }

    /** A static factory, so the Spark closure does not capture this (unserialisable) dataset. */
    private static java.util.Iterator<Example> normalising(java.util.Iterator<Example> it, InputShape shape, double[] mean, double[] std) {
        return new java.util.Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public Example next() {
                Example e = it.next();
                return new Example(normalise(e.pixels(), shape, mean, std), e.label());
            }
        };
    }

    static float[] normalise(float[] px, InputShape shape, double[] mean, double[] std) {
        float[] out = px.clone();
        ImagePreparer.normaliseInPlace(out, shape.channels(), shape.height() * shape.width(), mean, std);
        return out;
    }

    /** Minibatches in a fixed order, for evaluation. */
    public JavaRDD<DataSet> batches(int batchSize) {
        InputShape shape = shape();
        int classes = descriptor.classes().size();
        if (augment.enabled()) {
            double[] mean = descriptor.mean(), std = descriptor.std();
            return examples.mapPartitions(it -> Batches.batch(normalising(it, shape, mean, std), batchSize, shape, classes));
        }
        return examples.mapPartitions(it -> Batches.batch(it, batchSize, shape, classes));
    }

    public void release() {
        examples.unpersist(false);
    }
}
