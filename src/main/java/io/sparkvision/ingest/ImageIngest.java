package io.sparkvision.ingest;

import io.sparkvision.io.ArchiveReader;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.io.SerializableHadoopConf;
import io.sparkvision.util.Hashing;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Ingests class-folder trees ({@code image-folder}, archives included) and CSV manifests ({@code manifest}) into the
 * product's dataset layout: {@code <split>/<class>/<name>.png}, manifest.csv, dataset.json, plus sources.jsonl
 * (what was ingested, so a re-run only reads what is new) and ingest-report.json (what was skipped and why).
 * Listing and validation run on the driver before any Spark work; decoding runs on the executors.
 */
public final class ImageIngest {
    public static final String SOURCES = "sources.jsonl";
    private static final int MAX_FILES_PER_TASK = 1000;

    private ImageIngest() {
    }

    /** What an ingest run did. */
    public record Result(DatasetDescriptor descriptor, IngestReport report, boolean nothingNew, double seconds) {
    }

    /**
     * How the dataset is stored: {@link DatasetStorage#PARQUET} shards (of {@code shardMb} MB, images {@code encoding})
     * or {@link DatasetStorage#PNG_FILES}, the earlier one-PNG-per-image layout.
     */
    public record Storage(String layout, String encoding, int shardMb) implements java.io.Serializable {
        public static final Storage DEFAULT = new Storage(DatasetStorage.PARQUET, DatasetStorage.RAW, 128);
        public static final Storage PNG_FILES = new Storage(DatasetStorage.PNG_FILES, null, 0);

        public Storage {
            if (!DatasetStorage.PARQUET.equals(layout) && !DatasetStorage.PNG_FILES.equals(layout)) {
                throw new IllegalArgumentException("ingest.layout = " + layout + ": expected parquet or png-files");
            }
        }
    }

    /** Ingest into the default storage, Parquet shards of raw images. */
    public static Result run(JavaSparkContext sc, String format, String source, String output, IngestSettings s,
                             String classIndexUri, int partitions, PrintStream log) throws IOException {
        return run(sc, format, source, output, s, Storage.DEFAULT, classIndexUri, partitions, log);
    }

    public static Result run(JavaSparkContext sc, String format, String source, String output, IngestSettings s,
                             Storage storage, String classIndexUri, int partitions, PrintStream log) throws IOException {
        long t0 = System.nanoTime();
        String startedAt = Instant.now().toString();
        Configuration conf = sc.hadoopConfiguration();
        Path src = checkSource(format, source, output, conf);
        Path out = HadoopFs.path(output);
        List<String> classIndex = classIndexUri == null || classIndexUri.isBlank() ? null : readClassIndex(classIndexUri, conf);
        if (DatasetStorage.PARQUET.equals(storage.layout())) {
            return ShardIngest.run(sc, format, src, out, output, s, storage.encoding(), storage.shardMb(), classIndex, partitions, log);
        }
        Previous before = Previous.read(out, output, src, s, conf);
        List<Work.Item> items = list(sc, format, src, out, s, classIndex, before.dataset(), log);
        List<Work.Item> todo = before.newOrChanged(items);
        if (todo.isEmpty() && before.dataset() != null) {
            log.printf("ingest: all %,d source files of %s were ingested before; nothing to do%n", items.size(), src);
            return new Result(before.dataset(), null, true, (System.nanoTime() - t0) / 1e9);
        }
        if (items.isEmpty()) throw noImages(format, src);
        List<Work> works = plan(todo, partitions > 0 ? partitions : sc.defaultParallelism() * 4);
        log.printf("ingest: %,d new or changed source files of %,d listed (%,d unchanged) from %s -> %s in %d tasks%n",
                todo.size(), items.size(), items.size() - todo.size(), src, out, works.size());
        List<Outcome> results = decode(sc, works, out, rootPath(format, src, conf), s);
        Set<String> trainClasses = skipUnknownClasses(results, before, classIndex, s.splits().get(0), out, conf);

        // Merge with what was there and write: images are already in place; sources, report, manifest, descriptor last.
        Map<String, Outcome> state = before.merged(results);
        StringBuilder sources = new StringBuilder();
        for (Outcome o : state.values()) sources.append(Json.line(o)).append('\n');
        HadoopFs.writeStringAtomically(new Path(out, SOURCES), sources.toString(), conf);
        IngestReport report = report(format, src, out, startedAt, t0, items.size(), items.size() - todo.size(), results);
        HadoopFs.writeStringAtomically(new Path(out, IngestReport.FILE_NAME), Json.pretty(report), conf);
        List<String> classes = classIndex(classIndex, before.dataset(), trainClasses);
        DatasetDescriptor d = writeDataset(format, state.values(), classes, s, src.toString(), rootPath(format, src, conf), conf, out);
        log.printf("ingest: read %,d images: %,d ingested, %,d skipped (see %s) in %.1f s%n", report.read(),
                report.ingested(), report.skipped(), new Path(out, IngestReport.FILE_NAME), report.seconds());
        return new Result(d, report, false, report.seconds());
    }

