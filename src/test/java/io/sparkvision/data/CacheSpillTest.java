package io.sparkvision.data;

import io.sparkvision.TestSpark;
import io.sparkvision.augment.AugmentSettings;
import io.sparkvision.config.SparkContexts;
import io.sparkvision.image.InputShape;
import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.ingest.ImageIngest;
import io.sparkvision.ingest.IngestSettings;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cache larger than the executors' storage memory spills to local disk and is read from there, never dropped and
 * re-read from the store: the batches are those a cache in memory gives.
 */
class CacheSpillTest {
    static final int STORED = 128;
    @TempDir
    static Path work;

    @Test
    void aCacheLargerThanStorageMemorySpillsToDiskAndGivesTheSameBatches() throws Exception {
        String root = work.resolve("data").toString();
        float[] inMemory;
        DatasetDescriptor d;
        JavaSparkContext sc = TestSpark.local(2);
        try {
            d = ImageIngest.run(sc, "image-folder", TestSpark.basedir().resolve("src/test/resources/emoji-tiny").toString(),
                    root, IngestSettings.defaults(STORED, 3), "", 2, new PrintStream(new ByteArrayOutputStream())).descriptor();
            ImageDataset all = ImageDataset.load(sc, root, d, "train", 2, 0, AugmentSettings.OFF, new InputShape(3, 96, 96));
            assertEquals(0, all.cacheUse().diskBytes(), "the default context holds the cache in memory");
            inMemory = features(all.epochBatches(3, 1, 4).collect());
            all.release();
        } finally {
            sc.stop();
        }
        long perImage = 3L * STORED * STORED;
        // Storage memory for ~one of the two blocks (Spark's test hooks size the unified region: 0.6 of this).
        SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("cache-spill-test")
                .set("spark.testing.memory", String.valueOf(perImage * d.count("train") * 5 / 6))
                .set("spark.testing.reservedMemory", "0");
        SparkContexts.applyDefaults(conf);
        sc = new JavaSparkContext(conf);
        try {
            ImageDataset small = ImageDataset.load(sc, root, d, "train", 2, 0, AugmentSettings.OFF, new InputShape(3, 96, 96));
            ImageDataset.CacheUse use = small.cacheUse();
            assertTrue(use.diskBytes() > 0, "part of the cache spilled to disk: " + use);
            assertEquals(use.partitions(), use.cachedPartitions(), "no block dropped: " + use);
            assertTrue(use.bytesPerImage() < perImage * 1.25, "uint8 on disk too: " + use.bytesPerImage() + " bytes per image");
            assertArrayEquals(inMemory, features(small.epochBatches(3, 1, 4).collect()), "the same batches from a spilled cache");
            small.release();
        } finally {
            sc.stop();
        }
    }

    static float[] features(List<DataSet> batches) {
        return DataSet.merge(batches).getFeatures().dup('c').data().asFloat();
    }
}
