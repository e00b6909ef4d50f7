package io.sparkvision.ingest;

import io.sparkvision.io.HadoopFs;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

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
 * A CSV manifest: {@code path,label[,split]} rows (a header row starting with {@code path} is optional); paths are
 * relative to the CSV's folder or full URIs. The folder is listed once (one listing instead of a metadata call per
 * image, which matters on S3); rows whose file is missing are reported as skipped. Malformed rows fail the ingest
 * before any Spark work, naming the line.
 */
final class ManifestSource {
    private ManifestSource() {
    }

    static List<Work.Item> list(Path csv, Configuration conf, IngestSettings s, PrintStream log) throws IOException {
        FileSystem fs = HadoopFs.fs(csv, conf);
        if (fs.getFileStatus(csv).isDirectory()) {
            throw new IllegalArgumentException("ingest.format = manifest but ingest.source " + csv + " is a folder; point it "
                    + "at the CSV file, or use ingest.format = image-folder");
        }
        Path dir = fs.makeQualified(csv).getParent();
        Map<String, FileStatus> listed = new HashMap<>();
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(dir, true);
        while (it.hasNext()) {
            LocatedFileStatus f = it.next();
            listed.put(f.getPath().toString(), f);
        }
        List<Work.Item> items = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        String[] lines = HadoopFs.readString(csv, conf).split("\r?\n");
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n].strip();
            if (line.isEmpty() || line.startsWith("#") || (n == 0 && line.toLowerCase().startsWith("path,"))) continue;
            String[] f = line.split(",", -1);
            String where = csv + " line " + (n + 1);
            if (f.length < 2 || f.length > 3 || f[0].isBlank() || f[1].isBlank()) {
                throw new IllegalArgumentException(where + ": '" + line + "' is not path,label[,split]; fix the row "
                        + "(paths and labels must not contain commas)");
            }
            String label = f[1].strip();
            String split = f.length == 3 && !f[2].isBlank() ? f[2].strip() : s.defaultSplit();
            if (label.equals(".") || label.equals("..") || label.contains("/") || split.contains("/") || split.equals("..")) {
                throw new IllegalArgumentException(where + ": label '" + label + "' / split '" + split
                        + "' cannot be a folder name; use plain names");
            }
            String rel = f[0].strip();
            Path p = rel.contains("://") ? new Path(rel) : new Path(dir, rel);
            String uri = fs.makeQualified(p).toString();
            if (!seen.add(uri)) throw new IllegalArgumentException(where + ": " + rel + " is listed twice; keep one row per image");
            FileStatus st = listed.get(uri);
            if (st == null && rel.contains("://")) {
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
}
