package io.sparkvision.train;

import io.sparkvision.config.Choices.Metric;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.model.Models;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.api.Model;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checkpoints in a run directory on any Hadoop URI: {@code epoch-NNNN.zip} (model + updater state, via
 * {@link ModelFiles}) and {@code epoch-NNNN.json} (metadata). The zip is written atomically first and the
 * JSON last: a checkpoint exists only once its JSON does, so a reader never picks up a half-written one, even
 * on object stores where rename is a copy. Schema: data-schemas/checkpoint.schema.json.
 */
public final class CheckpointStore {
    private static final Pattern NAME = Pattern.compile("epoch-(\\d{4,})\\.json");
    private final Path dir;
    private final Configuration conf;
    private final int keepLast;
    private final Metric bestMetric;

    public CheckpointStore(String dirUri, Configuration conf, int keepLast) {
        this(dirUri, conf, keepLast, Metric.TOP1_ACCURACY);
    }

    /** @param bestMetric the metric (in each checkpoint's metrics line) that picks the best checkpoint, never pruned */
    public CheckpointStore(String dirUri, Configuration conf, int keepLast, Metric bestMetric) {
        this.dir = HadoopFs.path(dirUri);
        this.conf = conf;
        this.keepLast = keepLast;
        this.bestMetric = bestMetric;
    }

    public Path dir() {
        return dir;
    }

    /** Writes the checkpoint for {@code epoch}, then deletes all but the newest {@code keepLast}. Returns the zip's path. */
    public Path write(Model net, int epoch, Map<String, Object> metadata) throws IOException {
        Path zip = new Path(dir, String.format("epoch-%04d.zip", epoch));
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("formatVersion", 1);
        meta.put("epoch", epoch);
        meta.put("iteration", Models.iterationCount(net));
        meta.putAll(metadata);
        ModelFiles.save(net, zip, meta, conf);
        prune();
        return zip;
    }

    /** Epochs with a complete checkpoint, oldest first. */
    public List<Integer> epochs() throws IOException {
        FileSystem fs = HadoopFs.fs(dir, conf);
        List<Integer> out = new ArrayList<>();
        if (!fs.exists(dir)) return out;
        for (FileStatus st : fs.listStatus(dir)) {
            Matcher m = NAME.matcher(st.getPath().getName());
            if (m.matches() && fs.exists(new Path(dir, st.getPath().getName().replace(".json", ".zip")))) {
                out.add(Integer.parseInt(m.group(1)));
            }
        }
        out.sort(null);
        return out;
    }

    public Optional<Integer> latest() throws IOException {
        List<Integer> e = epochs();
        return e.isEmpty() ? Optional.empty() : Optional.of(e.get(e.size() - 1));
    }

    public Model load(int epoch) throws IOException {
        return ModelFiles.load(new Path(dir, String.format("epoch-%04d.zip", epoch)), conf);
    }

    /** The metadata of a complete checkpoint. */
    public Map<String, Object> metadata(int epoch) throws IOException {
        return ModelFiles.metadata(new Path(dir, String.format("epoch-%04d.zip", epoch)), conf);
    }

    /** The complete checkpoint with the best {@code bestMetric} among those that were evaluated. */
    public Optional<Integer> best() throws IOException {
        Integer best = null;
        double bestValue = 0;
        for (int e : epochs()) {
            Map<String, Object> meta = metadata(e);
            Object metrics = meta == null ? null : meta.get("metrics");
            Object v = metrics instanceof Map ? ((Map<?, ?>) metrics).get(bestMetric.label()) : null;
            if (!(v instanceof Number)) continue;
            double x = ((Number) v).doubleValue();
            if (bestMetric.better(x, best == null ? null : bestValue)) {
                best = e;
                bestValue = x;
            }
        }
        return Optional.ofNullable(best);
    }

    /** "latest", "best" or an epoch number, as a complete checkpoint's epoch. */
    public int resolve(String which) throws IOException {
        Optional<Integer> e = "latest".equals(which) ? latest() : "best".equals(which) ? best() : Optional.of(Integer.parseInt(which));
        if (e.isEmpty() || !epochs().contains(e.get())) {
            throw new IllegalArgumentException("no complete checkpoint '" + which + "' in " + dir + "; it has epochs " + epochs());
        }
        return e.get();
    }

    private void prune() throws IOException {
        List<Integer> e = epochs();
        FileSystem fs = HadoopFs.fs(dir, conf);
        Integer keep = best().orElse(null);
        for (int i = 0; i < e.size() - keepLast; i++) {
            if (e.get(i).equals(keep)) continue;
            String base = String.format("epoch-%04d", e.get(i));
            // Marker first, so a crash in between leaves an orphan zip, never a marker without its model.
            fs.delete(new Path(dir, base + ".json"), false);
            fs.delete(new Path(dir, base + ".zip"), false);
        }
    }
}
