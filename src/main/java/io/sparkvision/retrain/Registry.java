package io.sparkvision.retrain;

import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The production model registry on any Hadoop URI (schemas in data-schemas/registry.md):
 * <pre>
 *   candidates/&lt;id&gt;/      every candidate: model.zip + model.json (provenance), report.*, candidate.json
 *   current               which candidate is in production (JSON, replaced in one atomic step; its "model"
 *                         lets jobs given the registry as model.path score the production model)
 *   history.jsonl         every decision, oldest first
 *   lock                  held while a retrain runs ({@link RegistryLock})
 *   data/                 the nightly dataset the landing partitions are ingested into
 * </pre>
 */
public final class Registry {
    /** The production pointer, in the format {@link ModelFiles#resolve} follows. */
    public static final String CURRENT = ModelFiles.POINTER_FILE;
    public static final String HISTORY = "history.jsonl";
    public static final String CANDIDATES = "candidates";
    public static final String DATA = "data";

    private final Path root;
    private final Configuration conf;

    public Registry(Path root, Configuration conf) {
        this.root = root;
        this.conf = conf;
    }

    public Path root() {
        return root;
    }

    public Path data() {
        return new Path(root, DATA);
    }

    public Path candidate(String id) {
        return new Path(new Path(root, CANDIDATES), id);
    }

    /** The production pointer, if a model was ever promoted. */
    public Optional<CurrentPointer> current() throws IOException {
        Path p = new Path(root, CURRENT);
        if (!HadoopFs.exists(p, conf)) return Optional.empty();
        return Optional.of(Json.read(HadoopFs.readString(p, conf), CurrentPointer.class));
    }

    /** Points production at a candidate: readers see the old pointer or the new one, never neither. */
    public void promote(CurrentPointer pointer) throws IOException {
        HadoopFs.writeStringAtomically(new Path(root, CURRENT), Json.pretty(pointer), conf);
    }

    /** Every decision, oldest first. */
    public List<HistoryEntry> history() throws IOException {
        Path p = new Path(root, HISTORY);
        List<HistoryEntry> out = new ArrayList<>();
        if (!HadoopFs.exists(p, conf)) return out;
        for (String line : HadoopFs.readString(p, conf).split("\n")) {
            if (!line.isBlank()) out.add(Json.read(line, HistoryEntry.class));
        }
        return out;
    }

    /**
     * Appends a decision. The file is rewritten whole and atomically (object stores cannot append), which is cheap:
     * one line a night. Only the lock holder writes it.
     */
    public void record(HistoryEntry decision) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (HistoryEntry m : history()) sb.append(Json.line(m)).append('\n');
        sb.append(Json.line(decision)).append('\n');
        HadoopFs.writeStringAtomically(new Path(root, HISTORY), sb.toString(), conf);
    }

    /** The decision already taken for {@code night} (promoted or rejected), if any: the newest one. */
    public Optional<HistoryEntry> decided(String night) throws IOException {
        HistoryEntry found = null;
        for (HistoryEntry m : history()) if (night.equals(m.night())) found = m;
        return Optional.ofNullable(found);
    }

    /** A candidate id for {@code night} not used before: the night itself, then night.2, night.3 for forced re-runs. */
    public String newCandidateId(String night, boolean rerun) throws IOException {
        if (!rerun) return night;
        for (int n = 2; ; n++) {
            String id = night + "." + n;
            if (!HadoopFs.exists(candidate(id), conf)) return id;
        }
    }
}
