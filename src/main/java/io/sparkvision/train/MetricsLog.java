package io.sparkvision.train;

import io.sparkvision.io.HadoopFs;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** A run's {@code metrics.jsonl}: one {@link MetricsLine} per epoch, rewritten whole after each epoch. */
public final class MetricsLog {
    public static final String FILE = "metrics.jsonl";
    private final Path file;
    private final Configuration conf;
    private final List<MetricsLine> lines = new ArrayList<>();

    public MetricsLog(String runDir, Configuration conf) {
        this.file = new Path(HadoopFs.path(runDir), FILE);
        this.conf = conf;
    }

    /** Continues an earlier, interrupted run: keeps its lines of epochs up to {@code lastEpoch}. */
    public void resumeAfter(int lastEpoch) throws IOException {
        lines.clear();
        if (!HadoopFs.exists(file, conf)) return;
        for (String line : HadoopFs.readString(file, conf).split("\n")) {
            if (line.isBlank()) continue;
            MetricsLine m = Json.read(line, MetricsLine.class);
            if (m.epoch() <= lastEpoch) lines.add(m);
        }
    }

    public void add(MetricsLine line) {
        lines.add(line);
    }

    /** Replaces the newest line (the same epoch, now complete) and rewrites the file. */
    public void completeLast(MetricsLine line) throws IOException {
        lines.set(lines.size() - 1, line);
        write();
    }

    public List<MetricsLine> lines() {
        return List.copyOf(lines);
    }

    /** The minibatches the workers fitted up to the last line (gradient sharing's step count), 0 if unknown. */
    public long lastIteration() {
        if (lines.isEmpty() || lines.get(lines.size() - 1).iteration() == null) return 0;
        return lines.get(lines.size() - 1).iteration();
    }

    private void write() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (MetricsLine m : lines) sb.append(Json.line(m)).append('\n');
        // Rewritten whole each epoch: a reader never sees a partial line, on object stores too.
        HadoopFs.writeStringAtomically(file, sb.toString(), conf);
    }
}
