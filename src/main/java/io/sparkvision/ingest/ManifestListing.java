package io.sparkvision.ingest;

import io.sparkvision.io.HadoopFs;
import io.sparkvision.io.SerializableHadoopConf;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.when;

/**
 * A manifest source (CSV, or Parquet with columns path, label[, split]) read by the executors, for the parquet
 * layout: what {@link ManifestSource#list} does on the driver, with the same rules, splits and messages, but the
 * rows are parsed, resolved against the manifest's folder and checked by tasks, and the folder is listed by tasks
 * (as {@link ParallelListing} lists an image folder: the driver lists folder names of two levels only). Each row's
 * file is found in that listing by a join (one listing instead of a metadata call per image, which matters on S3);
 * a full URI outside the folder is looked up by the task that holds its row. The driver gets back aggregates only:
 * counts, each split's class set, and the first bad rows for the error. Jobs run here carry {@link #JOB_DESCRIPTION}.
 */
final class ManifestListing {
    static final String JOB_DESCRIPTION = "ingest: read and check the manifest";
    /** One manifest row, resolved: its position and name for messages, its file, or why the row is bad. */
    private static final StructType RESOLVED = new StructType()
            .add("line", DataTypes.LongType, false).add("where", DataTypes.StringType, false)
            .add("rel", DataTypes.StringType).add("uri", DataTypes.StringType).add("full", DataTypes.BooleanType)
            .add("split", DataTypes.StringType).add("label", DataTypes.StringType).add("error", DataTypes.StringType);
    private static final StructType FILE = new StructType()
            .add("luri", DataTypes.StringType, false).add("lsize", DataTypes.LongType, false)
            .add("lmtime", DataTypes.LongType, false);
    /** How many bad rows the error names after the first. */
    private static final int MORE_BAD_ROWS = 3;

    private ManifestListing() {
    }

    static ParallelListing.Listed list(JavaSparkContext sc, Path source, Path out, IngestSettings s, List<String> classIndex,
                                       DatasetDescriptor existing, PrintStream log) throws IOException {
        Configuration conf = sc.hadoopConfiguration();
        Path csv = new Path(source.toString().replaceAll("/+$", "")); // a local folder's URI ends with '/'
        FileSystem fs = HadoopFs.fs(csv, conf);
        boolean parquet = csv.getName().toLowerCase(Locale.ROOT).endsWith(".parquet");
        if (fs.getFileStatus(csv).isDirectory() && !parquet) {
            throw new IllegalArgumentException("ingest.format = manifest but ingest.source " + csv + " is a folder; point it "
                    + "at the CSV file, or use ingest.format = image-folder");
        }
        Path dir = fs.makeQualified(csv).getParent();
        long t0 = System.nanoTime();
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        SerializableHadoopConf shc = new SerializableHadoopConf(conf);
        String previousDescription = sc.getLocalProperty("spark.job.description");
        sc.setJobDescription(JOB_DESCRIPTION);
        Dataset<Row> resolved = null, items = null;
        try {
            resolved = markDuplicates(spark.createDataFrame(rows(sc, spark, csv, parquet, dir, s, shc), RESOLVED))
                    .persist(StorageLevel.MEMORY_AND_DISK());
            failOnBadRows(resolved);

            List<ParallelListing.Folder> folders = ParallelListing.folders(dir, "\u0000", false, conf);
            JavaRDD<Row> files = sc.parallelize(folders, Math.max(1, Math.min(folders.size(), sc.defaultParallelism() * 8)))
                    .flatMap(f -> listFolder(f, shc.get()).iterator());
            Dataset<Row> found = resolved.join(spark.createDataFrame(files, FILE), col("uri").equalTo(col("luri")), "left_outer");
            JavaRDD<Row> itemRows = found.select("uri", "rel", "full", "where", "split", "label", "lsize", "lmtime")
                    .javaRDD().mapPartitions(rs -> items(rs, shc.get()));
            items = spark.createDataFrame(itemRows, ShardIngest.ITEM).persist(StorageLevel.MEMORY_AND_DISK());
            long count = items.count();
            log.printf("ingest: manifest %s lists %,d images%n", csv, count);
            check(items, resolved, s, classIndex, existing, source, log);
            log.printf("ingest: read, resolved and found the manifest's rows on the executors in %.1f s%n",
                    (System.nanoTime() - t0) / 1e9);
            return new ParallelListing.Listed(items, count, folders.size(), items);
        } catch (Exception e) { // a failed job is a SparkException, which Java cannot name in a catch here
            if (items != null) items.unpersist(false);
            throw ParallelListing.rethrow(e, dir);
        } finally {
            if (resolved != null) resolved.unpersist(false);
            sc.setJobDescription(previousDescription);
        }
    }

