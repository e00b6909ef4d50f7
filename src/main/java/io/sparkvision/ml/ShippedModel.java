package io.sparkvision.ml;

import io.sparkvision.image.ImagePreparation;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.score.ImagePredictor;
import io.sparkvision.score.ScoringModel;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A model read and checked on the driver, its zip broadcast to executors. Kept per model zip while the zip's
 * modification time and size and the SparkContext stay the same, so transforming many DataFrames reads and
 * broadcasts the model once; executors fetch the broadcast only when their {@link io.sparkvision.score.ModelPool}
 * has no copy of this version yet.
 *
 * @param zip     the model zip (a registry pointer resolved when the model was read)
 * @param version sha256 of the zip: the executors' key
 */
record ShippedModel(Path zip, String modelId, String version, ImagePreparation preparation, double[] mean, double[] std,
                    List<String> classes, Broadcast<byte[]> bytes) {
    private record Cached(String stamp, SparkContext sc, ShippedModel model) {
    }

    private static final Map<String, Cached> BY_ZIP = new ConcurrentHashMap<>();

    /** The model {@code uri} names now (a model.zip, or a registry directory's current model), read at most once per version. */
    static synchronized ShippedModel of(SparkSession spark, String uri) {
        if (uri == null || uri.isBlank()) {
            throw new IllegalArgumentException("no model: set modelUri to a model.zip the train job wrote (any Hadoop URI)");
        }
        SparkContext sc = spark.sparkContext();
        Configuration conf = sc.hadoopConfiguration();
        try {
            Path zip = ModelFiles.resolve(HadoopFs.path(uri), conf);
            if (!HadoopFs.exists(zip, conf)) {
                throw new IllegalArgumentException("model " + zip + " does not exist; give the model.zip a train job wrote "
                        + "(or a model registry directory)");
            }
            FileStatus status = HadoopFs.fs(zip, conf).getFileStatus(zip);
            String stamp = status.getModificationTime() + "/" + status.getLen();
            Cached cached = BY_ZIP.get(zip.toString());
            if (cached != null && cached.stamp.equals(stamp) && cached.sc == sc && !sc.isStopped()) return cached.model;
            ScoringModel m = ScoringModel.read(zip, conf);
            Broadcast<byte[]> bytes = JavaSparkContext.fromSparkContext(sc).broadcast(m.bytes());
            ShippedModel shipped = new ShippedModel(m.zip(), m.modelId(), m.version(), m.preparation(), m.mean(), m.std(),
                    m.classes(), bytes);
            BY_ZIP.put(zip.toString(), new Cached(stamp, sc, shipped));
            return shipped;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model " + uri + ": " + e.getMessage(), e);
        }
    }

    ImagePredictor predictor(int topK) {
        return new ImagePredictor(preparation, mean, std, classes, topK);
    }
}