    static IllegalArgumentException noImages(String format, Path src) {
        return new IllegalArgumentException("ingest.source " + src + " holds no images: expected " + (format.equals("manifest")
                ? "rows path,label[,split]" : "<split>/<class>/<image> files or .zip/.tar/.tar.gz archives of them"));
    }

    /**
     * The dataset already at data.root (null if none), checked against this ingest: same source, split fractions,
     * channels and stored size.
     */
    static DatasetDescriptor existing(Path out, String output, Path src, IngestSettings s, Configuration conf) throws IOException {
        Path descriptorPath = new Path(out, DatasetDescriptor.FILE_NAME);
        if (!HadoopFs.exists(descriptorPath, conf)) return null;
        DatasetDescriptor existing = Json.read(HadoopFs.readString(descriptorPath, conf), DatasetDescriptor.class);
        if (!src.toString().equals(existing.source()) || (existing.sources() == null && !existing.sharded())) {
            throw new IllegalArgumentException(output + " already holds a different dataset (from " + existing.source()
                    + "); choose another data.root or delete it");
        }
        Map<String, Double> before = existing.splitFractions() == null ? Map.of() : existing.splitFractions();
        if (!before.equals(s.splitFractions().asMap())) {
            throw new IllegalArgumentException(output + " was ingested with ingest.split-fractions = "
                    + (before.isEmpty() ? "{} (not set)" : before) + "; this ingest gives " + (s.splitFractions().isEmpty()
                    ? "{} (not set)" : s.splitFractions()) + ". Its images keep the splits they have, so the new "
                    + "fractions would hold only for new files: use the same ingest.split-fractions, or another data.root");
        }
        if (existing.channels() != s.channels() || existing.height() != s.size()) {
            throw new IllegalArgumentException(output + " holds " + existing.channels() + "-channel "
                    + existing.width() + "x" + existing.height() + " images; this ingest would add " + s.channels()
                    + "-channel " + s.size() + "x" + s.size() + " ones. Use the same ingest.image-size and "
                    + "ingest.channels, or another data.root");
        }
        if (existing.preparation() != null && !existing.preparation().resize().equals(s.resize())) {
            throw new IllegalArgumentException(output + " holds images prepared with ingest.resize = "
                    + existing.preparation().resize() + "; this ingest would add " + s.resize() + " ones. Use the same "
                    + "ingest.resize, or another data.root");
        }
        return existing;
    }

    /** No credentials in either URI, and a source that exists. */
    private static Path checkSource(String format, String source, String output, Configuration conf) throws IOException {
        rejectCredentialsIn(source, "ingest.source");
        rejectCredentialsIn(output, "data.root");
        Path src = HadoopFs.path(source);
        if (!HadoopFs.exists(src, conf)) {
            throw new IllegalArgumentException("ingest.source " + src + " does not exist; point ingest.source at the "
                    + (format.equals("manifest") ? "manifest CSV file" : "folder holding <split>/<class>/ images"));
        }
        return src;
    }

    /** What earlier runs ingested into this data.root: its dataset (null if none) and each source file's outcome. */
    record Previous(DatasetDescriptor dataset, Map<String, Outcome> state) {
        static Previous read(Path out, String output, Path src, IngestSettings s, Configuration conf) throws IOException {
            Map<String, Outcome> state = new TreeMap<>();
            DatasetDescriptor existing = existing(out, output, src, s, conf);
            if (existing == null) return new Previous(null, state);
            if (existing.sharded()) {
                throw new IllegalArgumentException(output + " holds a Parquet-sharded dataset; ingest into it with "
                        + "ingest.layout = parquet, or choose another data.root for png-files");
            }
            for (String line : HadoopFs.readString(new Path(out, existing.sources()), conf).split("\n")) {
                if (!line.isBlank()) {
                    Outcome o = Json.read(line, Outcome.class);
                    state.put(o.source(), o);
                }
            }
            return new Previous(existing, state);
        }

