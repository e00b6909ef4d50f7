package io.sparkvision.train.sizing;

import io.sparkvision.config.JvmFlags;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The heap an executor needs for one round, counted the way the JVM really holds the bytes. Spark 3.5 keeps both
 * big byte streams of a round on the executor's heap, in fixed-size chunks:
 * <ul>
 * <li>each round's broadcast (parameters + updater state) as TorrentBroadcast pieces of 4 MiB
 * ({@code spark.broadcast.blockSize}); DL4J never unpersists its broadcasts, so the previous round's pieces are
 * still there when the next round's arrive;</li>
 * <li>each worker's task result serialized twice into 1 MiB chunks ({@code ChunkedByteBuffer}): the value, then the
 * {@code DirectTaskResult} that wraps it, both alive until the block manager stores the second. Serialization is
 * streamed, so Kryo's own buffer stays small.</li>
 * </ul>
 * On G1 an array of at least half a region is "humongous" and takes whole regions: with the 2 MiB regions JDK 17
 * picks for 2-4 GiB heaps a 1 MiB chunk occupies 2 MiB and a 4 MiB piece 6 MiB. That is why AlexNet's 0.47 GB
 * result killed 2.3 GB executors whose live bytes (~1.7 GB) fitted. Regions of 16 MiB or more hold both chunk sizes
 * without waste: the product's executors get them ({@code g1.flags} in conf/jvm-flags.properties).
 */
public final class ExecutorHeap {
    static final long MIB = 1L << 20;
    static final long RESULT_CHUNK = MIB;
    static final long BROADCAST_PIECE = 4 * MIB;
    /** This round's broadcast and the previous one's (never unpersisted by DL4J). */
    static final int BROADCASTS_HELD = 2;
    /** Serialized copies of a worker's result alive at once (the value, then the DirectTaskResult). */
    static final int RESULT_COPIES = 2;
    private static final long ARRAY_HEADER = 16;
    private static final Pattern REGION = Pattern.compile("-XX:G1HeapRegionSize=(\\d+)([kKmMgG]?)");
    /** The region size that wastes nothing on either chunk size (conf/jvm-flags.properties' g1.flags). */
    public static final String NO_WASTE_FLAG = JvmFlags.G1;

    private ExecutorHeap() {
    }

    /** Heap needed by an executor running {@code s.workersPerExecutor()} workers, on G1 regions of {@code region} bytes. */
    public static long needed(RoundSizing s, long region) {
        return RoundSizing.EXECUTOR_BASELINE
                + BROADCASTS_HELD * chunked(s.broadcast(), BROADCAST_PIECE, region)
                + (long) s.workersPerExecutor() * RESULT_COPIES * chunked(s.toDriverPerWorker(), RESULT_CHUNK, region);
    }

    /** The smallest whole-GiB heap that holds the round, with the region size that heap gets (or the one given). */
    public static long smallestHeap(RoundSizing s, long fixedRegion) {
        for (long gib = 1; gib <= 1024; gib++) {
            long heap = gib << 30;
            if (needed(s, fixedRegion > 0 ? fixedRegion : ergonomicRegion(heap)) <= heap) return heap;
        }
        return 1024L << 30;
    }

    /** Heap a byte stream occupies when held as {@code chunk}-sized arrays. */
    static long chunked(long bytes, long chunk, long region) {
        if (bytes <= 0) return 0;
        long full = bytes / chunk, rest = bytes % chunk;
        return full * occupied(chunk, region) + (rest > 0 ? occupied(rest, region) : 0);
    }

    /** Heap one byte array occupies on G1: a humongous one (at least half a region) takes whole regions. */
    static long occupied(long arrayBytes, long region) {
        long size = arrayBytes + ARRAY_HEADER;
        if (size < region / 2) return size;
        return (size + region - 1) / region * region;
    }

    /** JDK 17's G1 region for a heap: heap/2048 rounded up to a power of two, between 1 and 32 MiB. */
    public static long ergonomicRegion(long heap) {
        long target = Math.max(1, heap / 2048);
        long pow = Long.highestOneBit(target);
        if (pow < target) pow <<= 1;
        return Math.min(32 * MIB, Math.max(MIB, pow));
    }

    /** The executors' region: -XX:G1HeapRegionSize in their Java options, else the ergonomic one for their heap. */
    public static long region(String javaOptions, long heap) {
        Matcher m = REGION.matcher(javaOptions == null ? "" : javaOptions);
        long set = 0;
        while (m.find()) { // the JVM takes the last occurrence
            long unit = switch (m.group(2).toLowerCase(java.util.Locale.ROOT)) {
                case "k" -> 1L << 10;
                case "m" -> MIB;
                case "g" -> 1L << 30;
                default -> 1;
            };
            set = Long.parseLong(m.group(1)) * unit;
        }
        return set > 0 ? set : ergonomicRegion(heap);
    }

    /** Whether the options fix the region size (then a bigger heap keeps it). */
    static boolean regionSet(String javaOptions) {
        return javaOptions != null && REGION.matcher(javaOptions).find();
    }
}
