package io.sparkvision.retrain;

import io.sparkvision.ingest.ManifestCsv;
import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.ingest.DatasetWriter;
import io.sparkvision.ingest.ImageIngest;
import io.sparkvision.ingest.Outcome;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.util.Hashing;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One night's training data as a dataset of its own: the images of the nightly dataset whose landing partition
 * ({@code date=YYYY-MM-DD}) falls in the window, as split {@code train}, plus the fixed holdout as split
 * {@code holdout}. It is written into the candidate's {@code data/} folder as dataset.json + manifest.csv whose
 * paths are absolute URIs (the images stay where they are), so the train and evaluate jobs read it like any other
 * dataset, and the candidate records exactly which images trained it. This is the window of a registry whose nightly
 * dataset and holdout are both in the png-files layout; when either is stored as Parquet shards,
 * {@link ShardedWindow} cuts it by the same rules in Spark and copies the rows.
 */
public final class TrainingWindow {
    public static final String TRAIN = "train";
    public static final String HOLDOUT = "holdout";
    private static final Pattern DATE = Pattern.compile("/date=(\\d{4}-\\d{2}-\\d{2})(?=/|!/)");

    /** What the window holds. {@code contentHash} covers the training images only (not the holdout). */
    public record Summary(LocalDate from, LocalDate to, List<String> partitions, long images, long undated,
                          long holdoutCopies, long holdoutImages, String contentHash, DatasetDescriptor descriptor) {
        public Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("from", from == null ? null : from.toString());
            m.put("to", to.toString());
            m.put("partitions", partitions);
            m.put("images", images);
            m.put("holdoutCopiesExcluded", holdoutCopies);
            m.put("holdoutImages", holdoutImages);
            m.put("contentHash", contentHash);
            return m;
        }
    }

    private TrainingWindow() {
    }

    /** The partition date in a source URI ({@code .../date=2026-11-02/cat/x.jpg}), or null if it has none. */
    static LocalDate dateOf(String sourceUri) {
        Matcher m = DATE.matcher(sourceUri);
        LocalDate found = null;
        while (m.find()) {
            try {
                found = LocalDate.parse(m.group(1)); // the innermost date= folder wins
            } catch (java.time.format.DateTimeParseException e) {
                return null;
            }
        }
        return found;
    }

    /** Partitions dated (night - days, night]; days = 0 means every partition up to the night. */
    static boolean inWindow(LocalDate date, LocalDate night, int days) {
        return date != null && !date.isAfter(night) && (days == 0 || date.isAfter(night.minusDays(days)));
    }

    /**
     * Writes {@code out}/dataset.json and manifest.csv for the window.
     *
     * @param nightly        the nightly dataset (ingested from the landing area)
     * @param holdout        the holdout dataset's root; its {@code holdoutSplit} becomes split {@code holdout}
     * @param holdoutHashes  sha256 of every holdout image: a landing image identical to one never trains
     * @param dates          partition date of each source URI (manifest landing), or null to read it from the URI
     * @param mean           normalisation the candidate uses (the production lineage's, so a warm start sees the same inputs)
     */
    public static Summary write(Path nightlyRoot, DatasetDescriptor nightly, String trainSplit, Path holdoutRoot,
                                DatasetDescriptor holdout, String holdoutSplit, LocalDate night, int days,
                                Map<String, LocalDate> dates, java.util.Set<String> holdoutHashes, double[] mean, double[] std, Path out, Configuration conf) throws IOException {
        requireFiles(holdoutRoot, holdout);
        List<String> rows = new ArrayList<>();
        TreeSet<String> partitions = new TreeSet<>();
        Map<String, Long> perClass = new LinkedHashMap<>();
        for (String c : holdout.classes()) perClass.put(c, 0L);
        MessageDigest md = Hashing.sha256();
        long undated = 0, holdoutCopies = 0;
        Path sources = new Path(nightlyRoot, nightly.sources() == null ? ImageIngest.SOURCES : nightly.sources());
        List<Outcome> outcomes = new ArrayList<>();
        for (String line : HadoopFs.readString(sources, conf).split("\n")) {
            if (!line.isBlank()) outcomes.add(Json.read(line, Outcome.class));
        }
        outcomes.sort(java.util.Comparator.comparing(Outcome::source));
        for (Outcome o : outcomes) {
            if (!o.ok() || !trainSplit.equals(o.split())) continue;
            LocalDate date = dates != null ? dates.get(o.source()) : dateOf(o.source());
            if (date == null) {
                undated++;
                continue;
            }
            if (!inWindow(date, night, days)) continue;
            if (holdoutHashes.contains(o.sha256())) {
                holdoutCopies++; // training on a holdout image would flatter the candidate in the very comparison
                continue;
            }
            partitions.add("date=" + date);
            rows.add(ManifestCsv.line(absolute(nightlyRoot, o.path()), o.label(), TRAIN));
            perClass.merge(o.label(), 1L, Long::sum);
            md.update((o.source() + " " + o.sha256() + "\n").getBytes(StandardCharsets.UTF_8));
        }
        long images = rows.size();
        String contentHash = Hashing.hex(md);

        // The holdout, by absolute URI too.
        Map<String, Long> holdoutPerClass = new LinkedHashMap<>();
        for (String c : holdout.classes()) holdoutPerClass.put(c, 0L);
        long holdoutImages = 0;
        for (String line : ManifestCsv.lines(HadoopFs.readString(new Path(holdoutRoot, holdout.manifest()), conf))) {
            ManifestCsv.Row f = ManifestCsv.row(line);
            if (ManifestCsv.isHeader(line) || !holdoutSplit.equals(f.split())) continue;
            rows.add(ManifestCsv.line(absolute(holdoutRoot, f.path()), f.label(), HOLDOUT));
            holdoutPerClass.merge(f.label(), 1L, Long::sum);
            holdoutImages++;
        }

        Map<String, Long> splits = new LinkedHashMap<>();
        splits.put(TRAIN, images);
        splits.put(HOLDOUT, holdoutImages);
        Map<String, Map<String, Long>> classCounts = new TreeMap<>();
        classCounts.put(TRAIN, perClass);
        classCounts.put(HOLDOUT, holdoutPerClass);
        LocalDate from = days == 0 ? null : night.minusDays(days - 1L);
        DatasetDescriptor d = DatasetWriter.write(out, rows, new DatasetWriter.Description("window "
                + (from == null ? "" : from + " ") + "to " + night, "retrain-window").classes(holdout.classes())
                .geometry(holdout.channels(), holdout.height(), holdout.width()).counts(splits, classCounts)
                .normalisation(mean, std).source(nightly.source(), contentHash).preparation(holdout.preparation()), conf);
        return new Summary(from, night, List.copyOf(partitions), images, undated, holdoutCopies, holdoutImages, contentHash, d);
    }

    /**
     * The sha256 of every image of the holdout split, as the ingest hashes sources: from the holdout's sources.jsonl
     * when it has one (hashes of the original files), else computed on the executors from its ingested images.
     */
    public static java.util.Set<String> holdoutHashes(org.apache.spark.api.java.JavaSparkContext sc, Path root,
                                                     DatasetDescriptor holdout, String split) throws IOException {
        Configuration conf = sc.hadoopConfiguration();
        requireFiles(root, holdout);
        java.util.Set<String> hashes = new java.util.HashSet<>();
        if (holdout.sources() != null && HadoopFs.exists(new Path(root, holdout.sources()), conf)) {
            for (String line : HadoopFs.readString(new Path(root, holdout.sources()), conf).split("\n")) {
                if (line.isBlank()) continue;
                Outcome o = Json.read(line, Outcome.class);
                if (o.ok() && split.equals(o.split())) hashes.add(o.sha256());
            }
            return hashes;
        }
        String rootUri = root.toString();
        io.sparkvision.io.SerializableHadoopConf shc = new io.sparkvision.io.SerializableHadoopConf(conf);
        hashes.addAll(sc.textFile(new Path(root, holdout.manifest()).toString())
                .filter(line -> !ManifestCsv.isHeader(line)).map(ManifestCsv::row).filter(r -> split.equals(r.split()))
                .map(r -> {
                    Path p = new Path(rootUri, r.path());
                    return Hashing.sha256(HadoopFs.readAll(p, shc.get()));
                }).collect());
        return hashes;
    }

    /** The training rows of a window written by {@link #write} (empty if there is none). */
    public static java.util.Set<String> trainRows(Path windowDir, Configuration conf) throws IOException {
        Path manifest = new Path(windowDir, DatasetDescriptor.MANIFEST);
        java.util.Set<String> rows = new java.util.HashSet<>();
        if (!HadoopFs.exists(manifest, conf)) return rows;
        for (String line : ManifestCsv.lines(HadoopFs.readString(manifest, conf))) {
            if (TRAIN.equals(ManifestCsv.row(line).split())) rows.add(line);
        }
        return rows;
    }

    /**
     * Whether every training image of {@code tonight}'s window was in the {@code last} window too. Windows of the two
     * kinds (a manifest of URIs, shard rows) are compared by what they list: manifest lines, or (source, sha256,
     * label) rows in Spark; a manifest window against a sharded one (the night a registry moved to shards) is never
     * covered, so that night trains.
     */
    public static boolean coveredBy(org.apache.spark.api.java.JavaSparkContext sc, Path tonight, Path last)
            throws IOException {
        Configuration conf = sc.hadoopConfiguration();
        org.apache.spark.sql.SparkSession spark = org.apache.spark.sql.SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        var mine = ShardedWindow.trainKeys(spark, tonight, conf);
        var before = ShardedWindow.trainKeys(spark, last, conf);
        if (mine != null && before != null) return mine.except(before).isEmpty();
        if (mine != null || before != null) return false;
        return trainRows(last, conf).containsAll(trainRows(tonight, conf));
    }

    /** This writer lists images one by one by URI: datasets stored as Parquet shards go through {@link ShardedWindow}. */
    static void requireFiles(Path root, DatasetDescriptor d) {
        if (d.sharded()) {
            throw new IllegalArgumentException(root + " is stored as Parquet shards; its training window is cut by "
                    + "ShardedWindow.write, not from files");
        }
    }

    private static String absolute(Path root, String relative) {
        return new Path(root, relative).toString();
    }
}
