package io.sparkvision.data;

import io.sparkvision.TestSpark;
import io.sparkvision.augment.AugmentSettings;
import io.sparkvision.image.Crops;
import io.sparkvision.image.ImagePreparation;
import io.sparkvision.image.ImagePreparer;
import io.sparkvision.image.InputShape;
import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.ingest.ImageIngest;
import io.sparkvision.ingest.IngestSettings;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The training cache holds uint8 at a spilling level; the model's input is a crop of the stored image: random to
 * train (identical on a rerun), the centre to evaluate, and that centre is what the score job's preparation gives.
 */
class TrainingCacheTest {
    static final int STORED = 32, INPUT = 24;
    static final InputShape IN = new InputShape(3, INPUT, INPUT);
    @TempDir
    static Path work;
    static JavaSparkContext sc;
    static DatasetDescriptor d;
    static String root;

    /** The default layout: Parquet shards of raw uint8 rows. */
    @BeforeAll
    static void ingest() throws Exception {
        sc = TestSpark.local(2);
        root = work.resolve("data").toString();
        d = ImageIngest.run(sc, "image-folder", TestSpark.basedir().resolve("src/test/resources/emoji-tiny").toString(),
                root, IngestSettings.defaults(STORED, 3), "", 2, new PrintStream(new ByteArrayOutputStream())).descriptor();
        assertTrue(d.sharded(), "the default layout is Parquet shards");
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    /** Each example's features, in batch order. */
    static List<float[]> examples(List<DataSet> batches) {
        List<float[]> out = new ArrayList<>();
        for (DataSet b : batches) {
            float[] f = b.getFeatures().dup('c').data().asFloat();
            int per = f.length / b.numExamples();
            for (int i = 0; i < b.numExamples(); i++) out.add(Arrays.copyOfRange(f, i * per, (i + 1) * per));
        }
        return out;
    }

    /**
     * Every stored image of the dataset, read from its shard rows (raw uint8, channel-major) and written as a PNG
     * (lossless), so the score job's preparation can be applied to exactly the stored pixels.
     */
    static List<byte[]> storedPngs() throws Exception {
        List<byte[]> out = new ArrayList<>();
        for (Row r : SparkSession.builder().sparkContext(sc.sc()).getOrCreate().read().parquet(root + "/images")
                .select("image", "channels", "height", "width").collectAsList()) {
            byte[] px = (byte[]) r.get(0);
            int c = r.getInt(1), h = r.getInt(2), w = r.getInt(3);
            assertEquals(3, c);
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int i = y * w + x;
                    img.setRGB(x, y, (px[i] & 0xff) << 16 | (px[h * w + i] & 0xff) << 8 | (px[2 * h * w + i] & 0xff));
                }
            }
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            ImageIO.write(img, "png", png);
            out.add(png.toByteArray());
        }
        return out;
    }

    @Test
    void cacheHoldsUint8PixelsAtALevelThatSpillsToDisk() {
        ImageDataset train = ImageDataset.load(sc, root, d, "train", 2, 0, AugmentSettings.OFF, IN);
        try {
            assertEquals(StorageLevel.MEMORY_AND_DISK(), train.cache().getStorageLevel());
            ImageDataset.CacheUse use = train.cacheUse();
            assertEquals(use.partitions(), use.cachedPartitions(), "every block cached");
            long uint8 = 3L * STORED * STORED;
            // What Spark's block manager counts per cached image: the pixels plus a few headers; a float32 cache is 4x.
            assertTrue(use.bytesPerImage() >= uint8 && use.bytesPerImage() < uint8 * 1.25,
                    "cache bytes per image " + use.bytesPerImage() + ", uint8 pixels are " + uint8 + ", float32 would be " + 4 * uint8);
        } finally {
            train.release();
        }
    }

    @Test
    void evaluationTakesTheCentreCropTheScoreJobTakes() throws Exception {
        ImageDataset test = ImageDataset.load(sc, root, d, "train", 2, 0, AugmentSettings.OFF, IN);
        List<float[]> eval = examples(test.batches(5).collect());
        test.release();
        ImagePreparation scoring = d.preparationOrDefaults().withInputSize(INPUT);
        assertEquals(IN, scoring.shape());
        Set<Integer> expected = new HashSet<>();
        for (byte[] png : storedPngs()) expected.add(Arrays.hashCode(ImagePreparer.tensor(png, scoring, Long.MAX_VALUE, "-", d.mean(), d.std())));
        assertEquals(test.count(), eval.size());
        for (float[] x : eval) {
            assertEquals(IN.pixels(), x.length);
            assertTrue(expected.contains(Arrays.hashCode(x)), "an evaluation example is not the centre crop the score job prepares");
        }
    }

    /** Names of the threads that prepared training examples (local mode: the tasks run in this JVM). */
    static final Set<String> PREPARED_ON = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** AugmentSettings' ResNet-style recipe (random-resized crop, flip), recording the preparing thread. */
    record Recording(PixelAugmentation inner) implements PixelAugmentation {
        @Override
        public boolean enabled() {
            return inner.enabled();
        }

        @Override
        public float[] apply(float[] pixels, InputShape shape, java.util.Random rnd) {
            return inner.apply(pixels, shape, rnd);
        }

        @Override
        public float[] train(byte[] pixels, int sh, int sw, InputShape out, java.util.Random rnd) {
            PREPARED_ON.add(Thread.currentThread().getName());
            return inner.train(pixels, sh, sw, out, rnd);
        }
    }

    /** train.input-threads: a pool prepares the examples, and they are the same examples in the same order. */
    @Test
    void inputThreadsPrepareTheSameExamplesOnAPool() throws Exception {
        PixelAugmentation recipe = new Recording(new AugmentSettings(0, true, 0.08, true, 0, 0, 0, 0, 0, 2.0));
        ImageDataset one = ImageDataset.load(sc, root, d, "train", 2, 0, recipe, IN);
        ImageDataset three = ImageDataset.load(sc, root, d, "train", 2, 0, recipe, IN).withInputThreads(3);
        PREPARED_ON.clear();
        List<DataSet> a = one.epochBatches(5, 1, 4).collect();
        Set<String> taskThreads = new HashSet<>(PREPARED_ON);
        PREPARED_ON.clear();
        List<DataSet> b = three.evenEpochBatches(5, 1, 4).collect();
        List<DataSet> bAgain = three.epochBatches(5, 1, 4).collect();
        Set<String> poolThreads = new HashSet<>(PREPARED_ON);
        one.release();
        three.release();
        List<float[]> x1 = examples(a), x3 = examples(bAgain);
        assertEquals(x1.size(), x3.size());
        for (int i = 0; i < x1.size(); i++) assertArrayEquals(x1.get(i), x3.get(i), "example " + i + " with 1 and 3 input threads");
        for (int i = 0; i < a.size(); i++) assertEquals(a.get(i).getLabels(), bAgain.get(i).getLabels(), "labels of batch " + i);
        assertEquals(examples(b).size(), x1.size());
        assertTrue(taskThreads.stream().allMatch(t -> t.startsWith("Executor task launch")), "one thread: the task's own " + taskThreads);
        assertTrue(poolThreads.stream().noneMatch(t -> t.startsWith("Executor task launch")) && poolThreads.size() >= 2,
                "three threads: prepared on a pool of several threads, not the task's: " + poolThreads);
        assertThrows(IllegalArgumentException.class, () -> one.withInputThreads(0));
    }

    @Test
    void trainingTakesRandomCropsOfTheInputSizeIdenticalOnARerun() throws Exception {
        ImageDataset first = ImageDataset.load(sc, root, d, "train", 2, 0, AugmentSettings.OFF, IN);
        ImageDataset second = ImageDataset.load(sc, root, d, "train", 2, 0, AugmentSettings.OFF, IN);
        List<float[]> a = examples(first.epochBatches(11, 2, 4).collect());
        List<float[]> b = examples(second.epochBatches(11, 2, 4).collect());
        List<float[]> otherEpoch = examples(first.evenEpochBatches(11, 3, 4).collect());
        first.release();
        second.release();
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i), b.get(i), "example " + i + " on a rerun");
        assertEquals(a.size(), otherEpoch.size());
        assertFalse(Arrays.deepEquals(a.toArray(), otherEpoch.toArray()), "another epoch, other crops and order");
        // Every training example is some INPUT x INPUT window of a stored image, and not always the centre one.
        Map<Integer, int[]> windows = new java.util.HashMap<>();
        for (byte[] png : storedPngs()) {
            byte[] chw = Crops.channelMajor(ImagePreparer.stored(png, 3, STORED));
            for (int y = 0; y <= STORED - INPUT; y++) {
                for (int x = 0; x <= STORED - INPUT; x++) {
                    float[] w = Crops.box(chw, 3, STORED, STORED, x, y, INPUT, INPUT);
                    ImagePreparer.normaliseInPlace(w, 3, INPUT * INPUT, d.mean(), d.std());
                    windows.put(Arrays.hashCode(w), new int[] {x, y});
                }
            }
        }
        int centre = Crops.centreOffset(STORED, INPUT), offCentre = 0;
        for (float[] x : a) {
            int[] at = windows.get(Arrays.hashCode(x));
            assertTrue(at != null, "a training example is not a " + INPUT + "x" + INPUT + " crop of a stored image");
            if (at[0] != centre || at[1] != centre) offCentre++;
        }
        assertTrue(offCentre > a.size() / 2, offCentre + " of " + a.size() + " crops away from the centre");
    }

    @Test
    void randomResizedCropsFromTheStoredImageAreRepeatable() {
        AugmentSettings resnet = new AugmentSettings(0, true, 0.08, true, 0, 0, 0, 0, 0, 2.0);
        ImageDataset first = ImageDataset.load(sc, root, d, "train", 2, 0, resnet, IN);
        ImageDataset second = ImageDataset.load(sc, root, d, "train", 2, 0, resnet, IN);
        List<DataSet> batches = first.epochBatches(5, 0, 8).collect();
        assertArrayEquals(new long[] {8, 3, INPUT, INPUT}, batches.get(0).getFeatures().shape());
        List<float[]> a = examples(batches), b = examples(second.epochBatches(5, 0, 8).collect());
        for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i), b.get(i));
        assertNotEquals(Arrays.hashCode(a.get(0)), Arrays.hashCode(examples(first.epochBatches(5, 1, 8).collect()).get(0)));
        first.release();
        second.release();
    }

    @Test
    void anInputLargerThanTheStoredImagesIsRefusedNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageDataset.load(sc, root, d, "train", 2, 0, AugmentSettings.OFF, new InputShape(3, 40, 40)));
        assertTrue(e.getMessage().contains("model.input-size"), e.getMessage());
    }

    @Test
    void preparationRecordsTheInputSizeAndOldFilesReadAsBefore() {
        ImagePreparation stored = ImagePreparation.defaults(256, 3);
        ImagePreparation cropped = stored.withInputSize(224);
        assertEquals(new InputShape(3, 224, 224), cropped.shape());
        assertEquals(stored, cropped.stored());
        Map<String, Object> json = io.sparkvision.util.Json.asMap(cropped);
        assertEquals(224, ((Number) json.get("inputSize")).intValue());
        assertEquals(cropped, ImagePreparation.recordedIn(Map.of("preparation", json), "model.json"));
        Map<String, Object> old = io.sparkvision.util.Json.asMap(stored);
        assertFalse(old.containsKey("inputSize"), "a preparation without a crop is written as before");
        assertNull(ImagePreparation.recordedIn(Map.of("preparation", old), "model.json").inputSize());
        assertEquals(new InputShape(3, 256, 256), ImagePreparation.recordedIn(Map.of("preparation", old), "model.json").shape());
    }

    /**
     * A cache of several blocks per worker (ImageNet's case: 128 MiB blocks) gives each worker one partition a
     * epoch, every image once, the same on a rerun, the batch counts the fitters are told, and even batches.
     */
    @Test
    void severalBlocksPerWorkerGiveOnePartitionPerWorkerEveryImageOnce() {
        long threeImages = 3L * IN.pixels() * 3;
        ImageDataset one = ImageDataset.load(sc, root, d, "train", 2, 0, AugmentSettings.OFF, IN);
        ImageDataset many = ImageDataset.load(sc, root, d, "train", 2, 0, AugmentSettings.OFF, IN, 3L * 3 * STORED * STORED);
        ImageDataset again = ImageDataset.load(sc, root, d, "train", 2, 0, AugmentSettings.OFF, IN, 3L * 3 * STORED * STORED);
        try {
            assertTrue(many.blocksPerWorker() > 1, "blocks per worker: " + many.blocksPerWorker() + " (" + threeImages + ")");
            assertEquals(2 * many.blocksPerWorker(), many.cache().getNumPartitions());
            assertEquals(one.count(), many.count());
            org.apache.spark.api.java.JavaRDD<DataSet> epoch = many.epochBatches(3, 1, 4);
            assertEquals(2, epoch.getNumPartitions(), "one partition per worker");
            List<DataSet> batches = epoch.collect();
            assertEquals(many.batchCount(4), batches.size());
            // Every image once: the centre crops of the epoch's images are those of the split (no augmentation here,
            // so each training example is a crop of its image; compare labels and the multiset of evaluation crops).
            List<Integer> labels = new ArrayList<>(), expectedLabels = new ArrayList<>();
            for (DataSet b : batches) for (int i = 0; i < b.numExamples(); i++) labels.add(b.getLabels().getRow(i).argMax().getInt(0));
            for (DataSet b : one.batches(7).collect()) for (int i = 0; i < b.numExamples(); i++) expectedLabels.add(b.getLabels().getRow(i).argMax().getInt(0));
            java.util.Collections.sort(labels);
            java.util.Collections.sort(expectedLabels);
            assertEquals(expectedLabels, labels);
            List<float[]> a = examples(batches), b = examples(again.epochBatches(3, 1, 4).collect());
            for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i), b.get(i), "example " + i + " on a rerun");
            List<Long> perPartition = many.evenEpochBatches(3, 1, 4).mapPartitions(it -> {
                long n = 0;
                for (; it.hasNext(); it.next()) n++;
                return List.of(n).iterator();
            }).collect();
            assertEquals(List.of((long) many.batchesPerPartition(4), (long) many.batchesPerPartition(4)), perPartition);
        } finally {
            one.release();
            many.release();
            again.release();
        }
    }
}
