package io.sparkvision.score;

import io.sparkvision.ingest.ManifestCsv;
import io.sparkvision.io.ArchiveReader;
import io.sparkvision.io.HadoopFs;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Step 2 of scoring: what score.input names (a folder, an archive, a manifest or one image) as units of work. */
public final class ScoreInput {
    private ScoreInput() {
    }

    /** Work units: each archive alone (archives are not splittable), loose files in groups of {@code filesPerTask}. */
    public static List<Scorer.Unit> units(Path input, Configuration conf, int filesPerTask) throws IOException {
        FileSystem fs = HadoopFs.fs(input, conf);
        if (!fs.exists(input)) throw new IllegalArgumentException("score input " + input + " does not exist");
        List<Scorer.Unit> units = new ArrayList<>();
        List<String> loose = new ArrayList<>();
        if (fs.getFileStatus(input).isFile()) {
            String name = input.getName().toLowerCase(Locale.ROOT);
            if (ArchiveReader.isArchive(name)) units.add(new Scorer.Unit(input.toString(), null));
            else if (name.endsWith(".csv")) loose.addAll(manifestPaths(input, conf));
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

    /** The images a manifest lists in its "path" column, relative paths against the manifest's folder. */
    static List<String> manifestPaths(Path manifest, Configuration conf) throws IOException {
        List<String> lines = ManifestCsv.lines(HadoopFs.readString(manifest, conf));
        int col = lines.isEmpty() ? -1 : ManifestCsv.column(lines.get(0), "path");
        if (col < 0) throw new IllegalArgumentException(manifest + " has no 'path' column in its header: "
                + (lines.isEmpty() ? "(empty file)" : lines.get(0)));
        List<String> out = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) continue;
            String rel = ManifestCsv.fields(line)[col];
            out.add(rel.contains("://") ? rel : new Path(manifest.getParent(), rel).toString());
        }
        return out;
    }
}
