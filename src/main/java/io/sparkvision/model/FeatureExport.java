package io.sparkvision.model;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;

/**
 * Writes extracted features as Parquet rows (id string, features array&lt;float&gt;): the form Spark ML, pandas and
 * DuckDB read directly, e.g. for nearest-neighbour search or a linear probe on frozen features.
 */
public final class FeatureExport {
    public static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.StringType, false)
            .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false);

    private FeatureExport() {
    }

    /** One row per id; {@code features} has one row per id, in the same order. Overwrites {@code path}. */
    public static Dataset<Row> writeParquet(SparkSession spark, List<String> ids, INDArray features, String path) {
        if (features.rank() != 2 || features.size(0) != ids.size()) {
            throw new IllegalArgumentException("features must be [" + ids.size() + ", width], got " + java.util.Arrays.toString(features.shape()));
        }
        List<Row> rows = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            float[] v = features.getRow(i).dup().data().asFloat();
            List<Float> boxed = new ArrayList<>(v.length);
            for (float f : v) boxed.add(f);
            rows.add(RowFactory.create(ids.get(i), boxed));
        }
        Dataset<Row> df = spark.createDataFrame(rows, SCHEMA);
        df.write().mode(SaveMode.Overwrite).parquet(path);
        return df;
    }
}
