package io.sparkvision.score;

import io.sparkvision.data.Batches;
import io.sparkvision.image.ImagePreparation;
import io.sparkvision.image.ImagePreparer;
import io.sparkvision.image.InputShape;
import io.sparkvision.io.ArchiveReader;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.Models;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.io.Serializable;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Image bytes in, top-k classes out, a minibatch at a time, with the score job's preparation and limits: what the
 * Spark ML transformer and the SQL function (package ml) run on executors. An image that cannot be scored gets a
 * {@link Prediction} with an error, never an exception.
 */
public final class ImagePredictor implements Serializable {
    private static final long serialVersionUID = 1L;
    /** The score job's limits: pixels a header may claim, and bytes one image may have. */
    public static final long MAX_PIXELS = Scorer.MAX_PIXELS;
    public static final long MAX_BYTES = Scorer.MAX_FILE_BYTES;
    private static final java.util.concurrent.atomic.AtomicLong FORWARD_PASSES = new java.util.concurrent.atomic.AtomicLong();

    /** The top-k of one image (most probable first), or why it has none. */
    public record Prediction(int[] ids, String[] names, float[] probs, String error) implements Serializable {
        public static Prediction failed(String error) {
            return new Prediction(null, null, null, error);
        }
    }

    private final ImagePreparation preparation;
    private final InputShape shape;
    private final double[] mean;
    private final double[] std;
    private final List<String> classes;
    private final int topK;

    public ImagePredictor(ImagePreparation preparation, double[] mean, double[] std, List<String> classes, int topK) {
        if (topK < 1) throw new IllegalArgumentException("topK must be at least 1, not " + topK);
        this.preparation = preparation;
        this.shape = preparation.shape();
        this.mean = mean;
        this.std = std;
        this.classes = List.copyOf(classes);
        this.topK = Math.min(topK, classes.size());
    }

    /**
     * One prediction per image, in order; {@code model} must be this caller's own copy (DL4J models are not
     * thread-safe). Images are prepared one by one, then scored in one forward pass.
     */
    public Prediction[] predict(Model model, List<byte[]> images) {
        Prediction[] out = new Prediction[images.size()];
        List<Integer> batch = new ArrayList<>(images.size());
        int px = shape.pixels();
        long[] dims = {images.size(), shape.channels(), shape.height(), shape.width()};
        // Each image's floats go straight into the batch's off-heap buffer (ND4J's create(float[]) copied them again,
        // value by value: 8% of the score job's executor time on ResNet-18 64², JFR); other backends build a Java array.
        INDArray in = Batches.hostWritable() ? Nd4j.createUninitialized(DataType.FLOAT, dims, 'c') : null;
        FloatBuffer buffer = in == null ? null : in.data().asNioFloat();
        float[] flat = in == null ? new float[images.size() * px] : null;
        for (int i = 0; i < images.size(); i++) {
            byte[] bytes = images.get(i);
            if (bytes == null) {
                out[i] = Prediction.failed("no image: the input is null");
            } else if (bytes.length > MAX_BYTES) {
                out[i] = Prediction.failed("image of " + bytes.length + " bytes, larger than " + MAX_BYTES + " bytes; not scored");
            } else {
                try {
                    float[] x = ImagePreparer.tensor(bytes, preparation, MAX_PIXELS, "the score job's limit", mean, std);
                    if (buffer != null) buffer.put(batch.size() * px, x, 0, px);
                    else System.arraycopy(x, 0, flat, batch.size() * px, px);
                    batch.add(i);
                } catch (IOException | RuntimeException e) {
                    out[i] = Prediction.failed(e.getMessage());
                }
            }
        }
        if (batch.isEmpty()) return out;
        if (in == null) in = Nd4j.create(flat, dims, 'c');
        if (batch.size() < images.size()) {
            in = in.get(NDArrayIndex.interval(0, batch.size()), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all()).dup('c');
        }
        // One copy of the whole [batch, classes] block (per-row views cost more than a small model's forward pass).
        float[] p = Models.output(model, in).dup('c').data().asFloat();
        FORWARD_PASSES.incrementAndGet();
        int n = classes.size();
        for (int b = 0; b < batch.size(); b++) out[batch.get(b)] = top(p, b * n, n);
        return out;
    }

    /** Forward passes this JVM has run through {@link #predict}: a check that images are scored in minibatches. */
    public static long forwardPassesInThisJvm() {
        return FORWARD_PASSES.get();
    }

    private Prediction top(float[] p, int from, int n) {
        int[] ids = new int[topK];
        String[] names = new String[topK];
        float[] probs = new float[topK];
        boolean[] taken = new boolean[n];
        for (int k = 0; k < topK; k++) {
            int best = -1;
            for (int c = 0; c < n; c++) if (!taken[c] && (best < 0 || p[from + c] > p[from + best])) best = c;
            taken[best] = true;
            ids[k] = best;
            names[k] = classes.get(best);
            probs[k] = p[from + best];
        }
        return new Prediction(ids, names, probs, null);
    }

    /**
     * The bytes of an image file on any Hadoop URI, or the entry's error (missing, unreadable, larger than
     * {@link #MAX_BYTES}): the score job's rules for loose files.
     */
    public static ArchiveReader.Entry read(String uri, Configuration conf) {
        if (uri == null) return new ArchiveReader.Entry(null, null, "no image: the path is null", false);
        try {
            Path p = HadoopFs.path(uri);
            FileSystem fs = HadoopFs.fs(p, conf);
            long len = fs.getFileStatus(p).getLen();
            if (len > MAX_BYTES) return new ArchiveReader.Entry(uri, null, "file of " + len + " bytes, larger than " + MAX_BYTES + " bytes; not scored", true);
            try (FSDataInputStream in = fs.open(p)) {
                return new ArchiveReader.Entry(uri, in.readAllBytes(), null, false);
            }
        } catch (IOException | RuntimeException e) {
            return new ArchiveReader.Entry(uri, null, "unreadable: " + e.getMessage(), false);
        }
    }
}
