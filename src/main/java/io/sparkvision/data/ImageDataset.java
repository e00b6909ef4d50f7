package io.sparkvision.data;

import io.sparkvision.image.Crops;
import io.sparkvision.image.ImagePreparer;
import io.sparkvision.image.InputShape;
import io.sparkvision.image.Pixels;
import io.sparkvision.ingest.DatasetDescriptor;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.RDDInfo;
import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.dataset.DataSet;
import scala.Option;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;

/**
 * One split of an ingested dataset as a Spark RDD, decoded once into a compact training cache: 8-bit pixels at the
 * stored size ({@link CachedImage}), never float32, kept at {@link #CACHE_LEVEL} so that what does not fit the
 * executors' storage memory spills to their local disks instead of being re-read and re-decoded from the store.
 *
 * <p>Each minibatch is made on the executors from the cache: training ({@link #epochBatches}) takes a crop of the
 * model's input size (random, or random-resized by augment.*), augments, then normalises, with randomness drawn from
 * (seed, epoch, worker, position), so reruns and resumed runs see identical batches; evaluation ({@link #batches})
 * takes the centre crop and normalises. With the input at the stored size (the default), no crop is taken and the
 * batches are those of the float cache this replaced.
 *
 * <p>The cache has {@code k} partitions per worker, so that no block is larger than about {@link #BLOCK_BYTES}
 * (a block must fit an executor's storage memory whole to stay in memory); an epoch hands each worker its k blocks
 * ({@link WorkerSlices}) in an order drawn per epoch, each block's images shuffled.
 */
public final class ImageDataset {
    /**
     * MEMORY_AND_DISK, deserialised: a cached image is one byte[], which Spark sizes exactly and serialises at copy
     * speed, so the _SER level would save no memory and would copy every image once more per epoch; blocks that do not
     * fit memory go to the executors' spark.local.dir rather than back to the store (MEMORY_ONLY's behaviour).
     */
    public static final StorageLevel CACHE_LEVEL = StorageLevel.MEMORY_AND_DISK();
    /** The most uint8 bytes one cache block should hold (as Spark SQL's default file split: 128 MiB). */
    public static final long BLOCK_BYTES = 128L << 20;

    private final DatasetDescriptor descriptor;
    private final InputShape input;
    private final JavaRDD<CachedImage> cache;
    private final int workers;
    private final int perWorker;
    /** Images per worker, in worker order (the cache never changes, so neither do these). */
    private final long[] workerSizes;
    private final long count;
    private final PixelAugmentation augment;
    private int inputThreads = 1;

    private ImageDataset(DatasetDescriptor descriptor, InputShape input, JavaRDD<CachedImage> cache, int workers, int perWorker,
                         long[] workerSizes, PixelAugmentation augment) {
        this.descriptor = descriptor;
        this.input = input;
        this.cache = cache;
        this.workers = workers;
        this.perWorker = perWorker;
        this.workerSizes = workerSizes;
        this.count = Arrays.stream(workerSizes).sum();
        this.augment = augment;
    }

    /** Decodes {@code split} once, without augmentation, the model taking the whole stored image. */
    public static ImageDataset load(JavaSparkContext sc, String root, DatasetDescriptor d, String split, int partitions, int limit) {
        return load(sc, root, d, split, partitions, limit, PixelAugmentation.NONE);
    }

    public static ImageDataset load(JavaSparkContext sc, String root, DatasetDescriptor d, String split, int partitions,
                                    int limit, PixelAugmentation augment) {
        return load(sc, root, d, split, partitions, limit, augment, storedShape(d));
    }

    /**
     * Decodes {@code split} into the cache, for {@code workers} workers, the model taking {@code input}-sized crops.
     * One Spark job, which also counts each block's images.
     */
    public static ImageDataset load(JavaSparkContext sc, String root, DatasetDescriptor d, String split, int workers,
                                    int limit, PixelAugmentation augment, InputShape input) {
        return load(sc, root, d, split, workers, limit, augment, input, BLOCK_BYTES);
    }

