package io.sparkvision.ingest;

import io.sparkvision.io.HadoopFs;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A CSV manifest (or a Parquet one, named *.parquet, with columns path, label[, split]): {@code path,label[,split]} rows (a header row starting with {@code path} is optional); paths are
 * relative to the CSV's folder or full URIs. The folder is listed once (one listing instead of a metadata call per
 * image, which matters on S3); rows whose file is missing are reported as skipped. Malformed rows fail the ingest
 * before any Spark work, naming the line. This driver-side reader serves the png-files layout; the parquet layout
 * reads a manifest on the executors with the same rules ({@link ManifestListing}).
 */
public final class ManifestSource {
    private ManifestSource() {
    }

    static List<Work.Item> list(JavaSparkContext sc, Path source, Configuration conf, IngestSettings s, PrintStream log) throws IOException {
        Path csv = new Path(source.toString().replaceAll("/+$", "")); // a local folder's URI ends with '/'
        FileSystem fs = HadoopFs.fs(csv, conf);
        boolean parquet = csv.getName().toLowerCase(java.util.Locale.ROOT).endsWith(".parquet");
        if (fs.getFileStatus(csv).isDirectory() && !parquet) {
            throw new IllegalArgumentException("ingest.format = manifest but ingest.source " + csv + " is a folder; point it "
                    + "at the CSV file, or use ingest.format = image-folder");
        }
        Path dir = fs.makeQualified(csv).getParent();
        Map<String, FileStatus> listed = new HashMap<>();
        for (Listing.File f : Listing.files(dir, conf)) {
            if (f.brokenLink() == null) listed.put(f.uri(), new FileStatus(f.size(), false, 1, 0, f.mtime(), new Path(f.uri())));
        }
        List<Work.Item> items = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (String[] f : parquet ? parquetRows(sc, csv) : csvRows(csv, conf)) {
            String where = f[0];
            String label = f[2].strip();
            // Without a split column: ingest.default-split, or by ingest.split-fractions on the path as written.
            String split = f[3] != null && !f[3].isBlank() ? f[3].strip() : s.splitOf(f[1].strip());
            if (label.equals(".") || label.equals("..") || label.contains("/") || split.contains("/") || split.equals("..")) {
                throw new IllegalArgumentException(where + ": label '" + label + "' / split '" + split
                        + "' cannot be a folder name; use plain names");
            }
            String rel = f[1].strip();
            // A full URI has a scheme (hdfs://nn/x, s3a://b/x, and file:/x, which has no "//").
            boolean full = rel.contains("://") || rel.startsWith("file:");
            Path p = full ? new Path(rel) : new Path(dir, rel);
            String uri = fs.makeQualified(p).toString();
            if (!seen.add(uri)) throw new IllegalArgumentException(where + ": " + rel + " is listed twice; keep one row per image");
            FileStatus st = listed.get(uri);
            if (st == null && full) {
                try {
                    st = HadoopFs.fs(p, conf).getFileStatus(p);
                } catch (FileNotFoundException e) {
                    st = null;
                }
            }
            if (st == null) {
                items.add(new Work.Item(uri, 0, 0, null, "listed in the manifest (" + where + ") but the file does not "
                        + "exist; restore it or remove the row", null));
            } else {
                items.add(new Work.Item(uri, st.getLen(), st.getModificationTime(), split, label, null));
            }
        }
        log.printf("ingest: manifest %s lists %,d images%n", csv, items.size());
        return items;
    }

    /** {where, path, label, split or null} per data row of a CSV manifest; malformed rows fail naming the line. */
    public static List<String[]> csvRows(Path csv, Configuration conf) throws IOException {
        List<String[]> rows = new ArrayList<>();
        String[] lines = HadoopFs.readString(csv, conf).split("\r?\n");
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n].strip();
            if (line.isEmpty() || line.startsWith("#") || (n == 0 && ManifestCsv.isHeader(line))) continue;
            String[] f = ManifestCsv.dataFields(line);
            String where = csv + " line " + (n + 1);
            if (f.length < 2 || f.length > 3 || f[0].isBlank() || f[1].isBlank()) {
                throw new IllegalArgumentException(where + ": '" + line + "' is not path,label[,split]; fix the row "
                        + "(quote a path or label that holds a comma: \"a,b.jpg\")");
            }
            rows.add(new String[] {where, f[0], f[1], f.length == 3 ? f[2] : null});
        }
        return rows;
    }

    /** The same from a Parquet manifest (file or folder ending .parquet) with string columns path, label[, split]. */
    static List<String[]> parquetRows(JavaSparkContext sc, Path file) {
        Dataset<Row> df = SparkSession.builder().sparkContext(sc.sc()).getOrCreate().read().parquet(file.toString());
        List<String> cols = List.of(df.columns());
        if (!cols.contains("path") || !cols.contains("label")) {
            throw new IllegalArgumentException(file + " has columns " + cols + "; a Parquet manifest needs string columns "
                    + "path and label (and optionally split)");
        }
        boolean hasSplit = cols.contains("split");
        List<String[]> rows = new ArrayList<>();
        int n = 0;
        for (Row r : df.select(hasSplit ? new Column[] {df.col("path"), df.col("label"), df.col("split")}
                : new Column[] {df.col("path"), df.col("label")}).collectAsList()) {
            n++;
            String where = file + " row " + n;
            String path = r.isNullAt(0) ? "" : String.valueOf(r.get(0));
            String label = r.isNullAt(1) ? "" : String.valueOf(r.get(1));
            if (path.isBlank() || label.isBlank()) {
                throw new IllegalArgumentException(where + ": path '" + path + "', label '" + label + "': both must be "
                        + "non-empty; fix the row");
            }
            rows.add(new String[] {where, path, label, hasSplit && !r.isNullAt(2) ? String.valueOf(r.get(2)) : null});
        }
        return rows;
    }
}
