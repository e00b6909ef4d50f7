package io.sparkvision.score;

import io.sparkvision.image.ImagePreparation;
import io.sparkvision.image.ImagePreparer;
import io.sparkvision.image.InputShape;
import io.sparkvision.io.ArchiveReader;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.model.Models;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.LongAccumulator;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.Serializable;
import java.sql.Timestamp;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Executor side of the score job: streams the images of one unit of work (an archive, or a group of loose
 * files), batches them through the model and yields one output row per image, lazily, so a task holds at most
 * one batch in memory however large its archive. Unreadable images become rows with an error, never a failure.
 */
public final class Scorer implements Serializable {
    private static final long serialVersionUID = 1L;
    /**
     * Restored models per executor JVM, one per concurrently running task: a DL4J model is not thread-safe, and
     * sharing one behind a lock let only one of an executor's cores run forward passes at a time (measured: the
     * job then ran at half the forward-pass rate on 2 cores). Idle copies are reused by later tasks.
     */
    private static final Map<String, java.util.concurrent.ConcurrentLinkedQueue<Model>> MODELS = new ConcurrentHashMap<>();

    /** An archive, or a group of loose image files. */
    public record Unit(String archive, List<String> files) implements Serializable {
    }

    private final String modelId;
    private final String modelVersion;
    private final InputShape shape;
    private final ImagePreparation preparation;
    private final double[] mean;
    private final double[] std;
    private final List<String> classes;
    private final int topK;
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
        this.preparation = preparation;
        this.shape = preparation.shape();
        this.mean = mean;
        this.std = std;
        this.classes = classes;
        this.topK = Math.min(topK, classes.size());
        this.batchSize = batchSize;
    }

    public Iterator<Row> score(Unit unit, byte[] modelBytes, Configuration conf, LongAccumulator scored) throws IOException {
        java.util.concurrent.ConcurrentLinkedQueue<Model> idle = MODELS.computeIfAbsent(modelVersion,
                v -> new java.util.concurrent.ConcurrentLinkedQueue<>());
        Model pooled = idle.poll();
        Model model = pooled != null ? pooled : ModelFiles.fromBytes(modelBytes);
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
                    idle.offer(model); // this task is done with it
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
                List<float[]> pixels = new ArrayList<>(batchSize);
                while (entries.hasNext() && batch.size() < batchSize) {
                    Sourced e = entries.next();
                    if (e.entry.error() != null) {
                        ready.add(errorRow(e, e.entry.error(), now));
                        continue;
                    }
                    try {
                        pixels.add(ImagePreparer.tensor(e.entry.bytes(), preparation, MAX_PIXELS, "the score job's limit", mean, std));
                        batch.add(e);
                    } catch (IOException | RuntimeException ex) {
                        ready.add(errorRow(e, ex.getMessage(), now));
                    }
                }
                if (batch.isEmpty()) return;
                float[] flat = new float[batch.size() * shape.pixels()];
                for (int i = 0; i < batch.size(); i++) System.arraycopy(pixels.get(i), 0, flat, i * shape.pixels(), shape.pixels());
                INDArray in = Nd4j.create(flat, new long[] {batch.size(), shape.channels(), shape.height(), shape.width()}, 'c');
                INDArray probs = Models.output(model, in); // this task's own copy
                // One copy of the whole [batch, classes] block: toFloatMatrix() builds a view per row, which cost more
                // than LeNet's forward pass itself (measured in bench score).
                float[] p = probs.dup('c').data().asFloat();
                int n = classes.size();
                for (int i = 0; i < batch.size(); i++) ready.add(resultRow(batch.get(i), java.util.Arrays.copyOfRange(p, i * n, (i + 1) * n), now));
                scored.add(batch.size());
            }
        };
    }

    private Row resultRow(Sourced e, float[] p, Timestamp now) {
        int[] ids = new int[topK];
        String[] names = new String[topK];
        float[] probs = new float[topK];
        boolean[] taken = new boolean[p.length];
        for (int k = 0; k < topK; k++) {
            int best = -1;
            for (int c = 0; c < p.length; c++) if (!taken[c] && (best < 0 || p[c] > p[best])) best = c;
            taken[best] = true;
            ids[k] = best;
            names[k] = classes.get(best);
            probs[k] = p[best];
        }
        return RowFactory.create(e.source, e.entry.name(), ids, names, probs, modelId, modelVersion, now, null);
    }

    private Row errorRow(Sourced e, String error, Timestamp now) {
        return RowFactory.create(e.source, e.entry.name(), null, null, null, modelId, modelVersion, now, error);
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
        Iterator<String> it = files.iterator();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public Sourced next() {
                String f = it.next();
                Path p = new Path(f);
                try {
                    FileSystem fs = HadoopFs.fs(p, conf);
                    if (fs.getFileStatus(p).getLen() > MAX_FILE_BYTES) {
                        return new Sourced(f, new ArchiveReader.Entry(f, null, "file larger than " + MAX_FILE_BYTES + " bytes", true));
                    }
                    try (FSDataInputStream in = fs.open(p)) {
                        return new Sourced(f, new ArchiveReader.Entry(f, in.readAllBytes(), null, false));
                    }
                } catch (IOException e) {
                    return new Sourced(f, new ArchiveReader.Entry(f, null, "unreadable: " + e.getMessage(), false));
                }
            }
        };
    }
}
