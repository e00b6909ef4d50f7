package io.sparkvision.ml;

import io.sparkvision.config.GpuBinding;
import io.sparkvision.io.SerializableHadoopConf;
import io.sparkvision.io.ArchiveReader;
import io.sparkvision.score.ImagePredictor;
import io.sparkvision.score.ImagePredictor.Prediction;
import io.sparkvision.score.ModelPool;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.api.Model;

import java.util.List;

/**
 * The SQL function: one image (bytes, or a path on any Hadoop URI) to a struct of top-k ids, names, probabilities
 * and error. Spark calls a Java UDF once per row, so each call is a forward pass of one image; the model itself is
 * not restored per call but taken from the executor's {@link ModelPool}. For minibatched scoring use
 * {@link ImageClassifierModel#transform} (the same results).
 */
final class ClassifyFunction implements UDF1<Object, Row> {
    private static final long serialVersionUID = 1L;
    static final StructType RESULT = new StructType(Predictions.fields("").toArray(new org.apache.spark.sql.types.StructField[0]));

    private final String version;
    private final Broadcast<byte[]> modelBytes;
    private final ImagePredictor predictor;
    private final SerializableHadoopConf conf;

    ClassifyFunction(ShippedModel model, int topK, SerializableHadoopConf conf) {
        this.version = model.version();
        this.modelBytes = model.bytes();
        this.predictor = model.predictor(topK);
        this.conf = conf;
    }

    @Override
    public Row call(Object image) {
        GpuBinding.bindThisTask(); // once per task thread; a map lookup afterwards
        return RowFactory.create(Predictions.values(predict(image)));
    }

    private Prediction predict(Object image) {
        byte[] bytes;
        if (image == null) {
            return Prediction.failed("no image: the input is null");
        } else if (image instanceof byte[] b) {
            bytes = b;
        } else if (image instanceof String path) {
            ArchiveReader.Entry e = ImagePredictor.read(path, conf.get());
            if (e.error() != null) return Prediction.failed(e.error());
            bytes = e.bytes();
        } else {
            return Prediction.failed("takes image bytes (binary) or an image path (string), not " + image.getClass().getSimpleName());
        }
        Model model = ModelPool.take(version, modelBytes::value);
        try {
            return predictor.predict(model, List.of(bytes))[0];
        } finally {
            ModelPool.giveBack(version, model);
        }
    }

    static StructType resultType() {
        return RESULT;
    }
}
