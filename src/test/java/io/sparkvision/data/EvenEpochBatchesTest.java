package io.sparkvision.data;

import io.sparkvision.TestSpark;
import io.sparkvision.image.InputShape;
import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.ingest.ImageIngest;
import io.sparkvision.ingest.IngestSettings;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Gradient sharing's even split: every partition gives the same number of minibatches, with every example once. */
class EvenEpochBatchesTest {
    @TempDir
    static Path work;
    static JavaSparkContext sc;
    static ImageDataset data;

    @BeforeAll
    static void ingest() throws Exception {
        sc = TestSpark.local(2);
        String root = work.resolve("data").toString();
        DatasetDescriptor d = ImageIngest.run(sc, "image-folder", TestSpark.basedir().resolve("src/test/resources/emoji-tiny").toString(),
                root, IngestSettings.defaults(8, 3), "", 2, new PrintStream(new ByteArrayOutputStream())).descriptor();
        // 24 images in 5 partitions: some hold 5 or more (two batches of 4), some 4 or fewer (one).
        data = ImageDataset.load(sc, root, d, "train", 5, 0);
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    @Test
    void splitsExamplesIntoBatchesWhoseSizesDifferByAtMostOne() {
        List<Example> ten = new ArrayList<>();
        for (int i = 0; i < 10; i++) ten.add(new Example(new float[] {i}, 0));
        assertEquals(List.of(3L, 3L, 2L, 2L), sizes(Batches.batchEvenly(ten, 4, new InputShape(1, 1, 1), 2)));
        // More batches asked for than there are examples: one example each, none empty.
        assertEquals(10, sizes(Batches.batchEvenly(ten, 20, new InputShape(1, 1, 1), 2)).size());
    }

    @Test
    void everyPartitionGivesAsManyBatchesAndNoExampleIsLostOrRepeated() {
        int batch = 4;
        List<Integer> plain = batchesPerPartition(data.epochBatches(42, 1, batch));
        // The fixture's partitions give different numbers of full batches, or this test would prove nothing.
        assertNotEquals(plain.stream().distinct().count(), 1L, "partitions give " + plain);
        List<Integer> even = batchesPerPartition(data.evenEpochBatches(42, 1, batch));
        for (int n : even) assertEquals(data.batchesPerPartition(batch), n, "batches per partition " + even);
        List<DataSet> batches = data.evenEpochBatches(42, 1, batch).collect();
        long examples = 0;
        for (DataSet b : batches) {
            assertTrue(b.numExamples() <= batch, "a batch of " + b.numExamples());
            examples += b.numExamples();
        }
        assertEquals(data.count(), examples);
        // The same examples in the same order as the plain split, only cut differently.
        assertArrayEquals(pixels(data.epochBatches(42, 1, batch).collect()), pixels(batches));
    }

    static List<Long> sizes(Iterator<DataSet> it) {
        List<Long> out = new ArrayList<>();
        it.forEachRemaining(d -> out.add((long) d.numExamples()));
        return out;
    }

    static List<Integer> batchesPerPartition(JavaRDD<DataSet> rdd) {
        return rdd.mapPartitions(it -> {
            int n = 0;
            for (; it.hasNext(); it.next()) n++;
            return List.of(n).iterator();
        }).collect();
    }

    static float[] pixels(List<DataSet> batches) {
        List<float[]> parts = new ArrayList<>();
        int n = 0;
        for (DataSet b : batches) {
            float[] f = b.getFeatures().dup().data().asFloat();
            parts.add(f);
            n += f.length;
        }
        float[] out = new float[n];
        int o = 0;
        for (float[] f : parts) {
            System.arraycopy(f, 0, out, o, f.length);
            o += f.length;
        }
        return out;
    }
}
