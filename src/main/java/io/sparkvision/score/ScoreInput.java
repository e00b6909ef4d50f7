package io.sparkvision.score;

import io.sparkvision.ingest.ManifestCsv;
import io.sparkvision.io.ArchiveReader;
import io.sparkvision.io.HadoopFs;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import scala.Tuple2;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Step 2 of scoring: what score.input names (a folder, an archive, a manifest or one image) as units of work, one
 * Spark partition each. A manifest is read by the executors: the driver reads its header line and counts, never a
 * row, so a manifest of 100 million images scores with the driver's memory of a small one.
 */
public final class ScoreInput {
    private ScoreInput() {
    }

    /** The units of work, one per partition (in the order they are scored), and how many there are. */
    public record Units(JavaRDD<Scorer.Unit> rdd, long count) {
    }

    /** Work units: each archive alone (archives are not splittable), loose files in groups of {@code filesPerTask}. */
    public static Units units(JavaSparkContext sc, Path input, int filesPerTask) throws IOException {
        Configuration conf = sc.hadoopConfiguration();
        FileSystem fs = HadoopFs.fs(input, conf);
        if (!fs.exists(input)) throw new IllegalArgumentException("score input " + input + " does not exist");
        String name = input.getName().toLowerCase(Locale.ROOT);
        if (fs.getFileStatus(input).isFile() && !ArchiveReader.isArchive(name) && name.endsWith(".csv")) {
            return manifestUnits(sc, input, filesPerTask);
        }
        List<Scorer.Unit> units = units(input, conf, filesPerTask);
        return new Units(sc.parallelize(units, units.size()), units.size());
    }

    /** A folder's or a single file's units, listed on the driver. */
    static List<Scorer.Unit> units(Path input, Configuration conf, int filesPerTask) throws IOException {
        FileSystem fs = HadoopFs.fs(input, conf);
        List<Scorer.Unit> units = new ArrayList<>();
        List<String> loose = new ArrayList<>();
        if (fs.getFileStatus(input).isFile()) {
            if (ArchiveReader.isArchive(input.getName().toLowerCase(Locale.ROOT))) units.add(new Scorer.Unit(input.toString(), null));
            else loose.add(input.toString());
        } else {
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(input, true);
            while (it.hasNext()) {
                Path p = it.next().getPath();
                if (p.getName().startsWith(".") || p.getName().startsWith("_")) continue; // hidden / marker files
                if (ArchiveReader.isArchive(p.getName())) units.add(new Scorer.Unit(p.toString(), null));
                else loose.add(p.toString());
            }
        }
        for (int i = 0; i < loose.size(); i += filesPerTask) {
            units.add(new Scorer.Unit(null, new ArrayList<>(loose.subList(i, Math.min(loose.size(), i + filesPerTask)))));
        }
        if (units.isEmpty()) throw new IllegalArgumentException("score input " + input + " holds no files");
        return units;
    }

    /**
     * The images a manifest lists in its "path" column (relative paths against the manifest's folder), in manifest
     * order, {@code filesPerTask} to a unit: parsed by the executors and grouped by a shuffle on the row number.
     */
    static Units manifestUnits(JavaSparkContext sc, Path manifest, int filesPerTask) throws IOException {
        Header header = header(manifest, sc.hadoopConfiguration());
        int col = header.line() == null ? -1 : ManifestCsv.column(header.line(), "path");
        if (col < 0) throw new IllegalArgumentException(manifest + " has no 'path' column in its header: "
                + (header.line() == null ? "(empty file)" : header.line()));
        String file = manifest.toString(), folder = manifest.getParent().toString();
        long headerAt = header.index();
        JavaPairRDD<Long, String> paths;
        long count;
        try { // zipWithIndex runs a job (each split's row count), so a bad row can fail here already
            paths = sc.textFile(file).zipWithIndex()
                    .filter(t -> t._2() > headerAt && !t._1().isBlank())
                    .map(t -> path(t._1(), t._2(), col, file, folder))
                    .zipWithIndex().mapToPair(t -> new Tuple2<>(t._2(), t._1()));
            count = paths.count();
        } catch (Exception e) { // a failed job is a SparkException, which Java cannot name in a catch here
            String m = String.valueOf(e.getMessage());
            int at = m.indexOf(file + " line ");
            if (at < 0) throw e;
            int end = m.indexOf('\n', at);
            throw new IllegalArgumentException(m.substring(at, end < 0 ? m.length() : end), e);
        }
        if (count == 0) throw new IllegalArgumentException("score input " + manifest + " holds no files");
        int units = (int) ((count + filesPerTask - 1) / filesPerTask);
        JavaRDD<Scorer.Unit> rdd = paths.repartitionAndSortWithinPartitions(new UnitPartitioner(units, filesPerTask))
                .values().mapPartitions(it -> {
                    List<String> files = new ArrayList<>();
                    it.forEachRemaining(files::add);
                    return files.isEmpty() ? List.<Scorer.Unit>of().iterator() : List.of(new Scorer.Unit(null, files)).iterator();
                });
        return new Units(rdd, units);
    }

    /** The first non-empty line and its number (from 0), read on the driver; a null line for an empty file. */
    private record Header(String line, long index) {
    }

    private static Header header(Path manifest, Configuration conf) throws IOException {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(HadoopFs.fs(manifest, conf).open(manifest),
                StandardCharsets.UTF_8))) {
            long n = 0;
            for (String l = r.readLine(); l != null; l = r.readLine(), n++) if (!l.isEmpty()) return new Header(l, n);
            return new Header(null, -1);
        }
    }

    /** Executor side: one row's image path, resolved. */
    private static String path(String line, long index, int col, String file, String folder) {
        String[] f = ManifestCsv.dataFields(line);
        if (col >= f.length) {
            throw new IllegalArgumentException(file + " line " + (index + 1) + " has no path column (column " + (col + 1)
                    + "): '" + line + "'; fix the row or remove it");
        }
        String rel = f[col];
        return rel.contains("://") ? rel : new Path(new Path(folder), rel).toString();
    }

    /** Row number n goes to unit n / filesPerTask: the units of a list cut in order, as the driver would cut it. */
    private static final class UnitPartitioner extends Partitioner {
        private final int units;
        private final long filesPerTask;

        UnitPartitioner(int units, long filesPerTask) {
            this.units = units;
            this.filesPerTask = filesPerTask;
        }

        @Override
        public int numPartitions() {
            return units;
        }

        @Override
        public int getPartition(Object key) {
            return (int) ((Long) key / filesPerTask);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof UnitPartitioner p && p.units == units && p.filesPerTask == filesPerTask;
        }

        @Override
        public int hashCode() {
            return Long.hashCode(units * 31L + filesPerTask);
        }
    }
}
