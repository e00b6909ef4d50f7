package io.sparkvision.ingest;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.util.Hashing;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code ingest.split-fractions}: the split of an image that no split folder (or manifest column) names, decided by
 * a hash of its path relative to {@code ingest.source}. The hash maps each path to a point in [0, 1); the splits
 * take consecutive intervals of their sizes, in {@code ingest.splits} order (then by name). So the same file always
 * lands in the same split, on any machine and in any run; a newly added file does not move any other; a renamed
 * (or moved) file is a new file. Per-file hashing is not stratified: on tiny classes the shares per class vary.
 */
public final class SplitFractions implements Serializable {
    public static final SplitFractions NONE = new SplitFractions(new LinkedHashMap<>());

    private final LinkedHashMap<String, Double> fractions;

    private SplitFractions(LinkedHashMap<String, Double> fractions) {
        this.fractions = fractions;
    }

    /** Reads and validates the option: plain split names, positive shares adding up to 1, the train split among them. */
    static SplitFractions of(JobConfig cfg, List<String> splitFolders) {
        Map<String, Double> given = cfg.get(Options.INGEST_SPLIT_FRACTIONS);
        if (given.isEmpty()) return NONE;
        double sum = 0;
        for (Map.Entry<String, Double> e : given.entrySet()) {
            String name = e.getKey();
            cfg.check(!name.isBlank() && !name.contains("/") && !name.contains(",") && !name.equals(".") && !name.equals(".."),
                    Options.INGEST_SPLIT_FRACTIONS, "'" + name + "' cannot be a split name (it becomes a folder and a "
                            + "manifest column); use plain names such as train, val, test");
            cfg.check(e.getValue() > 0, Options.INGEST_SPLIT_FRACTIONS, "'" + name + "' has fraction 0; leave it out instead");
            sum += e.getValue();
        }
        cfg.check(Math.abs(sum - 1) < 1e-9, Options.INGEST_SPLIT_FRACTIONS, "the fractions add up to " + sum
                + ", not 1; e.g. { train = 0.8, test = 0.2 }");
        String train = splitFolders.get(0);
        cfg.check(given.containsKey(train), Options.INGEST_SPLIT_FRACTIONS, "gives the train split '" + train
                + "' (the first of ingest.splits) no share, so nothing would train");
        List<String> order = new ArrayList<>(given.keySet());
        order.sort(Comparator.comparingInt((String n) -> splitFolders.contains(n) ? splitFolders.indexOf(n) : Integer.MAX_VALUE)
                .thenComparing(Comparator.naturalOrder()));
        LinkedHashMap<String, Double> ordered = new LinkedHashMap<>();
        for (String n : order) ordered.put(n, given.get(n));
        return new SplitFractions(ordered);
    }

    /** For tests and tools: the given shares, in the given order. */
    public static SplitFractions of(LinkedHashMap<String, Double> fractions) {
        return new SplitFractions(new LinkedHashMap<>(fractions));
    }

    public boolean isEmpty() {
        return fractions.isEmpty();
    }

    /** The shares, in assignment order; recorded in dataset.json so a later ingest cannot silently change them. */
    public Map<String, Double> asMap() {
        return new LinkedHashMap<>(fractions);
    }

    /** The split of the image at {@code relativePath} ('/'-separated, relative to the source root). */
    public String splitOf(String relativePath) {
        double u = unitHash(relativePath);
        double upTo = 0;
        String last = null;
        for (Map.Entry<String, Double> e : fractions.entrySet()) {
            upTo += e.getValue();
            last = e.getKey();
            if (u < upTo) return last;
        }
        return last; // u within rounding of 1
    }

    /** SHA-256 of the UTF-8 path, its first 53 bits as a fraction in [0, 1): the same everywhere, for ever. */
    static double unitHash(String relativePath) {
        byte[] h = Hashing.sha256().digest(relativePath.getBytes(StandardCharsets.UTF_8));
        return (ByteBuffer.wrap(h).getLong() >>> 11) * 0x1.0p-53;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SplitFractions f && f.fractions.equals(fractions);
    }

    @Override
    public int hashCode() {
        return fractions.hashCode();
    }

    @Override
    public String toString() {
        return fractions.toString();
    }
}
