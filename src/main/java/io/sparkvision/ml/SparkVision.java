package io.sparkvision.ml;

import io.sparkvision.io.SerializableHadoopConf;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.UserDefinedFunction;

import static org.apache.spark.sql.functions.udf;

/**
 * Entry points for Spark users: the SQL function. ({@link ImageClassifierModel} is the Spark ML transformer.)
 * <pre>
 *   SparkVision.registerUdf(spark, "classify", "hdfs:///models/run-7/model.zip");
 *   spark.sql("SELECT path, classify(content).top_k_names[0] AS label FROM images");
 * </pre>
 */
public final class SparkVision {
    /** The score job's default: classes reported per image. */
    public static final int DEFAULT_TOP_K = 5;

    private SparkVision() {
    }

    /** {@link #registerUdf(SparkSession, String, String, int)} with the top 5 classes. */
    public static UserDefinedFunction registerUdf(SparkSession spark, String name, String modelUri) {
        return registerUdf(spark, name, modelUri, DEFAULT_TOP_K);
    }

    /**
     * Registers SQL function {@code name}: {@code name(image)} takes image bytes (binary) or an image path (string,
     * any Hadoop URI) and returns {@code struct<top_k_ids: array<int>, top_k_names: array<string>,
     * top_k_probs: array<float>, error: string>}, prepared and scored as the score job would. The model is read and
     * checked now; register again to pick up a newer model. Returns the function for the DataFrame API too.
     */
    public static UserDefinedFunction registerUdf(SparkSession spark, String name, String modelUri, int topK) {
        ShippedModel model = ShippedModel.of(spark, modelUri);
        ClassifyFunction f = new ClassifyFunction(model, topK, new SerializableHadoopConf(spark.sparkContext().hadoopConfiguration()));
        return spark.udf().register(name, udf(f, ClassifyFunction.resultType()));
    }
}
