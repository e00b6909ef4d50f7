package io.sparkvision.model;

import io.sparkvision.TestSpark;
import io.sparkvision.image.InputShape;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.io.File;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Features of a batch written as Parquet (id, array<float>) and read back unchanged. */
class FeatureExportTest {
    @TempDir
    File dir;

    @Test
    void leNetFeaturesRoundTripThroughParquet() {
        InputShape in = new InputShape(1, 28, 28);
        Nd4j.getRandom().setSeed(4);
        INDArray images = Nd4j.rand(new int[] {6, 1, 28, 28});
        INDArray features = Transfer.features(Architectures.get("lenet5").build(in, 10, 1, new Sgd(0.1), 0), images);
        List<String> ids = List.of("a", "b", "c", "d", "e", "f");
        String path = new File(dir, "features.parquet").getAbsolutePath();
        try (JavaSparkContext sc = TestSpark.local(2)) {
            SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
            FeatureExport.writeParquet(spark, ids, features, path);
            List<Row> back = spark.read().parquet(path).orderBy("id").collectAsList();
            assertEquals("struct<id:string,features:array<float>>", spark.read().parquet(path).schema().simpleString());
            assertEquals(6, back.size());
            for (int i = 0; i < 6; i++) {
                assertEquals(ids.get(i), back.get(i).getString(0));
                List<Float> v = back.get(i).getList(1);
                assertEquals(84, v.size());
                for (int j = 0; j < 84; j++) assertEquals(features.getFloat(i, j), v.get(j), 0f, ids.get(i) + "[" + j + "]");
            }
        }
    }
}