    /** As above with cache blocks of at most {@code blockBytes} (tests use small ones to get several per worker). */
    static ImageDataset load(JavaSparkContext sc, String root, DatasetDescriptor d, String split, int workers,
                             int limit, PixelAugmentation augment, InputShape input, long blockBytes) {
        InputShape stored = storedShape(d);
        if (input.channels() != stored.channels() || input.height() > stored.height() || input.width() > stored.width()) {
            throw new IllegalArgumentException("model.input-size: the model's input " + input + " is not a crop of dataset "
                    + root + "'s stored " + stored + " images; set model.input-size at most " + Math.min(stored.height(), stored.width())
                    + " (or 0 for the stored size), or re-ingest with a larger ingest.image-size");
        }
        int perWorker = blocksPerWorker(d.count(split), limit, stored, workers, blockBytes);
        int channels = d.channels(), side = Math.max(d.height(), d.width());
        JavaRDD<CachedImage> cache = StoredSplit.read(sc, root, d, split, workers * perWorker, limit)
                .map(img -> cached(img, channels, side, input)).persist(CACHE_LEVEL);
        List<Long> sizes = cache.mapPartitions(it -> {
            long n = 0;
            for (; it.hasNext(); it.next()) n++;
            return List.of(n).iterator();
        }).collect();
        long[] perWorkerSizes = new long[workers];
        for (int j = 0; j < sizes.size(); j++) perWorkerSizes[j / perWorker] += sizes.get(j);
        return new ImageDataset(d, input, cache, workers, perWorker, perWorkerSizes, augment);
    }

    static InputShape storedShape(DatasetDescriptor d) {
        return new InputShape(d.channels(), d.height(), d.width());
    }

    /** Cache blocks per worker: enough that none holds more than {@code blockBytes}, at least one image each. */
    static int blocksPerWorker(long images, int limit, InputShape stored, int workers, long blockBytes) {
        long n = limit > 0 ? Math.min(images, limit) : images;
        long bytes = n * stored.pixels();
        long k = (bytes + workers * blockBytes - 1) / (workers * blockBytes);
        return (int) Math.max(1, Math.min(k, n / Math.max(1, workers)));
    }

    /** A stored image as the cache keeps it: raw rows as they are, encoded files decoded (8-bit, channel-major). */
    static CachedImage cached(StoredImage img, int channels, int storedSide, InputShape input) throws IOException {
        CachedImage c;
        if (img.isRaw()) {
            if (img.channels() != channels) {
                throw new IOException(img.path() + ": " + img.channels() + " channels stored, the dataset records " + channels + "; re-run ingest");
            }
            c = new CachedImage(img.bytes(), img.channels(), img.height(), img.width(), img.label());
        } else {
            Pixels p;
            try {
                p = ImagePreparer.stored(img.bytes(), channels, storedSide);
            } catch (IOException e) {
                throw new IOException(img.path() + ": " + e.getMessage(), e);
            }
            c = new CachedImage(Crops.channelMajor(p), p.channels(), p.height(), p.width(), img.label());
        }
        if (c.height() < input.height() || c.width() < input.width()) {
            throw new IOException(img.path() + ": image is " + c.width() + "x" + c.height() + ", smaller than the model's input "
                    + input.width() + "x" + input.height() + "; re-run ingest to resize it, or lower model.input-size");
        }
        return c;
    }

    public long count() {
        return count;
    }

    /** Cache blocks per worker (k): worker w reads blocks [w*k, (w+1)*k). */
    public int blocksPerWorker() {
        return perWorker;
    }

    public DatasetDescriptor descriptor() {
        return descriptor;
    }

    /** The model's input: what every minibatch holds per example. */
    public InputShape shape() {
        return input;
    }

    /** The images' stored size as the dataset records it (each image's own size is in the cache). */
    public InputShape storedShape() {
        return storedShape(descriptor);
    }

    /** The cache itself: Spark's storage info about it gives the bytes it takes ({@link #cacheUse}). */
    public JavaRDD<CachedImage> cache() {
        return cache;
    }

    /** Bytes the cache takes in the executors' memory and on their disks, as Spark's storage info reports them. */
    public record CacheUse(long images, long memoryBytes, long diskBytes, int cachedPartitions, int partitions) {
        public double bytesPerImage() {
            return images == 0 ? 0 : (memoryBytes + diskBytes) / (double) images;
        }
    }

    public CacheUse cacheUse() {
        // Spark answers from its status store, which the listener bus fills asynchronously: let it catch up with the
        // block updates of the job that filled the cache, or the answer may be "nothing cached yet".
        try {
            cache.context().listenerBus().waitUntilEmpty(10_000L);
        } catch (Exception e) {
            // Still behind after 10 s: report what it has.
        }
        for (RDDInfo info : cache.context().getRDDStorageInfo()) {
            if (info.id() == cache.id()) {
                return new CacheUse(count, info.memSize(), info.diskSize(), info.numCachedPartitions(), info.numPartitions());
            }
        }
        return new CacheUse(count, 0, 0, 0, cache.getNumPartitions());
    }

