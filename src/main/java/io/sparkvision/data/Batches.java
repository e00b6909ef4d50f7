package io.sparkvision.data;

import io.sparkvision.image.InputShape;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** Groups examples into DL4J minibatches: features N x C x H x W, one-hot labels N x classes. */
public final class Batches {
    private Batches() {
    }

    public static DataSet toDataSet(List<Example> examples, InputShape shape, int classes) {
        int n = examples.size();
        int px = shape.pixels();
        float[] labels = new float[n * classes];
        for (int i = 0; i < n; i++) labels[i * classes + examples.get(i).label()] = 1f;
        long[] dims = {n, shape.channels(), shape.height(), shape.width()};
        INDArray f;
        if (CPU) {
            // Straight into the batch's off-heap buffer: no n x C x H x W Java array to zero, fill and copy again
            // (bench input: this step took half the per-example time at 224²).
            f = Nd4j.createUninitialized(DataType.FLOAT, dims, 'c');
            FloatBuffer out = f.data().asNioFloat();
            for (Example e : examples) out.put(e.pixels(), 0, px);
        } else {
            // Other backends keep a device copy that a host-side write would leave stale: the plain path.
            float[] features = new float[n * px];
            for (int i = 0; i < n; i++) System.arraycopy(examples.get(i).pixels(), 0, features, i * px, px);
            f = Nd4j.create(features, dims, 'c');
        }
        INDArray l = Nd4j.create(labels, new long[] {n, classes}, 'c');
        return new DataSet(f, l);
    }

    /** Whether ND4J's arrays are plain host memory that NIO views write to (the CPU backend); not on CUDA. */
    public static boolean hostWritable() {
        return CPU;
    }

    private static final boolean CPU = Nd4j.getBackend().getClass().getName().toLowerCase(java.util.Locale.ROOT).contains("cpu");

    /** Lazily batches an iterator; the last batch may be smaller. */
    public static Iterator<DataSet> batch(Iterator<Example> it, int batchSize, InputShape shape, int classes) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public DataSet next() {
                List<Example> buf = new ArrayList<>(batchSize);
                while (it.hasNext() && buf.size() < batchSize) buf.add(it.next());
                return toDataSet(buf, shape, classes);
            }
        };
    }

    /**
     * Splits {@code examples} into {@code count} minibatches whose sizes differ by at most one (fewer when there are
     * fewer examples than that), in order.
     */
    public static Iterator<DataSet> batchEvenly(List<Example> examples, int count, InputShape shape, int classes) {
        int n = examples.size();
        int batches = Math.min(count, n);
        return new Iterator<>() {
            private int made, from;

            @Override
            public boolean hasNext() {
                return made < batches;
            }

            @Override
            public DataSet next() {
                if (!hasNext()) throw new java.util.NoSuchElementException();
                int size = n / batches + (made < n % batches ? 1 : 0);
                DataSet d = toDataSet(examples.subList(from, from + size), shape, classes);
                from += size;
                made++;
                return d;
            }
        };
    }
}
