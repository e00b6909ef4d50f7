package io.sparkvision.ingest;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Driver heap a listing keeps, on a real folder tree ({@code scripts/test -Dtest=ListingHeapBench
 * -Dsparkvision.bench.listing=DIR}): the png-files layout's driver-side listing (every file an item held on the
 * driver, ImageIngest.listFolder) against what the parquet layout's driver lists now (folder names of two levels,
 * ParallelListing.folders). Retained bytes are the used heap after a full GC with the result held, minus before.
 * Not a test: a measurement, printed.
 */
@EnabledIfSystemProperty(named = "sparkvision.bench.listing", matches = ".+")
class ListingHeapBench {
    @Test
    void driverHeapOfBothListings() throws Exception {
        Configuration conf = new Configuration();
        Path root = FileSystem.getLocal(conf).makeQualified(new Path(System.getProperty("sparkvision.bench.listing")));
        IngestSettings s = IngestSettings.defaults(256, 3);
        Path out = new Path("file:/nowhere-out");

        long base = used();
        long t0 = System.nanoTime();
        List<Work.Item> items = ImageIngest.listFolder(root, conf, s, out);
        double listSeconds = (System.nanoTime() - t0) / 1e9;
        long itemsBytes = used() - base;

        base = used();
        t0 = System.nanoTime();
        List<ParallelListing.Folder> folders = ParallelListing.folders(root, "file:/nowhere-out/", conf);
        double folderSeconds = (System.nanoTime() - t0) / 1e9;
        long folderBytes = used() - base;

        System.out.printf(Locale.ROOT, "bench listing heap: %s%n  driver lists every file (png-files layout): %,d items, "
                        + "%,d bytes retained (%,.0f per file), %.1f s%n  driver lists folders only (parquet layout): %,d folders, "
                        + "%,d bytes retained, %.2f s%n", root, items.size(), itemsBytes, (double) itemsBytes / items.size(),
                listSeconds, folders.size(), folderBytes, folderSeconds);
        assertTrue(items.size() > 0 && folders.size() > 0 && items.get(0) != null && folders.get(0) != null);
    }

    private static long used() {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return rt.totalMemory() - rt.freeMemory();
    }
}