    /** The manifest's rows, parsed and resolved by the tasks that read them; null rows (comments, header) dropped. */
    private static JavaRDD<Row> rows(JavaSparkContext sc, SparkSession spark, Path csv, boolean parquet, Path dir,
                                     IngestSettings s, SerializableHadoopConf shc) {
        String file = csv.toString(), dirUri = dir.toString();
        if (!parquet) {
            // zipWithIndex numbers the lines across splits of the file (one small job counts each split's lines).
            return sc.textFile(file).zipWithIndex().mapPartitions(it -> {
                Resolver r = new Resolver(file, dirUri, s, shc.get());
                List<Row> out = new ArrayList<>();
                while (it.hasNext()) {
                    scala.Tuple2<String, Long> t = it.next();
                    Row row = r.csvRow(t._1(), t._2());
                    if (row != null) out.add(row);
                }
                return out.iterator();
            });
        }
        Dataset<Row> df = spark.read().parquet(file);
        List<String> cols = List.of(df.columns());
        if (!cols.contains("path") || !cols.contains("label")) {
            throw new IllegalArgumentException(file + " has columns " + cols + "; a Parquet manifest needs string columns "
                    + "path and label (and optionally split)");
        }
        boolean hasSplit = cols.contains("split");
        Column[] picked = hasSplit ? new Column[] {df.col("path"), df.col("label"), df.col("split")}
                : new Column[] {df.col("path"), df.col("label")};
        return df.select(picked).javaRDD().zipWithIndex().mapPartitions(it -> {
            Resolver r = new Resolver(file, dirUri, s, shc.get());
            List<Row> out = new ArrayList<>();
            while (it.hasNext()) {
                scala.Tuple2<Row, Long> t = it.next();
                out.add(r.parquetRow(t._1(), t._2(), hasSplit));
            }
            return out.iterator();
        });
    }

    /** Executor side: ManifestSource's per-row rules (the same messages), for the rows of one task. */
    private static final class Resolver {
        final String file;
        final Path dir;
        final IngestSettings s;
        final FileSystem fs;

        Resolver(String file, String dirUri, IngestSettings s, Configuration conf) {
            this.file = file;
            this.dir = new Path(dirUri);
            this.s = s;
            this.fs = HadoopFs.fs(dir, conf);
        }

