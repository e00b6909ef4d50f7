package io.sparkvision.ingest;

import io.sparkvision.io.HadoopFs;
import io.sparkvision.io.SerializableHadoopConf;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.apache.spark.sql.functions.col;

/**
 * An image-folder source listed by the executors, for the parquet layout: the driver lists only the folders of the
 * first two levels (for ImageNet: {@code train/}, {@code val/} and their 1,000 class folders each), never a file;
 * each folder of the second level is listed, recursively, by a task, and each folder above it (for the files lying
 * there) by another. Every listed file becomes a row of a persisted Dataset; the checks that need the whole listing
 * (empty class folders, classes a split lacks, the class index) run on aggregates of it of one row per class
 * folder. For 100 million images the driver so holds some thousands of folder names instead of 100 million file
 * statuses (measured in docs/scaling.md). Jobs run here carry the description {@link #JOB_DESCRIPTION}.
 */
final class ParallelListing {
    static final String JOB_DESCRIPTION = "ingest: list and check the source";
    /** Columns after ShardIngest's ITEM: the split folder and class folder a file lies in, relative to the root. */
    static final StructType LISTED = ShardIngest.ITEM.add("splitDir", DataTypes.StringType).add("classDir", DataTypes.StringType);

    private ParallelListing() {
    }

    /** A folder for one task to list; {@code recursive} for the second level, only its own files above it. */
    record Folder(String uri, boolean recursive) implements Serializable {
    }

    /**
     * The listed files (ShardIngest's ITEM columns) and how many; {@code cached} is the persisted Dataset they are read
     * from ({@link #release} when done: unpersisting a projection of it, such as {@code items}, frees nothing).
     */
    record Listed(Dataset<Row> items, long count, int folders, Dataset<Row> cached) {
        void release() {
            cached.unpersist(false);
        }
    }

    static Listed list(JavaSparkContext sc, Path src, Path out, IngestSettings s, List<String> classIndex,
                       DatasetDescriptor existing, PrintStream log) throws IOException {
        Configuration conf = sc.hadoopConfiguration();
        FileSystem fs = HadoopFs.fs(src, conf);
        Path root = fs.makeQualified(src);
        String outPrefix = ImageIngest.outPrefix(out, conf);
        String rootStr = SourcePaths.rootPath(root);
        long t0 = System.nanoTime();
        List<Folder> folders;
        try {
            folders = folders(root, outPrefix, conf);
        } catch (FileNotFoundException | java.nio.file.AccessDeniedException | org.apache.hadoop.security.AccessControlException e) {
            throw ImageIngest.cannotList(src, e);
        }
        SerializableHadoopConf shc = new SerializableHadoopConf(conf);
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        String before = sc.getLocalProperty("spark.job.description");
        sc.setJobDescription(JOB_DESCRIPTION);
        Dataset<Row> listed = null;
        try {
            JavaRDD<Row> rows = sc.parallelize(folders, Math.max(1, Math.min(folders.size(), sc.defaultParallelism() * 8)))
                    .flatMap(f -> listFolder(f, rootStr, outPrefix, s, shc.get()).iterator());
            listed = spark.createDataFrame(rows, LISTED).persist(StorageLevel.MEMORY_AND_DISK());
            long count = listed.count();
            check(fs, root, listed, s, classIndex, existing, src, log);
            log.printf("ingest: listed %,d files in %,d folders on the executors in %.1f s%n", count, folders.size(),
                    (System.nanoTime() - t0) / 1e9);
            return new Listed(listed.drop("splitDir", "classDir"), count, folders.size(), listed);
        } catch (Exception e) { // a failed job is a SparkException, which Java cannot name in a catch here
            if (listed != null) listed.unpersist(false);
            throw rethrow(e, src);
        } finally {
            sc.setJobDescription(before);
        }
    }

    /** A failed listing job as the driver-side listing would fail: an executor's "cannot list" is bad input. */
    static IOException rethrow(Exception e, Path src) throws IOException {
        String m = String.valueOf(e.getMessage());
        int at = m.indexOf("cannot list ");
        if (e instanceof SparkException && at >= 0) {
            int end = m.indexOf('\n', at);
            throw new IllegalArgumentException(m.substring(at, end < 0 ? m.length() : end), e);
        }
        if (e instanceof IOException io) throw io;
        if (e instanceof RuntimeException re) throw re;
        throw new IOException("listing " + src + " failed: " + m, e);
    }

