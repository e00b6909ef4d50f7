package io.sparkvision.augment;

import io.sparkvision.TestSpark;
import io.sparkvision.data.ImageDataset;
import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.ingest.ImageIngest;
import io.sparkvision.ingest.IngestSettings;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AugmentTest {
    static final AugmentSettings ALL = new AugmentSettings(2, true, 0.3, true, 0.3, 0.3, 0.3, 0.1, 0.5, 1.5);
    @TempDir
    static Path work;
    static JavaSparkContext sc;
    static DatasetDescriptor d;
    static String root;

    @BeforeAll
    static void ingest() throws Exception {
        sc = TestSpark.local(2);
        root = work.resolve("data").toString();
        d = ImageIngest.run(sc, "image-folder", TestSpark.basedir().resolve("src/test/resources/emoji-tiny").toString(),
                root, IngestSettings.defaults(16, 3), "", 2, new PrintStream(new ByteArrayOutputStream())).descriptor();
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    static float[] features(List<DataSet> batches) {
        int n = 0;
        for (DataSet b : batches) n += (int) b.getFeatures().length();
        float[] out = new float[n];
        int o = 0;
        for (DataSet b : batches) {
            float[] f = b.getFeatures().dup().data().asFloat();
            System.arraycopy(f, 0, out, o, f.length);
            o += f.length;
        }
        return out;
    }

    @Test
    void sameSeedAndEpochGiveIdenticalBatchesAndEvaluationIsNotAugmented() {
        ImageDataset plain = ImageDataset.load(sc, root, d, "train", 2, 0, AugmentSettings.OFF);
        ImageDataset first = ImageDataset.load(sc, root, d, "train", 2, 0, ALL);
        ImageDataset second = ImageDataset.load(sc, root, d, "train", 2, 0, ALL);
        float[] a = features(first.epochBatches(42, 3, 8).collect());
        float[] b = features(second.epochBatches(42, 3, 8).collect());
        assertArrayEquals(a, b, "two runs, same seed and epoch");
        assertNotEquals(java.util.Arrays.hashCode(a), java.util.Arrays.hashCode(features(first.epochBatches(42, 4, 8).collect())));
        float[] unaugmented = features(plain.epochBatches(42, 3, 8).collect());
        assertEquals(unaugmented.length, a.length);
        assertNotEquals(java.util.Arrays.hashCode(unaugmented), java.util.Arrays.hashCode(a));
        // Evaluation batches: normalised only, identical with and without augmentation settings.
        assertArrayEquals(features(plain.batches(8).collect()), features(first.batches(8).collect()), 1e-6f);
        plain.release();
        first.release();
        second.release();
    }

    @Test
    void flipMirrorsAndAllTransformsKeepPixelsInRange() {
        float[] x = new float[2 * 3 * 4];
        for (int i = 0; i < x.length; i++) x[i] = i / (float) x.length;
        float[] f = x.clone();
        Augmenter.flip(f, 2, 3, 4);
        assertEquals(x[3], f[0]);
        assertEquals(x[12 + 4], f[12 + 7]);
        float[] img = new float[3 * 16 * 16];
        Random r = new Random(1);
        for (int i = 0; i < img.length; i++) img[i] = r.nextFloat();
        for (int k = 0; k < 20; k++) {
            float[] out = Augmenter.apply(img, 3, 16, 16, ALL, new Random(k));
            assertEquals(img.length, out.length);
            for (float v : out) assertTrue(v >= 0 && v <= 1);
        }
        assertArrayEquals(Augmenter.apply(img, 3, 16, 16, ALL, new Random(5)), Augmenter.apply(img, 3, 16, 16, ALL, new Random(5)));
    }
}