        Row csvRow(String raw, long n) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || (n == 0 && ManifestCsv.isHeader(line))) return null;
            String[] f = ManifestCsv.dataFields(line);
            String where = file + " line " + (n + 1);
            if (f.length < 2 || f.length > 3 || f[0].isBlank() || f[1].isBlank()) {
                return bad(n, where, where + ": '" + line + "' is not path,label[,split]; fix the row "
                        + "(quote a path or label that holds a comma: \"a,b.jpg\")");
            }
            return resolve(n, where, f[0], f[1], f.length == 3 ? f[2] : null);
        }

        Row parquetRow(Row r, long n, boolean hasSplit) {
            String where = file + " row " + (n + 1);
            String path = r.isNullAt(0) ? "" : String.valueOf(r.get(0));
            String label = r.isNullAt(1) ? "" : String.valueOf(r.get(1));
            if (path.isBlank() || label.isBlank()) {
                return bad(n, where, where + ": path '" + path + "', label '" + label + "': both must be non-empty; fix the row");
            }
            return resolve(n, where, path, label, hasSplit && !r.isNullAt(2) ? String.valueOf(r.get(2)) : null);
        }

        private Row resolve(long n, String where, String path, String rawLabel, String rawSplit) {
            String label = rawLabel.strip();
            String rel = path.strip();
            // Without a split column: ingest.default-split, or by ingest.split-fractions on the path as written.
            String split = rawSplit != null && !rawSplit.isBlank() ? rawSplit.strip() : s.splitOf(rel);
            if (label.equals(".") || label.equals("..") || label.contains("/") || split.contains("/") || split.equals("..")) {
                return bad(n, where, where + ": label '" + label + "' / split '" + split + "' cannot be a folder name; use plain names");
            }
            // A full URI has a scheme (hdfs://nn/x, s3a://b/x, and file:/x, which has no "//").
            boolean full = rel.contains("://") || rel.startsWith("file:");
            String uri = fs.makeQualified(full ? new Path(rel) : new Path(dir, rel)).toString();
            return RowFactory.create(n, where, rel, uri, full, split, label, null);
        }

        private static Row bad(long n, String where, String error) {
            return RowFactory.create(n, where, null, null, null, null, null, error);
        }
    }

    /** A file named twice is an error on its second and later rows, as the driver-side reader gives it. */
    private static Dataset<Row> markDuplicates(Dataset<Row> rows) {
        Column first = min(col("line")).over(Window.partitionBy("uri"));
        return rows.withColumn("error", when(col("error").isNull().and(col("uri").isNotNull())
                .and(col("line").gt(first)), concat(col("where"), lit(": "), col("rel"),
                        lit(" is listed twice; keep one row per image"))).otherwise(col("error")));
    }

    /** The first bad row in manifest order fails the ingest (as on the driver), naming the next few as well. */
    private static void failOnBadRows(Dataset<Row> resolved) {
        Dataset<Row> bad = resolved.filter(col("error").isNotNull());
        List<Row> first = bad.orderBy("line").select("error", "where").limit(1 + MORE_BAD_ROWS).collectAsList();
        if (first.isEmpty()) return;
        String message = first.get(0).getString(0);
        if (first.size() > 1) {
            long more = bad.count() - 1;
            List<String> next = new ArrayList<>();
            for (Row r : first.subList(1, first.size())) next.add(r.getString(1));
            message += " (" + more + " more bad row" + (more == 1 ? "" : "s") + ": " + String.join(", ", next)
                    + (more > next.size() ? ", ..." : "") + ")";
        }
        throw new IllegalArgumentException(message);
    }

    /** Executor side: one folder's files (not broken links: a row naming one is a missing file, as on the driver). */
    private static List<Row> listFolder(ParallelListing.Folder f, Configuration conf) {
        List<Listing.File> files;
        try {
            files = Listing.files(new Path(f.uri()), f.recursive(), conf);
        } catch (IOException e) {
            throw ImageIngest.cannotList(new Path(f.uri()), e);
        }
        List<Row> rows = new ArrayList<>(files.size());
        for (Listing.File file : files) {
            if (file.brokenLink() == null) rows.add(RowFactory.create(file.uri(), file.size(), file.mtime()));
        }
        return rows;
    }

    /** Executor side: ITEM rows; a full URI the folder listing did not hold is looked up here; a missing file is a skip. */
    private static Iterator<Row> items(Iterator<Row> rows, Configuration conf) throws IOException {
        List<Row> out = new ArrayList<>();
        while (rows.hasNext()) {
            Row r = rows.next();
            String uri = r.getString(0), rel = r.getString(1), where = r.getString(3);
            long size = 0, mtime = 0;
            boolean exists = !r.isNullAt(6);
            if (exists) {
                size = r.getLong(6);
                mtime = r.getLong(7);
            } else if (r.getBoolean(2)) {
                Path p = new Path(rel);
                try {
                    FileStatus st = HadoopFs.fs(p, conf).getFileStatus(p);
                    size = st.getLen();
                    mtime = st.getModificationTime();
                    exists = true;
                } catch (FileNotFoundException e) {
                    exists = false;
                }
            }
            out.add(exists ? RowFactory.create(uri, size, mtime, r.getString(4), r.getString(5), null)
                    : RowFactory.create(uri, 0L, 0L, null, "listed in the manifest (" + where + ") but the file does not "
                    + "exist; restore it or remove the row", null));
        }
        return out.iterator();
    }

    /** ImageIngest.list's checks for a manifest, from each split's class set (a few names per split). */
    private static void check(Dataset<Row> items, Dataset<Row> resolved, IngestSettings s, List<String> classIndex,
                              DatasetDescriptor existing, Path src, PrintStream log) {
        Dataset<Row> classified = items.filter(col("split").isNotNull().and(col("label").isNotNull()));
        Map<String, Set<String>> bySplit = new TreeMap<>();
        for (Row r : classified.select("split", "label").distinct().collectAsList()) {
            bySplit.computeIfAbsent(r.getString(0), k -> new TreeSet<>()).add(r.getString(1));
        }
        // The example named is the first such row of the manifest, as the driver-side check names it.
        ImageIngest.validateClasses(bySplit, bad -> resolved.filter(col("label").isin(bad.toArray()))
                        .join(classified.select(col("uri").as("found")), col("uri").equalTo(col("found")))
                        .orderBy("line").select("uri").first().getString(0),
                s.splits().get(0), classIndex, existing, src);
        if (!s.splitFractions().isEmpty()) {
            Map<String, Long> counts = new TreeMap<>();
            for (Row r : classified.groupBy("split").count().collectAsList()) counts.put(r.getString(0), r.getLong(1));
            log.printf("ingest: splits by folder, manifest column or ingest.split-fractions %s: %s%n", s.splitFractions(), counts);
        }
    }
}