        /** The listed files not ingested before, or changed since (size or modification time). */
        List<Work.Item> newOrChanged(List<Work.Item> items) {
            List<Work.Item> todo = new ArrayList<>();
            for (Work.Item it : items) {
                Outcome before = state.get(it.uri());
                if (before == null || before.size() != it.size() || before.mtime() != it.mtime()) todo.add(it);
            }
            return todo;
        }

        /** Every source's outcome after this run: tonight's replace earlier ones of the same file. */
        Map<String, Outcome> merged(List<Outcome> results) {
            Map<String, Outcome> all = new TreeMap<>(state);
            for (Outcome o : results) all.put(o.source(), o);
            return all;
        }
    }

    /** Lists and validates the source, before any heavy work. */
    static List<Work.Item> list(JavaSparkContext sc, String format, Path src, Path out, IngestSettings s,
                                        List<String> classIndex, DatasetDescriptor existing, PrintStream log) throws IOException {
        Configuration conf = sc.hadoopConfiguration();
        List<Work.Item> items = format.equals("manifest") ? ManifestSource.list(sc, src, conf, s, log) : listFolder(src, conf, s, out);
        validateClasses(items, s.splits().get(0), classIndex, existing, src);
        if (!s.splitFractions().isEmpty()) logSplits(items, s, log);
        return items;
    }

    /** The executors decode, prepare and write the images; each source file's outcome comes back. */
    private static List<Outcome> decode(JavaSparkContext sc, List<Work> works, Path out, String rootPath, IngestSettings s) {
        SerializableHadoopConf shc = new SerializableHadoopConf(sc.hadoopConfiguration());
        String outUri = out.toString();
        return new ArrayList<>(sc.parallelize(works, works.size())
                .flatMap(w -> IngestTask.run(w, outUri, rootPath, s, shc.get()).iterator())
                .collect());
    }

    /**
     * Archive entries are only seen by executors: checks their classes now, as the listing did for files. An image
     * of a class outside the index is deleted and its outcome turned into a skip. Returns the train split's classes.
     */
    private static Set<String> skipUnknownClasses(List<Outcome> results, Previous before, List<String> classIndex,
                                                  String trainSplit, Path out, Configuration conf) throws IOException {
        Set<String> trainClasses = new TreeSet<>();
        if (before.dataset() != null) trainClasses.addAll(before.dataset().classes());
        for (Outcome o : before.state().values()) if (o.ok() && trainSplit.equals(o.split())) trainClasses.add(o.label());
        for (Outcome o : results) if (o.ok() && trainSplit.equals(o.split())) trainClasses.add(o.label());
        Set<String> allowed = classIndex != null ? new LinkedHashSet<>(classIndex) : trainClasses;
        FileSystem fs = HadoopFs.fs(out, conf);
        for (int i = 0; i < results.size(); i++) {
            Outcome o = results.get(i);
            if (o.ok() && !allowed.contains(o.label())) {
                fs.delete(new Path(out, o.path()), false);
                results.set(i, o.asSkipped("class '" + o.label() + "' is not in the class index " + (classIndex != null
                        ? "(ingest.class-index)" : "(no '" + trainSplit + "' images of it)") + "; add it there or remove the image"));
            }
        }
        return trainClasses;
    }

    public static void rejectCredentialsIn(String uri, String key) {
        if (uri.matches("^[A-Za-z][A-Za-z0-9+.-]*://[^/]*@.*")) {
            throw new IllegalArgumentException(key + " has credentials in its URI; they would be written to logs and "
                    + "reports. Remove them and set fs.s3a.access.key / fs.s3a.secret.key (spark.hadoop.* in "
                    + "conf/spark-defaults.conf) or use an AWS credentials provider");
        }
    }

    static List<String> readClassIndex(String uri, Configuration conf) throws IOException {
        Path p = HadoopFs.path(uri);
        if (!HadoopFs.exists(p, conf)) {
            throw new IllegalArgumentException("ingest.class-index " + p + " does not exist; give a text file with one class per line");
        }
        List<String> out = new ArrayList<>();
        for (String line : HadoopFs.readString(p, conf).split("\n")) if (!line.isBlank()) out.add(line.trim());
        if (new LinkedHashSet<>(out).size() != out.size()) {
            throw new IllegalArgumentException("ingest.class-index " + p + " lists a class twice; each class once, in label-id order");
        }
        return out;
    }