    /** The checks ImageIngest.listFolder and validateClasses make, from one row per split/class folder and class. */
    private static void check(FileSystem fs, Path root, Dataset<Row> listed, IngestSettings s, List<String> classIndex,
                              DatasetDescriptor existing, Path src, PrintStream log) throws IOException {
        Set<String> splitDirs = new TreeSet<>(), classDirs = new TreeSet<>();
        Map<String, Set<String>> bySplit = new TreeMap<>();
        Dataset<Row> classified = listed.filter(col("split").isNotNull().and(col("label").isNotNull()));
        for (Row r : listed.select(col("splitDir"), col("classDir")).distinct().collectAsList()) {
            if (!r.isNullAt(0)) splitDirs.add(r.getString(0));
            if (!r.isNullAt(1)) classDirs.add(r.getString(1));
        }
        for (Row r : classified.select("split", "label").distinct().collectAsList()) {
            bySplit.computeIfAbsent(r.getString(0), k -> new TreeSet<>()).add(r.getString(1));
        }
        ImageIngest.checkNoEmptyClassFolders(fs, root, splitDirs, classDirs);
        ImageIngest.validateClasses(bySplit, bad -> classified.filter(col("label").isin(bad.toArray())).select("uri")
                .orderBy("uri").first().getString(0), s.splits().get(0), classIndex, existing, src);
        if (!s.splitFractions().isEmpty()) {
            Map<String, Long> counts = new TreeMap<>();
            for (Row r : classified.groupBy("split").count().collectAsList()) counts.put(r.getString(0), r.getLong(1));
            log.printf("ingest: splits by folder or ingest.split-fractions %s: %s%n", s.splitFractions(), counts);
        }
    }

    /** Driver side: the root and its sub-folders for their own files, the folders of the second level recursively. */
    static List<Folder> folders(Path root, String outPrefix, Configuration conf) throws IOException {
        return folders(root, outPrefix, true, conf);
    }

    /** The same; with {@code visibleOnly} false, hidden folders and data.root too (a manifest may name files there). */
    static List<Folder> folders(Path root, String outPrefix, boolean visibleOnly, Configuration conf) throws IOException {
        List<Folder> out = new ArrayList<>();
        out.add(new Folder(root.toString(), false));
        for (Path first : subfolders(root, outPrefix, visibleOnly, conf)) {
            out.add(new Folder(first.toString(), false));
            for (Path second : subfolders(first, outPrefix, visibleOnly, conf)) out.add(new Folder(second.toString(), true));
        }
        return out;
    }

    /** Visible folders directly in {@code dir} (not data.root, not symbolic links: a folder walk does not follow them). */
    private static List<Path> subfolders(Path dir, String outPrefix, boolean visibleOnly, Configuration conf) throws IOException {
        List<Path> out = new ArrayList<>();
        if ("file".equals(dir.toUri().getScheme())) {
            try (Stream<java.nio.file.Path> list = Files.list(Paths.get(dir.toUri()))) {
                for (java.nio.file.Path p : (Iterable<java.nio.file.Path>) list::iterator) {
                    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) out.add(new Path(dir, p.getFileName().toString()));
                }
            } catch (java.io.UncheckedIOException e) {
                throw e.getCause();
            }
        } else {
            // One page at a time: a folder with millions of files is streamed past, never held.
            RemoteIterator<FileStatus> it = HadoopFs.fs(dir, conf).listStatusIterator(dir);
            while (it.hasNext()) {
                FileStatus st = it.next();
                if (st.isDirectory()) out.add(st.getPath());
            }
        }
        if (visibleOnly) {
            out.removeIf(p -> p.getName().startsWith(".") || p.getName().startsWith("_") || (p + "/").startsWith(outPrefix));
        }
        out.sort(null);
        return out;
    }

    /** Executor side: one folder's files as rows, classified as the driver-side listing does. */
    private static List<Row> listFolder(Folder f, String rootStr, String outPrefix, IngestSettings s, Configuration conf) {
        List<Listing.File> files;
        try {
            files = Listing.files(new Path(f.uri()), f.recursive(), conf);
        } catch (IOException e) {
            throw ImageIngest.cannotList(new Path(f.uri()), e);
        }
        List<Row> rows = new ArrayList<>(files.size());
        for (Listing.File file : files) {
            ImageIngest.Listed l = ImageIngest.classify(file, rootStr, outPrefix, s);
            if (l == null) continue;
            Work.Item it = l.item();
            rows.add(RowFactory.create(it.uri(), it.size(), it.mtime(), it.split(), it.label(),
                    it.prefix() == null ? null : it.prefix().toArray(new String[0]), l.splitDir(), l.classDir()));
        }
        return rows;
    }
}
