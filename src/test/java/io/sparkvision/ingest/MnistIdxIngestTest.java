package io.sparkvision.ingest;

import io.sparkvision.Schemas;
import io.sparkvision.SparkActivity;
import io.sparkvision.TestSpark;
import io.sparkvision.data.Datasets;
import io.sparkvision.data.ImageDataset;
import io.sparkvision.image.ImagePreparer;
import io.sparkvision.image.InputShape;
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

    @Test
    void writesEveryImageOnceWithManifestAndDescriptor(@TempDir Path out) throws IOException {
        MnistIdxIngest.Result r = MnistIdxIngest.run(sc, TestSpark.mnistTiny(), out.toString(), 5, QUIET);
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
        MnistIdxIngest.run(sc, TestSpark.mnistTiny(), out.toString(), 3, QUIET);
        byte[] idx = Files.readAllBytes(Paths.get(TestSpark.mnistTiny(), "train-images-idx3-ubyte"));
        byte[] labels = Files.readAllBytes(Paths.get(TestSpark.mnistTiny(), "train-labels-idx1-ubyte"));
        int item = 7;
        Path png = out.resolve(String.format("train/%d/%05d.png", labels[8 + item], item));
        float[] px = ImagePreparer.prepared(Files.readAllBytes(png), png.toString(), new InputShape(1, 28, 28), new double[] {0}, new double[] {1});
        for (int i = 0; i < 784; i++) assertEquals((idx[16 + item * 784 + i] & 0xff) / 255f, px[i], 1e-6f);
    }

    @Test
    void rerunOnTheSameSourceIsANoOp(@TempDir Path out) throws IOException {
        MnistIdxIngest.Result first = MnistIdxIngest.run(sc, TestSpark.mnistTiny(), out.toString(), 2, QUIET);
        byte[] manifest = Files.readAllBytes(out.resolve("manifest.csv"));
        MnistIdxIngest.Result second = MnistIdxIngest.run(sc, TestSpark.mnistTiny(), out.toString(), 2, QUIET);
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
        MnistIdxIngest.Result plain = MnistIdxIngest.run(sc, TestSpark.mnistTiny(), src.resolve("plain").toString(), 3, QUIET);
        MnistIdxIngest.Result gz = MnistIdxIngest.run(sc, src.toString(), src.resolve("gz").toString(), 3, QUIET);
        assertEquals(1200, gz.written());
        assertEquals(plain.descriptor().contentHash(), gz.descriptor().contentHash(), "hash of the IDX content, not of its packing");
        assertEquals(Files.readString(src.resolve("plain/manifest.csv")), Files.readString(src.resolve("gz/manifest.csv")));
        // Every slice read its own range of the decompressed stream: the PNGs are byte-identical.
        for (String row : Files.readAllLines(src.resolve("plain/manifest.csv")).subList(1, 1201)) {
            String rel = row.split(",")[0];
            assertEquals(java.util.Arrays.hashCode(Files.readAllBytes(src.resolve("plain").resolve(rel))),
                    java.util.Arrays.hashCode(Files.readAllBytes(src.resolve("gz").resolve(rel))), rel);
        }
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
        List<String> manifest = Files.readAllLines(out.resolve("manifest.csv"));
        // Folders keep the label number ("T-shirt/top" is no folder name); the label column holds the name.
        int item = 7;
        String row = String.format("train/%d/%05d.png,%s,train", labels[8 + item], item, FASHION.get(labels[8 + item]));
        assertTrue(manifest.contains(row), row);
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