    /** Lists a folder tree on the driver: every visible file is an image of split/class, or an archive of them. */
    static List<Work.Item> listFolder(Path root, Configuration conf, IngestSettings s, Path output) throws IOException {
        FileSystem fs = HadoopFs.fs(root, conf);
        Path qualifiedRoot = fs.makeQualified(root);
        String outPrefix = outPrefix(output, conf);
        String rootStr = SourcePaths.rootPath(qualifiedRoot);
        List<Work.Item> items = new ArrayList<>();
        Set<String> classDirsWithFiles = new TreeSet<>();
        Set<String> splitDirs = new TreeSet<>();
        try {
            for (Listing.File f : Listing.files(qualifiedRoot, conf)) {
                Listed l = classify(f, rootStr, outPrefix, s);
                if (l == null) continue;
                if (l.splitDir() != null) splitDirs.add(l.splitDir());
                if (l.classDir() != null) classDirsWithFiles.add(l.classDir());
                items.add(l.item());
            }
        } catch (FileNotFoundException | java.nio.file.AccessDeniedException | org.apache.hadoop.security.AccessControlException e) {
            throw cannotList(root, e);
        } catch (IOException e) {
            throw new IOException("cannot list " + root + ": " + e.getMessage(), e);
        }
        checkNoEmptyClassFolders(fs, qualifiedRoot, splitDirs, classDirsWithFiles);
        items.sort(Comparator.comparing(Work.Item::uri));
        return items;
    }

    static IllegalArgumentException cannotList(Path root, Exception e) {
        return new IllegalArgumentException("cannot list " + root + ": " + e.getMessage()
                + "; make every folder under it readable by the Spark user (or remove the broken entry)", e);
    }

    /** data.root as a prefix: data.root inside ingest.source must not be ingested as more source on the next run. */
    static String outPrefix(Path output, Configuration conf) throws IOException {
        return HadoopFs.fs(output, conf).makeQualified(output).toString().replaceAll("/+$", "") + "/";
    }

    /**
     * A listed file as an ingest item, with the split folder and class folder it lies in (relative to the root; null
     * where none): null for files to ignore (under data.root, hidden, Hadoop's _SUCCESS).
     */
    record Listed(Work.Item item, String splitDir, String classDir) {
    }

    static Listed classify(Listing.File f, String rootStr, String outPrefix, IngestSettings s) {
        if (f.uri().startsWith(outPrefix)) return null;
        String rel = new Path(f.uri()).toUri().getPath().substring(rootStr.length()).replaceAll("^/+", "");
        List<String> parts = List.of(rel.split("/"));
        if (parts.stream().anyMatch(c -> c.startsWith(".") || c.startsWith("_"))) return null; // hidden, _SUCCESS
        List<String> dirs = parts.subList(0, parts.size() - 1);
        // Folders that hold a file (even one skipped later) are not empty class folders.
        String splitDir = null, classDir = null;
        for (int i = 0; i < dirs.size(); i++) {
            if (s.splits().contains(dirs.get(i))) {
                splitDir = String.join("/", dirs.subList(0, i + 1));
                if (i + 1 < dirs.size()) classDir = String.join("/", dirs.subList(0, i + 2));
                break;
            }
        }
        if (f.brokenLink() != null) {
            return new Listed(new Work.Item(f.uri(), 0, 0, null, "broken symbolic link to " + f.brokenLink()
                    + ": restore its target or delete the link", null), splitDir, classDir);
        }
        if (ArchiveReader.isArchive(parts.get(parts.size() - 1))) {
            return new Listed(new Work.Item(f.uri(), f.size(), f.mtime(), null, null, List.copyOf(dirs)), splitDir, classDir);
        }
        String[] sc = Layout.splitAndClass(dirs, rel, s);
        // With no class, the reason rides in the label slot and the task reports the file as skipped.
        return new Listed(new Work.Item(f.uri(), f.size(), f.mtime(), sc[0], sc[1], null), splitDir, classDir);
    }

