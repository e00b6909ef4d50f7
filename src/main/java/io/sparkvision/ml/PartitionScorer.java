package io.sparkvision.ml;

import io.sparkvision.config.GpuBinding;
import io.sparkvision.io.SerializableHadoopConf;
import io.sparkvision.io.ArchiveReader;
import io.sparkvision.score.ImagePredictor;
import io.sparkvision.score.ImagePredictor.Prediction;
import io.sparkvision.score.ModelPool;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.TaskCompletionListener;
import org.deeplearning4j.nn.api.Model;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Executor side of {@link ImageClassifierModel#transform}: reads a partition's rows in minibatches of
 * {@code batchSize}, scores each minibatch in one forward pass with this task's copy of the model, and yields each
 * input row with the prediction columns appended. Holds at most one minibatch of rows at a time.
 */
final class PartitionScorer implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    private final String version;
    private final Broadcast<byte[]> modelBytes;
    private final ImagePredictor predictor;
    private final SerializableHadoopConf conf;
    private final int column;
    private final boolean paths;
    private final int batchSize;

    /** {@code paths}: the column holds image URIs to read, else image bytes. */
    PartitionScorer(ShippedModel model, ImagePredictor predictor, SerializableHadoopConf conf, int column, boolean paths, int batchSize) {
        this.version = model.version();
        this.modelBytes = model.bytes();
        this.predictor = predictor;
        this.conf = conf;
        this.column = column;
        this.paths = paths;
        this.batchSize = batchSize;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        GpuBinding.bindThisTask();
        return new Iterator<>() {
            final ArrayDeque<Row> ready = new ArrayDeque<>();
            Model model;

            @Override
            public boolean hasNext() {
                while (ready.isEmpty() && rows.hasNext()) fill();
                if (ready.isEmpty()) giveBack();
                return !ready.isEmpty();
            }

            @Override
            public Row next() {
                if (!hasNext()) throw new NoSuchElementException();
                return ready.poll();
            }

            private void fill() {
                List<Row> batch = new ArrayList<>(batchSize);
                List<byte[]> images = new ArrayList<>(batchSize);
                Prediction[] readErrors = new Prediction[batchSize];
                while (rows.hasNext() && batch.size() < batchSize) {
                    Row r = rows.next();
                    byte[] bytes = null;
                    if (paths) {
                        ArchiveReader.Entry e = ImagePredictor.read(r.isNullAt(column) ? null : r.getString(column), conf.get());
                        if (e.error() != null) readErrors[batch.size()] = Prediction.failed(e.error());
                        else bytes = e.bytes();
                    } else if (!r.isNullAt(column)) {
                        bytes = (byte[]) r.get(column);
                    }
                    batch.add(r);
                    images.add(bytes);
                }
                // A minibatch of unreadable rows needs no model: none is restored for it.
                Model m = images.stream().anyMatch(java.util.Objects::nonNull) ? model() : null;
                Prediction[] predicted = predictor.predict(m, images);
                for (int i = 0; i < batch.size(); i++) {
                    ready.add(withPrediction(batch.get(i), readErrors[i] != null ? readErrors[i] : predicted[i]));
                }
            }

            /** This task's copy, taken on first use and given back when the task ends, however it ends. */
            private Model model() {
                if (model == null) {
                    model = ModelPool.take(version, modelBytes::value);
                    TaskContext task = TaskContext.get();
                    if (task != null) task.addTaskCompletionListener((TaskCompletionListener) ctx -> giveBack());
                }
                return model;
            }

            private void giveBack() {
                if (model != null) {
                    ModelPool.giveBack(version, model);
                    model = null;
                }
            }
        };
    }

    private static Row withPrediction(Row r, Prediction p) {
        Object[] added = Predictions.values(p);
        Object[] values = new Object[r.length() + added.length];
        for (int i = 0; i < r.length(); i++) values[i] = r.get(i);
        System.arraycopy(added, 0, values, r.length(), added.length);
        return RowFactory.create(values);
    }
}
