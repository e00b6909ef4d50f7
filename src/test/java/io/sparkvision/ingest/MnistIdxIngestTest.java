package io.sparkvision.ingest;

import io.sparkvision.Schemas;
import io.sparkvision.SparkActivity;
import io.sparkvision.TestSpark;
import io.sparkvision.data.Datasets;
import io.sparkvision.data.ImageDataset;
import io.sparkvision.data.StoredImage;
import io.sparkvision.data.StoredSplit;
import io.sparkvision.image.ImagePreparer;
import io.sparkvision.image.InputShape;
import io.sparkvision.config.JobConfig;
import io.sparkvision.jobs.IngestJob;
import io.sparkvision.util.Hashing;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MnistIdxIngestTest {
    static JavaSparkContext sc;
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    @BeforeAll
    static void start() {
        sc = TestSpark.local(2);
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    static final ImageIngest.Storage PNG_FILES = ImageIngest.Storage.PNG_FILES;

    static MnistIdxIngest.Result pngFiles(String src, Path out, int partitions) throws IOException {
        return MnistIdxIngest.run(sc, src, out.toString(), partitions, PNG_FILES, List.of(), QUIET);
    }

    @Test
    void pngFilesLayoutWritesEveryImageOnceWithManifestAndDescriptor(@TempDir Path out) throws IOException {
        MnistIdxIngest.Result r = pngFiles(TestSpark.mnistTiny(), out, 5);
        DatasetDescriptor d = r.descriptor();
        assertEquals(1200, r.written());
        assertEquals(1000L, d.splits().get("train"));
        assertEquals(200L, d.splits().get("test"));
        assertEquals(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), d.classes());
        assertEquals(1000L, d.classCounts().get("train").values().stream().mapToLong(Long::longValue).sum());

        List<String> manifest = Files.readAllLines(out.resolve("manifest.csv"));
        assertEquals("path,label,split", manifest.get(0));
        assertEquals(1201, manifest.size());
        assertEquals(1200, manifest.stream().skip(1).distinct().count());
        for (String row : manifest.subList(1, manifest.size())) {
            String[] f = row.split(",");
            assertTrue(Files.isRegularFile(out.resolve(f[0])), row);
            assertTrue(f[0].startsWith(f[2] + "/" + f[1] + "/"), row);
        }
        // MNIST's normalisation statistics are well known: mean 0.1307, std 0.3081 over the full training set.
        assertEquals(0.13, d.mean()[0], 0.01);
        assertEquals(0.31, d.std()[0], 0.01);
        assertTrue(d.contentHash().startsWith("sha256:"));
    }

    @Test
    void pngPixelsAreTheIdxBytes(@TempDir Path out) throws IOException {
        pngFiles(TestSpark.mnistTiny(), out, 3);
        byte[] idx = Files.readAllBytes(Paths.get(TestSpark.mnistTiny(), "train-images-idx3-ubyte"));
        byte[] labels = Files.readAllBytes(Paths.get(TestSpark.mnistTiny(), "train-labels-idx1-ubyte"));
        int item = 7;
        Path png = out.resolve(String.format("train/%d/%05d.png", labels[8 + item], item));
        float[] px = ImagePreparer.prepared(Files.readAllBytes(png), png.toString(), new InputShape(1, 28, 28), new double[] {0}, new double[] {1});
        for (int i = 0; i < 784; i++) assertEquals((idx[16 + item * 784 + i] & 0xff) / 255f, px[i], 1e-6f);
    }

    @Test
    void pngFilesRerunOnTheSameSourceIsANoOp(@TempDir Path out) throws IOException {
        MnistIdxIngest.Result first = pngFiles(TestSpark.mnistTiny(), out, 2);
        byte[] manifest = Files.readAllBytes(out.resolve("manifest.csv"));
        MnistIdxIngest.Result second = pngFiles(TestSpark.mnistTiny(), out, 2);
        assertFalse(first.skippedUnchanged());
        assertTrue(second.skippedUnchanged());
        assertEquals(0, second.written());
        assertEquals(first.descriptor().contentHash(), second.descriptor().contentHash());
        assertEquals(new String(manifest), Files.readString(out.resolve("manifest.csv")));
    }

    @Test
    void aMissingFileIsNamedBeforeAnySparkWork(@TempDir Path src) throws IOException {
        copyFixture(src);
        Files.delete(src.resolve("t10k-labels-idx1-ubyte"));
        try (SparkActivity jobs = SparkActivity.watchJobs(sc)) {
            String m = assertThrows(IllegalArgumentException.class,
                    () -> MnistIdxIngest.run(sc, src.toString(), src.resolve("out").toString(), 2, QUIET)).getMessage();
            assertTrue(m.contains("t10k-labels-idx1-ubyte"), m);
            assertFalse(Files.exists(src.resolve("out")));
            assertEquals(0, jobs.jobsStarted(), "named before any Spark job");
        }
    }

    @Test
    void aTruncatedImageFileIsRejectedWithItsPath(@TempDir Path src) throws IOException {
        copyFixture(src);
        try (RandomAccessFile f = new RandomAccessFile(src.resolve("train-images-idx3-ubyte").toFile(), "rw")) {
            f.setLength(f.length() - 100);
        }
        String m = assertThrows(IllegalArgumentException.class,
                () -> MnistIdxIngest.run(sc, src.toString(), src.resolve("out").toString(), 2, QUIET)).getMessage();
        assertTrue(m.contains("train-images-idx3-ubyte") && m.contains("truncated"), m);
    }

    @Test
    void aGzippedFileIsRecognised(@TempDir Path src) throws IOException {
        copyFixture(src);
        Files.write(src.resolve("train-labels-idx1-ubyte"), new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 0});
        String m = assertThrows(IOException.class,
                () -> MnistIdxIngest.run(sc, src.toString(), src.resolve("out").toString(), 2, QUIET)).getMessage();
        assertTrue(m.contains("train-labels-idx1-ubyte") && m.contains("gzipped"), m);
    }

    @Test
    void countsThatDisagreeAreRejected(@TempDir Path src) throws IOException {
        copyFixture(src);
        byte[] labels = Files.readAllBytes(src.resolve("t10k-labels-idx1-ubyte"));
        Files.write(src.resolve("t10k-labels-idx1-ubyte"), java.util.Arrays.copyOf(labels, labels.length - 1));
        labels = Files.readAllBytes(src.resolve("t10k-labels-idx1-ubyte"));
        labels[7] = (byte) 199; // header now says 199 labels for 200 images
        Files.write(src.resolve("t10k-labels-idx1-ubyte"), labels);
        String m = assertThrows(IllegalArgumentException.class,
                () -> MnistIdxIngest.run(sc, src.toString(), src.resolve("out").toString(), 2, QUIET)).getMessage();
        assertTrue(m.contains("200 images but") && m.contains("199 labels"), m);
    }

    @Test
    void gzippedFilesAsDistributedGiveTheSameDataset(@TempDir Path src) throws IOException {
        copyFixture(src);
        // All four gzipped, as MNIST and Fashion-MNIST are downloaded (plus one plain file next to its .gz twin).
        for (String f : ALL) gzip(src.resolve(f), src.resolve(f + ".gz"));
        for (String f : ALL) if (!f.equals("t10k-labels-idx1-ubyte")) Files.delete(src.resolve(f));
        MnistIdxIngest.Result plain = pngFiles(TestSpark.mnistTiny(), src.resolve("plain"), 3);
        MnistIdxIngest.Result gz = pngFiles(src.toString(), src.resolve("gz"), 3);
        assertEquals(1200, gz.written());
        assertEquals(plain.descriptor().contentHash(), gz.descriptor().contentHash(), "hash of the IDX content, not of its packing");
        assertEquals(Files.readString(src.resolve("plain/manifest.csv")), Files.readString(src.resolve("gz/manifest.csv")));
        // Every slice read its own range of the decompressed stream: the PNGs are byte-identical.
        for (String row : Files.readAllLines(src.resolve("plain/manifest.csv")).subList(1, 1201)) {
            String rel = row.split(",")[0];
            assertEquals(java.util.Arrays.hashCode(Files.readAllBytes(src.resolve("plain").resolve(rel))),
                    java.util.Arrays.hashCode(Files.readAllBytes(src.resolve("gz").resolve(rel))), rel);
        }
        // The same for Parquet shards: each task's slice of the gzipped stream holds the same bytes as the plain file's.
        MnistIdxIngest.Result plainShards = MnistIdxIngest.run(sc, TestSpark.mnistTiny(), src.resolve("plain-shards").toString(), 3, QUIET);
        MnistIdxIngest.Result gzShards = MnistIdxIngest.run(sc, src.toString(), src.resolve("gz-shards").toString(), 3, QUIET);
        assertEquals(plain.descriptor().contentHash(), gzShards.descriptor().contentHash());
        assertEquals(plainShards.descriptor().manifestHash(), gzShards.descriptor().manifestHash());
        assertEquals(imageHashes(src.resolve("plain-shards")), imageHashes(src.resolve("gz-shards")));
    }

    /** path -> sha256 of the stored image bytes, over every shard row of the dataset at {@code root}. */
    static java.util.Map<String, String> imageHashes(Path root) {
        java.util.Map<String, String> m = new java.util.TreeMap<>();
        for (Row r : spark().read().parquet(root.resolve("images").toString()).select("path", "image").collectAsList()) {
            assertTrue(m.put(r.getString(0), Hashing.sha256((byte[]) r.get(1))) == null, "one row per path: " + r.getString(0));
        }
        assertEquals(1200, m.size());
        return m;
    }

    static SparkSession spark() {
        return SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
    }

    @Test
    void aTruncatedGzipIsNamed(@TempDir Path src) throws IOException {
        copyFixture(src);
        gzip(src.resolve("train-images-idx3-ubyte"), src.resolve("train-images-idx3-ubyte.gz"));
        Files.delete(src.resolve("train-images-idx3-ubyte"));
        byte[] gz = Files.readAllBytes(src.resolve("train-images-idx3-ubyte.gz"));
        Files.write(src.resolve("train-images-idx3-ubyte.gz"), java.util.Arrays.copyOf(gz, gz.length / 2));
        String m = assertThrows(IllegalArgumentException.class,
                () -> MnistIdxIngest.run(sc, src.toString(), src.resolve("out").toString(), 2, QUIET)).getMessage();
        assertTrue(m.contains("train-images-idx3-ubyte.gz") && m.contains("truncated"), m);
        assertFalse(Files.exists(src.resolve("out")));
    }

    @Test
    void missingFilesNameWhatWasFoundAndWhatIsExpected(@TempDir Path src) throws IOException {
        Files.write(src.resolve("train-images-idx3-ubyte.gz"), new byte[] {0x1f, (byte) 0x8b});
        Files.write(src.resolve("train-labels.idx1-ubyte"), new byte[] {0});
        String m = assertThrows(IllegalArgumentException.class,
                () -> MnistIdxIngest.run(sc, src.toString(), src.resolve("out").toString(), 2, QUIET)).getMessage();
        assertTrue(m.contains("missing in " + src.toUri().getPath().replaceAll("/$", "")) || m.contains("missing in file:" + src), m);
        assertTrue(m.contains("[train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte]"), m);
        assertTrue(m.contains("Found there: [train-images-idx3-ubyte.gz, train-labels.idx1-ubyte]"), m);
        assertTrue(m.contains("train-images-idx3-ubyte.gz, as MNIST and Fashion-MNIST are distributed"), m);
        assertFalse(Files.exists(src.resolve("out")));
    }

    /**
     * The default layout: each split as Parquet shards of the IDX bytes, written by one task per shard, with the same
     * class index, counts, statistics and content hash as the png-files layout gives. Checked failing once by writing
     * every row's image from the slice's first item (the pixel comparison below named item 7).
     */
    @Test
    void writesEachSplitAsParquetShardsByDefault(@TempDir Path work) throws IOException {
        Path out = work.resolve("shards");
        MnistIdxIngest.Result r = MnistIdxIngest.run(sc, TestSpark.mnistTiny(), out.toString(), 0, QUIET);
        DatasetDescriptor d = r.descriptor();
        DatasetDescriptor files = pngFiles(TestSpark.mnistTiny(), work.resolve("files"), 3).descriptor();
        assertEquals(1200, r.written());
        assertTrue(d.sharded());
        assertEquals(DatasetStorage.RAW, d.storage().encoding());
        assertEquals(DatasetStorage.rowsPerShard(128, 784), d.storage().shardRows());
        assertEquals(1, d.storage().runs().size());
        assertEquals("mnist-idx", d.ingestFormat());
        assertEquals(files.classes(), d.classes());
        assertEquals(files.splits(), d.splits());
        assertEquals(files.classCounts(), d.classCounts());
        assertEquals(files.contentHash(), d.contentHash(), "the IDX content's hash, whatever the layout");
        assertEquals(files.mean()[0], d.mean()[0], 1e-12);
        assertEquals(files.std()[0], d.std()[0], 1e-12);
        assertEquals(List.of(1, 28, 28), List.of(d.channels(), d.height(), d.width()));
        Schemas.assertValid("dataset-descriptor.schema.json", Schemas.parse(Files.readString(out.resolve("dataset.json"))), "dataset.json");
        assertFalse(Files.exists(out.resolve("manifest.csv")));
        try (var walk = Files.walk(out)) {
            assertEquals(0, walk.filter(p -> p.toString().endsWith(".png")).count(), "no file per image");
        }

        // One shard per task: the 2 cores' worth of tasks split train in two; each task wrote its own file.
        List<Path> train = ShardLayoutTest.parquetFiles(out.resolve("images/split=train"));
        List<Path> test = ShardLayoutTest.parquetFiles(out.resolve("images/split=test"));
        assertEquals(2, train.size(), train.toString());
        assertEquals(1, test.size(), test.toString());
        assertFalse(train.get(0).getFileName().toString().substring(0, 10).equals(train.get(1).getFileName().toString().substring(0, 10)),
                "written by two tasks: " + train);

        // Rows as the image ingest writes them: raw uint8 channel-major (one channel: the IDX bytes as they are).
        Dataset<Row> rows = spark().read().parquet(out.resolve("images").toString());
        assertEquals(java.util.Set.of(ShardIngest.IMAGE.fieldNames()), java.util.Set.of(rows.schema().fieldNames()));
        assertEquals(1200, rows.count());
        byte[] idx = Files.readAllBytes(Paths.get(TestSpark.mnistTiny(), "train-images-idx3-ubyte"));
        byte[] labels = Files.readAllBytes(Paths.get(TestSpark.mnistTiny(), "train-labels-idx1-ubyte"));
        for (int item : new int[] {0, 7, 499, 500, 999}) {
            String path = String.format("train/%d/%05d", labels[8 + item], item);
            List<Row> found = rows.filter(col("path").equalTo(path)).collectAsList();
            assertEquals(1, found.size(), path);
            Row row = found.get(0);
            byte[] expected = java.util.Arrays.copyOfRange(idx, 16 + item * 784, 16 + (item + 1) * 784);
            assertArrayEquals(expected, (byte[]) row.getAs("image"), path);
            assertEquals(List.of(1, 28, 28), List.of(row.<Integer>getAs("channels"), row.<Integer>getAs("height"), row.<Integer>getAs("width")));
            assertEquals(Integer.toString(labels[8 + item]), row.getAs("label"));
            assertTrue(row.<String>getAs("source").endsWith("train-images-idx3-ubyte!/" + item), row.<String>getAs("source"));
            assertEquals(Hashing.sha256(expected), row.getAs("sha256"));
            assertEquals("train", row.getAs("split"));
        }
        // The ingest state records the four IDX files (containers of images), not an outcome per image.
        assertEquals(4, spark().read().parquet(out.resolve(DatasetStorage.STATE).toString()).filter(col("archive")).count());

        // The jobs' reader takes the shards: every train image once, labelled through the class index.
        List<StoredImage> read = StoredSplit.read(sc, out.toString(), d, "train", 2, 0).collect();
        assertEquals(1000, read.size());
        assertEquals(1000, read.stream().map(StoredImage::path).distinct().count());
        StoredImage seven = read.stream().filter(i -> i.path().endsWith("/00007")).findFirst().orElseThrow();
        assertTrue(seven.isRaw());
        assertEquals(labels[8 + 7], seven.label());
        assertArrayEquals(java.util.Arrays.copyOfRange(idx, 16 + 7 * 784, 16 + 8 * 784), seven.bytes());
    }

    @Test
    void pngEncodedShardRowsHoldTheIdxPixels(@TempDir Path out) throws IOException {
        DatasetDescriptor d = MnistIdxIngest.run(sc, TestSpark.mnistTiny(), out.toString(), 2,
                new ImageIngest.Storage(DatasetStorage.PARQUET, DatasetStorage.PNG, 128), List.of(), QUIET).descriptor();
        assertEquals(DatasetStorage.PNG, d.storage().encoding());
        byte[] idx = Files.readAllBytes(Paths.get(TestSpark.mnistTiny(), "train-images-idx3-ubyte"));
        StoredImage seven = StoredSplit.read(sc, out.toString(), d, "train", 2, 0).filter(i -> i.path().endsWith("/00007.png")).first();
        assertFalse(seven.isRaw());
        float[] px = ImagePreparer.prepared(seven.bytes(), seven.path(), new InputShape(1, 28, 28), new double[] {0}, new double[] {1});
        for (int i = 0; i < 784; i++) assertEquals((idx[16 + 7 * 784 + i] & 0xff) / 255f, px[i], 1e-6f);
    }

    @Test
    void shardedRerunOnTheSameSourceIsANoOp(@TempDir Path out) throws IOException {
        MnistIdxIngest.Result first = MnistIdxIngest.run(sc, TestSpark.mnistTiny(), out.toString(), 2, QUIET);
        String descriptor = Files.readString(out.resolve("dataset.json"));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        MnistIdxIngest.Result second = MnistIdxIngest.run(sc, TestSpark.mnistTiny(), out.toString(), 2, new PrintStream(log, true));
        assertFalse(first.skippedUnchanged());
        assertTrue(second.skippedUnchanged());
        assertEquals(0, second.written());
        assertTrue(log.toString().contains("already holds this source") && log.toString().contains("nothing to do"), log.toString());
        assertEquals(descriptor, Files.readString(out.resolve("dataset.json")));
        try (var runs = Files.list(out.resolve("images/split=train"))) {
            assertEquals(1, runs.count(), "no second run written");
        }
    }

    /** A png-files dataset from before Parquet was the default holds the same content: kept, and how to convert it said. */
    @Test
    void aPngFilesDatasetOfTheSameSourceIsKept(@TempDir Path out) throws IOException {
        pngFiles(TestSpark.mnistTiny(), out, 2);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        MnistIdxIngest.Result again = MnistIdxIngest.run(sc, TestSpark.mnistTiny(), out.toString(), 2, new PrintStream(log, true));
        assertTrue(again.skippedUnchanged());
        assertFalse(again.descriptor().sharded());
        assertTrue(log.toString().contains("stored as png-files, not parquet") && log.toString().contains("convert-dataset"), log.toString());
        assertFalse(Files.exists(out.resolve("images")));
    }

    /** Shards of a run that died before its dataset.json are no part of the dataset: removed before the next run writes. */
    @Test
    void shardsOfARunThatDiedAreRemoved(@TempDir Path out) throws IOException {
        Path dead = out.resolve("images/split=train/run=5/part-00000-dead.zstd.parquet");
        Files.createDirectories(dead.getParent());
        Files.write(dead, new byte[] {1, 2, 3}); // not even Parquet: reading the folder would fail on it
        Files.createDirectories(out.resolve("ingest-state/run=5"));
        DatasetDescriptor d = MnistIdxIngest.run(sc, TestSpark.mnistTiny(), out.toString(), 2, QUIET).descriptor();
        assertFalse(Files.exists(dead.getParent()));
        assertFalse(Files.exists(out.resolve("ingest-state/run=5")));
        assertEquals(1000L, d.count("train"));
        assertEquals(1000, StoredSplit.read(sc, out.toString(), d, "train", 2, 0).count());
    }

    /** The ingest job hands ingest.layout, ingest.encoding and ingest.shard-mb to the IDX ingest as to the image ingest. */
    @Test
    void theIngestJobFollowsTheLayoutKeys(@TempDir Path work) throws IOException {
        for (String layout : List.of("parquet", "png-files")) {
            Path out = work.resolve(layout);
            DatasetDescriptor d = IngestJob.run(JobConfig.fromString(String.join("\n",
                    "ingest { source = \"" + TestSpark.mnistTiny() + "\", format = mnist-idx, layout = \"" + layout + "\"",
                    "  encoding = png, shard-mb = 1 }", "data.root = \"" + out + "\"")), sc, QUIET).descriptor();
            boolean shards = layout.equals("parquet");
            assertEquals(shards, d.sharded(), layout);
            assertEquals(shards, Files.exists(out.resolve("images")), layout);
            assertEquals(!shards, Files.exists(out.resolve("manifest.csv")), layout);
            if (shards) {
                assertEquals(DatasetStorage.PNG, d.storage().encoding());
                assertEquals(DatasetStorage.rowsPerShard(1, 784 * 6 / 10), d.storage().shardRows());
            }
        }
    }

    /** A split larger than a shard is cut into slices of at most a shard's rows, so no task writes more than one shard. */
    @Test
    void slicesHoldAtMostAShardEach() throws IOException {
        MnistIdxIngest.Source src = MnistIdxIngest.readSource(new org.apache.hadoop.fs.Path(TestSpark.mnistTiny()), List.of(),
                sc.hadoopConfiguration());
        List<MnistIdxIngest.Slice> slices = MnistIdxIngest.slices(src, 2, 300);
        assertEquals(4, slices.stream().filter(s -> s.split().equals("train")).count());
        assertEquals(1, slices.stream().filter(s -> s.split().equals("test")).count());
        assertTrue(slices.stream().allMatch(s -> s.count() <= 300), slices.toString());
        assertEquals(1200, slices.stream().mapToInt(MnistIdxIngest.Slice::count).sum());
    }

    static final List<String> FASHION = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
            "Sneaker", "Bag", "Ankle boot");

    @Test
    void classNamesNameTheClassesEverywhere(@TempDir Path out) throws IOException {
        MnistIdxIngest.Result r = MnistIdxIngest.run(sc, TestSpark.mnistTiny(), out.toString(), 3, FASHION, QUIET);
        DatasetDescriptor d = r.descriptor();
        assertEquals(FASHION, d.classes());
        assertEquals(FASHION, List.copyOf(d.classCounts().get("train").keySet()));
        byte[] labels = Files.readAllBytes(Paths.get(TestSpark.mnistTiny(), "train-labels-idx1-ubyte"));
        long sevens = 0;
        for (int i = 8; i < labels.length; i++) if (labels[i] == 7) sevens++;
        assertEquals(sevens, d.classCounts().get("train").get("Sneaker"));
        // Paths keep the label number ("T-shirt/top" is no folder name); the label column holds the name.
        int item = 7;
        List<Row> row = spark().read().parquet(out.resolve("images").toString())
                .filter(col("path").equalTo(String.format("train/%d/%05d", labels[8 + item], item))).collectAsList();
        assertEquals(1, row.size());
        assertEquals(FASHION.get(labels[8 + item]), row.get(0).getAs("label"));
        Schemas.assertValid("dataset-descriptor.schema.json", Schemas.parse(Files.readString(out.resolve("dataset.json"))), "dataset.json");
        // The train job's reader resolves every named label (and fails on any it cannot).
        ImageDataset train = ImageDataset.load(sc, out.toString(), Datasets.readDescriptor(out.toString(), sc.hadoopConfiguration()),
                "train", 2, 0);
        assertEquals(1000, train.count());
        train.release();

        // Same source, other names: refused rather than relabelled under models trained on the old names.
        String m = assertThrows(IllegalArgumentException.class,
                () -> MnistIdxIngest.run(sc, TestSpark.mnistTiny(), out.toString(), 3, QUIET)).getMessage();
        assertTrue(m.contains("ingest.class-names gives [0, 1,") && m.contains("another data.root"), m);
    }

    @Test
    void classNamesMustMatchTheLabels(@TempDir Path out) {
        String m = assertThrows(IllegalArgumentException.class, () -> MnistIdxIngest.run(sc, TestSpark.mnistTiny(),
                out.toString(), 3, FASHION.subList(0, 9), QUIET)).getMessage();
        assertTrue(m.startsWith("ingest.class-names has 9 names, but the labels run from 0 to 9 (10 classes"), m);
        assertFalse(Files.exists(out.resolve("dataset.json")));
    }

    static final String[] ALL = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

    static void gzip(Path from, Path to) throws IOException {
        try (var o = new java.util.zip.GZIPOutputStream(Files.newOutputStream(to))) {
            o.write(Files.readAllBytes(from));
        }
    }

    static void copyFixture(Path dst) throws IOException {
        for (String f : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
            Files.copy(Paths.get(TestSpark.mnistTiny(), f), dst.resolve(f));
        }
    }
}
