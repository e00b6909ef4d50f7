package io.sparkvision.data;

import io.sparkvision.TestSpark;
import io.sparkvision.model.InputShape;
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
        float[] px = ImageCodec.decode(Files.readAllBytes(png), png.toString(), new InputShape(1, 28, 28), new double[] {0}, new double[] {1});
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
        String m = assertThrows(IllegalArgumentException.class,
                () -> MnistIdxIngest.run(sc, src.toString(), src.resolve("out").toString(), 2, QUIET)).getMessage();
        assertTrue(m.contains("t10k-labels-idx1-ubyte"), m);
        assertFalse(Files.exists(src.resolve("out")));
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

    static void copyFixture(Path dst) throws IOException {
        for (String f : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
            Files.copy(Paths.get(TestSpark.mnistTiny(), f), dst.resolve(f));
        }
    }
}
