package io.sparkvision.train.sizing;

import io.sparkvision.data.ImageDataset;
import io.sparkvision.ingest.DatasetDescriptor;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.BlockManagerId;
import scala.Tuple2;
import scala.collection.JavaConverters;

import java.util.Locale;
import java.util.Map;

import static io.sparkvision.train.sizing.RoundSizing.bytes;

/**
 * The training cache's sizing lines, printed by the train job before it decodes anything and again once the cache
 * is filled: bytes per image and in total (uint8 at the stored size, {@link ImageDataset}), against the storage memory
 * the executors' block managers report, and what spills to their local disks when it does not fit.
 */
public final class CacheSizing {
    /** Per cached image beyond its pixels: the record and array headers (measured with Spark's SizeEstimator: 48 B). */
    static final long OVERHEAD_PER_IMAGE = 48;

    private CacheSizing() {
    }

    /** Storage memory of the executors (Spark's unified region, which caching may fill while no task computes). */
    public record StorageMemory(int blockManagers, long total) {
    }

    /** What the block managers report now: the executors', or in local mode the driver's (which then runs the tasks). */
    public static StorageMemory storageMemory(JavaSparkContext sc) {
        BlockManagerId driver = org.apache.spark.SparkEnv.get().blockManager().blockManagerId();
        boolean local = sc.isLocal();
        int n = 0;
        long total = 0;
        for (Map.Entry<String, Tuple2<Object, Object>> e : JavaConverters.mapAsJavaMap(sc.sc().getExecutorMemoryStatus()).entrySet()) {
            boolean isDriver = e.getKey().equals(driver.host() + ":" + driver.port());
            if (isDriver != local) continue;
            n++;
            total += (Long) e.getValue()._1();
        }
        if (n == 0) {
            // Executors not registered yet: what spark.executor.memory gives each (Spark reserves 300 MiB, then memory.fraction).
            n = Math.max(1, sc.getConf().getInt("spark.executor.instances", 1));
            long heap = sc.getConf().getSizeAsBytes("spark.executor.memory", "1g");
            total = n * (long) ((heap - (300L << 20)) * sc.getConf().getDouble("spark.memory.fraction", 0.6));
        }
        return new StorageMemory(n, total);
    }

    /** Before decoding: what the cache will take, from the dataset's stored size. */
    public static String estimateLine(DatasetDescriptor d, long trainImages, long testImages, StorageMemory m) {
        long pixels = (long) d.channels() * d.height() * d.width();
        long perImage = pixels + OVERHEAD_PER_IMAGE;
        long total = (trainImages + testImages) * perImage;
        String verdict = total <= m.total() ? "fits"
                : "does not fit: ~" + bytes(total - m.total()) + " spills to the executors' local disks (spark.local.dir), read back each epoch";
        return String.format(Locale.ROOT, "sizing: cache %,d train + %,d test images as uint8 %dx%dx%d = ~%,d bytes each (float32 would be "
                        + "%,d): ~%s in total; storage memory of %d %s %s: %s (%s)", trainImages, testImages, d.channels(), d.height(),
                d.width(), perImage, 4 * pixels, bytes(total), m.blockManagers(), m.blockManagers() == 1 ? "block manager" : "block managers",
                bytes(m.total()), verdict, ImageDataset.CACHE_LEVEL.description());
    }

    /** Once filled: what Spark's storage info says the cache takes. */
    public static String measuredLine(ImageDataset.CacheUse train, ImageDataset.CacheUse test) {
        long images = train.images() + test.images();
        long mem = train.memoryBytes() + test.memoryBytes(), disk = train.diskBytes() + test.diskBytes();
        return String.format(Locale.ROOT, "sizing: cache measured %,.0f bytes per image: %s in memory + %s on local disk for %,d images",
                images == 0 ? 0.0 : (mem + disk) / (double) images, bytes(mem), bytes(disk), images);
    }
}
