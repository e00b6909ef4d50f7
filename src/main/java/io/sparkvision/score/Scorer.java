package io.sparkvision.score;

import io.sparkvision.image.ImagePreparation;
import io.sparkvision.io.ArchiveReader;
import io.sparkvision.io.HadoopFs;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.LongAccumulator;
import org.deeplearning4j.nn.api.Model;

import java.io.IOException;
import java.io.Serializable;
import java.sql.Timestamp;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Executor side of the score job: streams the images of one unit of work (an archive, or a group of loose
 * files), batches them through the model and yields one output row per image, lazily, so a task holds at most
 * one batch in memory however large its archive. Unreadable images become rows with an error, never a failure.
 */
public final class Scorer implements Serializable {
    private static final long serialVersionUID = 1L;

    /** An archive, or a group of loose image files. */
    public record Unit(String archive, List<String> files) implements Serializable {
    }

    private final String modelId;
    private final String modelVersion;
    private final ImagePredictor predictor;
    private final int batchSize;

    /** Files and archive entries larger than this are reported, not read: no image a CNN scores needs 64 MB. */
    static final long MAX_FILE_BYTES = 64L << 20;
    /** Refuse images whose header claims more pixels than this, before decoding them. */
    static final long MAX_PIXELS = 100_000_000L;

    /** {@code preparation} is the model's (model.json), so raw images are prepared as its training images were. */
    public Scorer(String modelId, String modelVersion, ImagePreparation preparation, double[] mean, double[] std,
                  List<String> classes, int topK, int batchSize) {
        this.modelId = modelId;
        this.modelVersion = modelVersion;
        this.predictor = new ImagePredictor(preparation, mean, std, classes, topK);
        this.batchSize = batchSize;
    }

    /**
     * One row per image of the unit, lazily. The model comes from {@link ModelPool} (one restored copy per concurrently
     * running task: sharing one behind a lock let only one of an executor's cores run forward passes at a time,
     * measured at half the forward-pass rate on 2 cores) and goes back when the unit is done.
     */
    public Iterator<Row> score(Unit unit, byte[] modelBytes, Configuration conf, LongAccumulator scored) throws IOException {
        Model model = ModelPool.take(modelVersion, () -> modelBytes);
        Iterator<Sourced> entries = unit.archive() != null ? archiveEntries(unit.archive(), conf) : fileEntries(unit.files(), conf);
        Timestamp now = new Timestamp(System.currentTimeMillis());
        return new Iterator<>() {
            final ArrayDeque<Row> ready = new ArrayDeque<>();

            boolean returned;

            @Override
            public boolean hasNext() {
                while (ready.isEmpty() && entries.hasNext()) fill();
                if (ready.isEmpty() && !returned) {
                    returned = true;
                    ModelPool.giveBack(modelVersion, model); // this task is done with it
                }
                return !ready.isEmpty();
            }

            @Override
            public Row next() {
                if (!hasNext()) throw new NoSuchElementException();
                return ready.poll();
            }

            private void fill() {
                List<Sourced> batch = new ArrayList<>(batchSize);
                List<byte[]> images = new ArrayList<>(batchSize);
                while (entries.hasNext() && batch.size() < batchSize) {
                    Sourced e = entries.next();
                    if (e.entry.error() != null) {
                        ready.add(row(e, ImagePredictor.Prediction.failed(e.entry.error()), now));
                        continue;
                    }
                    batch.add(e);
                    images.add(e.entry.bytes());
                }
                if (batch.isEmpty()) return;
                ImagePredictor.Prediction[] predictions = predictor.predict(model, images); // this task's own copy
                long ok = 0;
                for (int i = 0; i < batch.size(); i++) {
                    ready.add(row(batch.get(i), predictions[i], now));
                    if (predictions[i].error() == null) ok++;
                }
                scored.add(ok);
            }
        };
    }

    private Row row(Sourced e, ImagePredictor.Prediction p, Timestamp now) {
        return RowFactory.create(e.source, e.entry.name(), p.ids(), p.names(), p.probs(), modelId, modelVersion, now, p.error());
    }

    /** An entry with the source it came from (the archive, or the loose file itself). */
    private record Sourced(String source, ArchiveReader.Entry entry) {
    }

    private static Iterator<Sourced> archiveEntries(String archive, Configuration conf) throws IOException {
        Path p = new Path(archive);
        FSDataInputStream raw = HadoopFs.fs(p, conf).open(p);
        ArchiveReader entries = ArchiveReader.open(p.getName(), raw, MAX_FILE_BYTES, name -> false);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                boolean more = entries.hasNext();
                if (!more) {
                    try {
                        entries.close();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
                return more;
            }

            @Override
            public Sourced next() {
                return new Sourced(archive, entries.next());
            }
        };
    }

    private static Iterator<Sourced> fileEntries(List<String> files, Configuration conf) {
        return files.stream().map(f -> new Sourced(f, ImagePredictor.read(f, conf))).iterator();
    }
}