    /** Class folders with no image in them: a class the model could never learn. Named before any image is read. */
    static void checkNoEmptyClassFolders(FileSystem fs, Path qualifiedRoot, Set<String> splitDirs, Set<String> classDirsWithFiles)
            throws IOException {
        List<String> empty = new ArrayList<>();
        for (String split : splitDirs) {
            for (FileStatus st : fs.listStatus(new Path(qualifiedRoot, split))) {
                String name = st.getPath().getName();
                if (st.isDirectory() && !name.startsWith(".") && !name.startsWith("_")
                        && !classDirsWithFiles.contains(split + "/" + name)) {
                    empty.add(new Path(qualifiedRoot, split + "/" + name).toString());
                }
            }
        }
        if (!empty.isEmpty()) {
            throw new IllegalArgumentException("empty class folder(s) " + empty + ": add images to them or delete them");
        }
    }

    /** With ingest.split-fractions: how the listed files fell (archive entries are split on the executors). */
    private static void logSplits(List<Work.Item> items, IngestSettings s, PrintStream log) {
        Map<String, Long> bySplit = new TreeMap<>();
        for (Work.Item it : items) if (it.split() != null) bySplit.merge(it.split(), 1L, Long::sum);
        log.printf("ingest: splits by folder, manifest column or ingest.split-fractions %s: %s%n", s.splitFractions(), bySplit);
    }

    /** Non-train splits may only have classes of the train split (or of the given class index). */
    static void validateClasses(List<Work.Item> items, String trainSplit, List<String> classIndex,
                                DatasetDescriptor existing, Path src) {
        Map<String, Set<String>> bySplit = new TreeMap<>();
        for (Work.Item it : items) {
            if (it.split() != null && it.label() != null) bySplit.computeIfAbsent(it.split(), k -> new TreeSet<>()).add(it.label());
        }
        validateClasses(bySplit, bad -> items.stream().filter(i -> bad.contains(i.label())).map(Work.Item::uri).findFirst().orElse(""),
                trainSplit, classIndex, existing, src);
    }

    /** The same check from each split's class set; {@code exampleOf} names one file of the given classes. */
    static void validateClasses(Map<String, Set<String>> bySplit, java.util.function.Function<Set<String>, String> exampleOf,
                                String trainSplit, List<String> classIndex, DatasetDescriptor existing, Path src) {
        if (classIndex != null) {
            Set<String> bad = new TreeSet<>();
            for (Set<String> cs : bySplit.values()) for (String c : cs) if (!classIndex.contains(c)) bad.add(c);
            if (!bad.isEmpty()) {
                String example = exampleOf.apply(bad);
                throw new IllegalArgumentException("classes " + bad + " of " + src + " are not in ingest.class-index (e.g. "
                        + example + "); add them to the index file or fix the labels");
            }
            return;
        }
        Set<String> train = new TreeSet<>(bySplit.getOrDefault(trainSplit, Set.of()));
        if (existing != null) train.addAll(existing.classes());
        for (Map.Entry<String, Set<String>> e : bySplit.entrySet()) {
            if (e.getKey().equals(trainSplit)) continue;
            Set<String> extra = new TreeSet<>(e.getValue());
            extra.removeAll(train);
            if (!extra.isEmpty()) {
                throw new IllegalArgumentException("split '" + e.getKey() + "' of " + src + " has classes " + extra
                        + " that the '" + trainSplit + "' split does not have: the model could never predict them. Add "
                        + trainSplit + " images of them, remove them from '" + e.getKey() + "', or set ingest.class-index");
            }
        }
    }

    /** Files in batches of at most 1,000 (a failed task redoes little); each archive alone. */
    static List<Work> plan(List<Work.Item> todo, int partitions) {
        List<Work.Item> files = todo.stream().filter(i -> i.prefix() == null).collect(Collectors.toList());
        List<Work> works = new ArrayList<>();
        int tasks = Math.max(1, Math.max(Math.min(partitions, files.size()), (files.size() + MAX_FILES_PER_TASK - 1) / MAX_FILES_PER_TASK));
        for (int t = 0; t < tasks && !files.isEmpty(); t++) {
            int from = (int) ((long) files.size() * t / tasks), to = (int) ((long) files.size() * (t + 1) / tasks);
            if (to > from) works.add(Work.ofFiles(files.subList(from, to)));
        }
        for (Work.Item a : todo) if (a.prefix() != null) works.add(Work.ofArchive(a));
        return works;
    }