    /** Threads per training task that prepare its examples ({@code train.input-threads}); 1 = the task's own thread. */
    public ImageDataset withInputThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("train.input-threads must be at least 1, was " + threads);
        this.inputThreads = threads;
        return this;
    }

    /**
     * The minibatches of one epoch: each worker's examples in an order fixed by (seed, epoch, worker), so
     * a rerun or a resumed run sees the same batches.
     */
    public JavaRDD<DataSet> epochBatches(long seed, int epoch, int batchSize) {
        return epochBatches(seed, epoch, batchSize, 0);
    }

    /** The minibatches {@link #epochBatches} gives in all (each worker's last one may be smaller). */
    public long batchCount(int batchSize) {
        long n = 0;
        for (long size : workerSizes) n += (size + batchSize - 1) / batchSize;
        return n;
    }

    /** The most minibatches of {@code batchSize} any worker gives: what {@link #evenEpochBatches} gives each. */
    public int batchesPerPartition(int batchSize) {
        long most = 0;
        for (long n : workerSizes) most = Math.max(most, (n + batchSize - 1) / batchSize);
        return (int) most;
    }

    /**
     * The epoch's minibatches as {@link #epochBatches}, except that every worker gives the same number of them
     * ({@link #batchesPerPartition}): a smaller share's batches are a little smaller (sizes differ by at most one
     * example), no example is dropped or repeated. Gradient sharing's synchronous workers need it: a worker that
     * took one step more than the others would wait at the end of every epoch for an update nobody sends.
     */
    public JavaRDD<DataSet> evenEpochBatches(long seed, int epoch, int batchSize) {
        return epochBatches(seed, epoch, batchSize, batchesPerPartition(batchSize));
    }

    private JavaRDD<DataSet> epochBatches(long seed, int epoch, int batchSize, int batchesEach) {
        InputShape in = input;
        int classes = descriptor.classes().size(), k = perWorker;
        PixelAugmentation aug = augment;
        int threads = inputThreads;
        double[] mean = descriptor.mean(), std = descriptor.std();
        long[] sizes = workerSizes.clone();
        long[] seeds = new long[workers];
        for (int w = 0; w < workers; w++) seeds[w] = workerSeed(seed, epoch, w);
        // Each block's images shuffled (only that block in memory), block j belonging to worker j / k.
        JavaRDD<CachedImage> shuffled = cache.mapPartitionsWithIndex((j, it) -> {
            List<CachedImage> all = new ArrayList<>();
            it.forEachRemaining(all::add);
            Collections.shuffle(all, new Random(seeds[j / k] + 1_000_000_007L * (j % k)));
            return all.iterator();
        }, true);
        JavaRDD<CachedImage> perWorkerImages = k == 1 ? shuffled
                : new JavaRDD<>(shuffled.rdd().coalesce(workers, false, Option.apply(new WorkerSlices(k, seeds)), null), shuffled.classTag());
        return perWorkerImages.mapPartitionsWithIndex((w, it) -> {
            Iterator<Example> examples = TrainingExamples.of(it, seeds[w], aug, in, mean, std, threads);
            return batchesEach > 0 ? evenly(examples, sizes[w], batchesEach, in, classes) : Batches.batch(examples, batchSize, in, classes);
        }, true);
    }

    /** The seed of worker w's share in an epoch (as the float cache drew it per partition, one per worker). */
    static long workerSeed(long seed, int epoch, int worker) {
        return seed * 1_000_003L + epoch * 7919L + worker;
    }

    /** {@link Batches#batchEvenly} over a stream of {@code n} examples, holding one minibatch at a time. */
    private static Iterator<DataSet> evenly(Iterator<Example> examples, long n, int count, InputShape shape, int classes) {
        long batches = Math.min(count, n);
        return new Iterator<>() {
            private long made;

            @Override
            public boolean hasNext() {
                return made < batches && examples.hasNext();
            }

            @Override
            public DataSet next() {
                if (!hasNext()) throw new NoSuchElementException();
                long size = n / batches + (made < n % batches ? 1 : 0);
                List<Example> buf = new ArrayList<>((int) size);
                while (buf.size() < size && examples.hasNext()) buf.add(examples.next());
                made++;
                return Batches.toDataSet(buf, shape, classes);
            }
        };
    }

    /** Minibatches in a fixed order, for evaluation: the centre crop of the input size, normalised. */
    public JavaRDD<DataSet> batches(int batchSize) {
        InputShape in = input;
        int classes = descriptor.classes().size();
        double[] mean = descriptor.mean(), std = descriptor.std();
        return cache.mapPartitions(it -> Batches.batch(centred(it, in, mean, std), batchSize, in, classes));
    }

    /** A static factory, so the Spark closure does not capture this (unserialisable) dataset. */
    private static Iterator<Example> centred(Iterator<CachedImage> it, InputShape in, double[] mean, double[] std) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public Example next() {
                CachedImage img = it.next();
                float[] px = Crops.centre(img.pixels(), in.channels(), img.height(), img.width(), in.height(), in.width());
                ImagePreparer.normaliseInPlace(px, in.channels(), in.height() * in.width(), mean, std);
                return new Example(px, img.label());
            }
        };
    }

    public void release() {
        cache.unpersist(false);
    }
}
