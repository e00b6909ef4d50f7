package io.sparkvision.ingest;

import io.sparkvision.Schemas;
import io.sparkvision.TestSpark;
import io.sparkvision.data.StoredImage;
import io.sparkvision.data.StoredSplit;
import io.sparkvision.image.ImagePreparation;
import io.sparkvision.image.ImagePreparer;
import io.sparkvision.util.Json;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerBlockUpdated;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Parquet layout itself: shards of at most shardRows rows written by several executor tasks, outcomes and skips
 * written as rows (no per-image list on the driver), shorter-side images with their own height and width, a changed
 * source superseding its earlier row; and the png-files layout still read, and converted with its state kept.
 */
class ShardLayoutTest {
    @TempDir
    static Path work;
    static JavaSparkContext sc;
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());
    /** Stored size 64, shorter-side: a 48x36 source becomes 85x64 (16,320 raw bytes); the rule models 4:3 (16,384): 64 rows per MiB. */
    static final IngestSettings SETTINGS = IngestSettings.defaults(64, 3).withResize(ImagePreparation.SHORTER_SIDE);

    @BeforeAll
    static void start() {
        sc = TestSpark.local(2);
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    /** 150 landscape + 50 portrait train images in two classes, 20 val, plus two files that are not images. */
    static Path source(String name) throws IOException {
        Path src = work.resolve(name);
        Random rnd = new Random(7);
        for (int i = 0; i < 220; i++) {
            boolean portrait = i % 4 == 3;
            String split = i < 200 ? "train" : "val";
            Path f = src.resolve(split + "/" + (i % 2 == 0 ? "even" : "odd") + "/img" + i + ".png");
            Files.createDirectories(f.getParent());
            ImageIO.write(noise(portrait ? 36 : 48, portrait ? 48 : 36, rnd), "png", f.toFile());
        }
        Files.writeString(src.resolve("train/even/notes.txt"), "not an image");
        Files.write(src.resolve("train/odd/empty.png"), new byte[0]);
        return src;
    }

    static BufferedImage noise(int w, int h, Random rnd) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, rnd.nextInt(1 << 24));
        return img;
    }

    @Test
    void shardsAndReportAreWrittenByTheExecutors() throws Exception {
        Path src = source("src-shards");
        String out = work.resolve("sharded").toString();
        ImageIngest.Storage storage = new ImageIngest.Storage(DatasetStorage.PARQUET, DatasetStorage.RAW, 1);
        ImageIngest.Result r = ImageIngest.run(sc, "image-folder", src.toString(), out, SETTINGS, storage, "", 0, QUIET);
        DatasetDescriptor d = r.descriptor();
        int shardRows = d.storage().shardRows();
        assertEquals(DatasetStorage.rowsPerShard(1, 3L * 64 * 64 * 4 / 3), shardRows);
        assertEquals(64, shardRows);
        assertEquals(200, d.count("train"));
        assertEquals(2, r.report().skipped());
        Schemas.assertValid("dataset-descriptor.schema.json", Schemas.read(Path.of(out, "dataset.json")), "dataset.json");
        Schemas.assertValid("ingest-report.schema.json", Schemas.read(Path.of(out, "ingest-report.json")), "ingest-report.json");
        assertEquals("shorter-side", d.preparation().resize());
        assertEquals(64, d.height(), "the descriptor's height/width is the stored (shorter-side) size");

        // Every shard holds at most shardRows rows, and the shards come from several tasks (part-<task>-...).
        List<Path> shards = parquetFiles(Path.of(out, "images/split=train"));
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        long rows = 0;
        Set<String> tasks = new TreeSet<>();
        for (Path shard : shards) {
            long n = spark.read().parquet(shard.toString()).count();
            assertTrue(n <= shardRows, shard + " holds " + n + " rows, above " + shardRows);
            rows += n;
            tasks.add(shard.getFileName().toString().substring(0, "part-00000".length()));
        }
        assertEquals(200, rows);
        assertTrue(shards.size() >= (200 + shardRows - 1) / shardRows, shards.toString());
        assertTrue(tasks.size() >= 3, "train shards written by fewer than 3 of the 4 tasks: " + tasks);

        // Outcomes and skips are rows the executors wrote (Parquet state, JSON-lines skips), not a driver-side list.
        assertEquals(222, spark.read().parquet(Path.of(out, DatasetStorage.STATE).toString()).count(), "every item's outcome");
        List<String> skipped = spark.read().json(Path.of(out, IngestReport.SKIPPED_DIR).toString())
                .select("path").as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
        assertEquals(2, skipped.size(), skipped.toString());
        assertTrue(skipped.stream().anyMatch(p -> p.endsWith("notes.txt")) && skipped.stream().anyMatch(p -> p.endsWith("empty.png")));
        assertEquals(IngestReport.SKIPPED_DIR, r.report().skippedItemsDir());

        // shorter-side keeps each image whole: raw rows carry their own height and width.
        Map<String, int[]> geometry = new HashMap<>();
        for (StoredImage img : StoredSplit.read(sc, out, d, "train", 2, 0).collect()) {
            assertTrue(img.isRaw());
            assertEquals(img.channels() * img.height() * img.width(), img.bytes().length);
            geometry.put(img.path().replaceAll("^.*/(img\\d+)-.*$", "$1"), new int[] {img.height(), img.width()});
        }
        assertArrayEquals(new int[] {64, 85}, geometry.get("img0"), "48x36 landscape -> 85x64");
        assertArrayEquals(new int[] {85, 64}, geometry.get("img3"), "36x48 portrait -> 64x85");

        // A changed source: re-ingested, its earlier row superseded, so the split still has each image once.
        Files.delete(src.resolve("train/even/img0.png"));
        ImageIO.write(noise(60, 40, new Random(1)), "png", src.resolve("train/even/img0.png").toFile());
        ImageIngest.Result again = ImageIngest.run(sc, "image-folder", src.toString(), out, SETTINGS, storage, "", 0, QUIET);
        assertEquals(1, again.report().read());
        assertNotNull(again.descriptor().storage().superseded());
        List<StoredImage> train = StoredSplit.read(sc, out, again.descriptor(), "train", 2, 0).collect();
        assertEquals(200, train.size());
        assertEquals(200, train.stream().map(StoredImage::path).distinct().count());
        StoredImage img0 = train.stream().filter(i -> i.path().contains("/img0-")).findFirst().orElseThrow();
        assertArrayEquals(new int[] {64, 96}, new int[] {img0.height(), img0.width()}, "the new 60x40 image, not the old one");
        assertFalse(d.contentHash().equals(again.descriptor().contentHash()));
    }

    /** One task writing a whole split rolls over into a new shard every shardRows rows (Spark's maxRecordsPerFile). */
    @Test
    void oneTaskRollsOverIntoANewShardEveryShardRows() throws Exception {
        Path src = source("src-rollover");
        String out = work.resolve("rollover").toString();
        ImageIngest.Storage storage = new ImageIngest.Storage(DatasetStorage.PARQUET, DatasetStorage.RAW, 1);
        DatasetDescriptor d = ImageIngest.run(sc, "image-folder", src.toString(), out, SETTINGS, storage, "", 1, QUIET).descriptor();
        int shardRows = d.storage().shardRows();
        List<Path> shards = parquetFiles(Path.of(out, "images/split=train"));
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        Set<String> tasks = new TreeSet<>();
        List<Long> sizes = new java.util.ArrayList<>();
        for (Path shard : shards) {
            sizes.add(spark.read().parquet(shard.toString()).count());
            tasks.add(shard.getFileName().toString().substring(0, "part-00000".length()));
        }
        assertEquals(1, tasks.size(), "one task wrote the split: " + shards);
        sizes.sort(java.util.Comparator.reverseOrder());
        // 200 rows at 64 per shard: three full shards and one of 8.
        assertEquals(List.of((long) shardRows, (long) shardRows, (long) shardRows, 200L - 3 * shardRows), sizes);
        assertEquals(200, StoredSplit.read(sc, out, d, "train", 2, 0).count());
    }

    /**
     * One decode pass and no decoded copy: every source item is read and decoded once (the ingest's own count, an
     * accumulator), no RDD block reaches the executors' disks, and the staged outcomes are gone afterwards. A run that
     * died leaving staged outcomes has them removed by the next run.
     */
    @Test
    void decodesEachItemOnceAndKeepsNoDecodedCopy() throws Exception {
        Path src = source("src-once");
        String out = work.resolve("once").toString();
        ImageIngest.Storage storage = new ImageIngest.Storage(DatasetStorage.PARQUET, DatasetStorage.RAW, 1);
        DecodesAndDiskBlocks watch = new DecodesAndDiskBlocks();
        sc.sc().addSparkListener(watch);
        try {
            ImageIngest.Result r = ImageIngest.run(sc, "image-folder", src.toString(), out, SETTINGS, storage, "", 0, QUIET);
            sc.sc().listenerBus().waitUntilEmpty(60_000);
            assertEquals(222, r.report().read());
            assertEquals(222, watch.decodes.get(), "220 images and 2 non-images, each read and decoded once");
            assertEquals(List.of(), watch.diskBlocks, "RDD blocks written to the executors' local disks");
            assertFalse(Files.exists(Path.of(out, OutcomeStaging.DIR)), "the staged outcomes are removed once written");
            SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
            assertEquals(222, spark.read().parquet(Path.of(out, DatasetStorage.STATE).toString()).count());
            assertEquals(200, StoredSplit.read(sc, out, r.descriptor(), "train", 2, 0).count());

            // A run that died after staging some outcomes: the next run removes them, and they are not read.
            Path dead = Path.of(out, OutcomeStaging.DIR, "run=1", OutcomeStaging.OUTCOMES, "part-00000.jsonl");
            Files.createDirectories(dead.getParent());
            Files.writeString(dead, "{\"source\":\"file:/nowhere.png\"}\n");
            ImageIO.write(noise(48, 36, new Random(5)), "png", src.resolve("train/odd/late.png").toFile());
            ImageIngest.Result more = ImageIngest.run(sc, "image-folder", src.toString(), out, SETTINGS, storage, "", 0, QUIET);
            sc.sc().listenerBus().waitUntilEmpty(60_000);
            assertEquals(1, more.report().read());
            assertEquals(223, watch.decodes.get(), "only the new image decoded");
            assertFalse(Files.exists(Path.of(out, OutcomeStaging.DIR)), "a dead run's staged outcomes are removed");
            assertEquals(201, more.descriptor().count("train"));
        } finally {
            sc.sc().removeSparkListener(watch);
        }
    }

    /**
     * A class whose only train image cannot be decoded has no train images: as before the one-pass ingest, its val
     * image is skipped with that reason (the class is not in the index) and left out of the val shards, which the
     * ingest rewrote after the pass.
     */
    @Test
    void aClassWithoutADecodableTrainImageIsSkippedInTheOtherSplits() throws Exception {
        Path src = work.resolve("src-no-train");
        Random rnd = new Random(11);
        for (String f : List.of("train/a/1.png", "train/a/2.png", "train/a/3.png", "val/a/4.png", "val/b/5.png")) {
            Files.createDirectories(src.resolve(f).getParent());
            ImageIO.write(noise(48, 36, rnd), "png", src.resolve(f).toFile());
        }
        Files.createDirectories(src.resolve("train/b"));
        Files.write(src.resolve("train/b/broken.png"), new byte[] {1, 2, 3});
        String out = work.resolve("no-train").toString();
        ImageIngest.Result r = ImageIngest.run(sc, "image-folder", src.toString(), out, SETTINGS,
                new ImageIngest.Storage(DatasetStorage.PARQUET, DatasetStorage.RAW, 1), "", 0, QUIET);
        DatasetDescriptor d = r.descriptor();
        assertEquals(List.of("a"), d.classes());
        assertEquals(3, d.count("train"));
        assertEquals(1, d.count("val"));
        Map<String, String> skips = new HashMap<>();
        for (IngestReport.Skip k : r.report().skippedItems()) skips.put(k.path().replaceAll("^.*/src-no-train/", ""), k.reason());
        assertEquals(Set.of("train/b/broken.png", "val/b/5.png"), skips.keySet());
        assertEquals("class 'b' is not in the class index (no 'train' images of it); add it there or remove the image",
                skips.get("val/b/5.png"));
        List<StoredImage> val = StoredSplit.read(sc, out, d, "val", 1, 0).collect();
        assertEquals(List.of(0), val.stream().map(StoredImage::label).collect(Collectors.toList()), "class a (id 0) only");
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        assertEquals(1, spark.read().parquet(Path.of(out, "images/split=val").toString()).count(), "the val shards hold a's image only");
        assertFalse(Files.exists(Path.of(out, OutcomeStaging.DIR)));
    }

    /** The ingest's count of decoded items and every RDD block that was put on disk. */
    static final class DecodesAndDiskBlocks extends SparkListener {
        final AtomicLong decodes = new AtomicLong();
        final List<String> diskBlocks = new CopyOnWriteArrayList<>();

        @Override
        public void onTaskEnd(SparkListenerTaskEnd end) {
            scala.collection.Iterator<AccumulableInfo> it = end.taskInfo().accumulables().iterator();
            while (it.hasNext()) {
                AccumulableInfo a = it.next();
                if (a.name().isDefined() && ShardIngest.DECODED.equals(a.name().get()) && a.update().isDefined()) {
                    decodes.addAndGet(((Number) a.update().get()).longValue());
                }
            }
        }

        @Override
        public void onBlockUpdated(SparkListenerBlockUpdated u) {
            if (u.blockUpdatedInfo().blockId().isRDD() && u.blockUpdatedInfo().diskSize() > 0) {
                diskBlocks.add(u.blockUpdatedInfo().blockId().name() + " " + u.blockUpdatedInfo().diskSize() + " bytes");
            }
        }
    }

    @Test
    void pngFilesLayoutIsStillReadAndConverts() throws Exception {
        Path src = source("src-legacy");
        String legacy = work.resolve("legacy").toString(), converted = work.resolve("converted").toString();
        IngestSettings square = IngestSettings.defaults(32, 3);
        // The earlier writer, kept as ingest.layout = png-files: one PNG per image and manifest.csv.
        DatasetDescriptor old = ImageIngest.run(sc, "image-folder", src.toString(), legacy, square, ImageIngest.Storage.PNG_FILES,
                "", 0, QUIET).descriptor();
        assertFalse(old.sharded());
        assertTrue(Files.exists(Path.of(legacy, "manifest.csv")));
        Map<String, byte[]> before = new HashMap<>();
        for (StoredImage img : StoredSplit.read(sc, legacy, old, "train", 2, 0).collect()) {
            assertFalse(img.isRaw(), "png-files images are read as the encoded files");
            before.put(img.path().substring(img.path().indexOf("/legacy/") + "/legacy/".length()), IngestTask.channelMajor(ImagePreparer.asStored(img.bytes(), 3)));
        }
        assertEquals(200, before.size());

        DatasetDescriptor d = DatasetConverter.convert(sc, legacy, converted, DatasetStorage.RAW, 128, QUIET);
        Schemas.assertValid("dataset-descriptor.schema.json", Schemas.read(Path.of(converted, "dataset.json")), "dataset.json");
        assertEquals(old.classes(), d.classes());
        assertEquals(old.splits(), d.splits());
        assertArrayEquals(old.mean(), d.mean());
        List<StoredImage> after = StoredSplit.read(sc, converted, d, "train", 2, 0).collect();
        assertEquals(200, after.size());
        for (StoredImage img : after) {
            assertTrue(img.isRaw());
            assertArrayEquals(before.get(img.path()), img.bytes(), img.path() + ": the converted pixels are the PNG's");
        }

        // The state came along: a later ingest into the converted dataset reads only what is new.
        ImageIO.write(noise(48, 36, new Random(3)), "png", src.resolve("train/odd/new.png").toFile());
        ImageIngest.Result more = ImageIngest.run(sc, "image-folder", src.toString(), converted, square,
                new ImageIngest.Storage(DatasetStorage.PARQUET, DatasetStorage.RAW, 128), "", 0, QUIET);
        assertEquals(1, more.report().read());
        assertEquals(201, more.descriptor().count("train"));
        assertEquals(201, StoredSplit.read(sc, converted, more.descriptor(), "train", 2, 0).count());
        assertEquals(old.classes(), Json.read(Files.readString(Path.of(converted, "dataset.json")), DatasetDescriptor.class).classes());
    }

    static List<Path> parquetFiles(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(p -> p.getFileName().toString().endsWith(".parquet")).sorted().collect(Collectors.toList());
        }
    }
}