    /** The persisted index first (ids never move), then the given index or the new train classes, sorted. */
    static List<String> classIndex(List<String> given, DatasetDescriptor existing, Set<String> trainClasses) {
        List<String> classes = new ArrayList<>(existing == null ? List.of() : existing.classes());
        if (given != null) {
            if (!given.subList(0, Math.min(given.size(), classes.size())).equals(classes)) {
                throw new IllegalArgumentException("ingest.class-index does not start with the dataset's existing class index "
                        + classes + ": label ids would change. Keep the existing order and append new classes");
            }
            return List.copyOf(given);
        }
        for (String c : new TreeSet<>(trainClasses)) if (!classes.contains(c)) classes.add(c);
        return classes;
    }

    /** Source names are relative to this path: the folder ingested, or the manifest CSV's folder. */
    static String rootPath(String format, Path src, Configuration conf) throws IOException {
        Path root = format.equals("manifest") ? src.getParent() : src;
        return SourcePaths.rootPath(HadoopFs.fs(root, conf).makeQualified(root));
    }

    /** manifest.csv and dataset.json (last) of every image ingested so far, with the train split's statistics. */
    static DatasetDescriptor writeDataset(String format, Iterable<Outcome> all, List<String> classes, IngestSettings s,
                                          String source, String rootPath, Configuration conf, Path out) throws IOException {
        int ch = s.channels();
        String trainSplit = s.splits().get(0);
        double[] sum = new double[2 * ch];
        long pixels = 0;
        Comparator<String> splitOrder = Comparator.comparingInt((String x) -> s.splits().contains(x)
                ? s.splits().indexOf(x) : Integer.MAX_VALUE).thenComparing(x -> x);
        Map<String, Long> splits = new TreeMap<>(splitOrder);
        Map<String, Map<String, Long>> classCounts = new TreeMap<>(splitOrder);
        List<String> rows = new ArrayList<>();
        MessageDigest md = Hashing.sha256();
        for (Outcome o : all) {
            if (!o.ok()) continue;
            rows.add(o.split() + "\u0000" + ManifestCsv.line(o.path(), o.label(), o.split()));
            splits.merge(o.split(), 1L, Long::sum);
            Map<String, Long> perClass = classCounts.computeIfAbsent(o.split(), k -> {
                Map<String, Long> m = new LinkedHashMap<>();
                for (String c : classes) m.put(c, 0L);
                return m;
            });
            perClass.merge(o.label(), 1L, Long::sum);
            // Relative names: the same images give the same hash on every store (the schema: "hash of the source bytes").
            md.update((SourcePaths.relative(o.source(), rootPath) + " " + o.sha256() + "\n").getBytes(StandardCharsets.UTF_8));
            if (trainSplit.equals(o.split()) && o.sums() != null) {
                for (int i = 0; i < sum.length; i++) sum[i] += o.sums()[i];
                pixels += o.pixels();
            }
        }
        rows.sort(Comparator.naturalOrder()); // by split, then path
        rows.replaceAll(r -> r.substring(r.indexOf('\u0000') + 1));
        double[] mean = new double[ch], std = new double[ch];
        for (int c = 0; c < ch; c++) {
            mean[c] = pixels == 0 ? 0 : sum[c] / pixels;
            std[c] = pixels == 0 ? 1 : Math.sqrt(Math.max(0, sum[ch + c] / pixels - mean[c] * mean[c]));
        }
        String name = new Path(source).getName();
        return DatasetWriter.write(out, rows, new DatasetWriter.Description(name.isEmpty() ? "images" : name, format)
                .classes(classes).geometry(ch, s.size(), s.size()).counts(splits, classCounts).normalisation(mean, std)
                .source(source, Hashing.hex(md)).ingestFiles(SOURCES, IngestReport.FILE_NAME)
                .splitFractions(s.splitFractions().asMap()).preparation(s.preparation()), conf);
    }

    static IngestReport report(String format, Path src, Path out, String startedAt, long t0, long listed, long unchanged,
                               List<Outcome> results) {
        List<IngestReport.Skip> skips = new ArrayList<>();
        long ingested = 0;
        for (Outcome o : results) {
            if (o.archive()) continue;
            if (o.reason() != null) skips.add(new IngestReport.Skip(o.source(), o.reason()));
            else ingested++;
        }
        skips.sort(Comparator.comparing(IngestReport.Skip::path));
        return new IngestReport(1, format, src.toString(), out.toString(), startedAt, Instant.now().toString(),
                (System.nanoTime() - t0) / 1e9, listed, unchanged, ingested + skips.size(), ingested, skips.size(), skips, List.of(), null);
    }
}
