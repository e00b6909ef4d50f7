package io.sparkvision.ml;

import io.sparkvision.score.ImagePredictor.Prediction;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

import java.util.List;

/**
 * The columns a prediction adds, named as the score job's output (data-schemas/score-output.md) behind an optional
 * prefix: top-k class ids, names and probabilities, most probable first, and the error of a row that could not be
 * scored (its predictions then null).
 */
final class Predictions {
    static final String IDS = "top_k_ids", NAMES = "top_k_names", PROBS = "top_k_probs", ERROR = "error";

    private Predictions() {
    }

    static List<StructField> fields(String prefix) {
        return List.of(
                DataTypes.createStructField(prefix + IDS, DataTypes.createArrayType(DataTypes.IntegerType, false), true),
                DataTypes.createStructField(prefix + NAMES, DataTypes.createArrayType(DataTypes.StringType, false), true),
                DataTypes.createStructField(prefix + PROBS, DataTypes.createArrayType(DataTypes.FloatType, false), true),
                DataTypes.createStructField(prefix + ERROR, DataTypes.StringType, true));
    }

    /** The values of {@link #fields}, in order. */
    static Object[] values(Prediction p) {
        return new Object[] {p.ids(), p.names(), p.probs(), p.error()};
    }
}
