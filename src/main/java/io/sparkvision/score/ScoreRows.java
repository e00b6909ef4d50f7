package io.sparkvision.score;

import io.sparkvision.config.GpuBinding;
import io.sparkvision.io.SerializableHadoopConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.StreamSupport;

/**
 * Step 3 of scoring: the rows, lazily, one Spark task per unit of work, with the model broadcast once; the
 * accumulator counts images scored as the tasks run (for the progress line).
 */
public record ScoreRows(Dataset<Row> frame, LongAccumulator scored) {
    /** One row per image (data-schemas/score-output.md). */
    public static final StructType SCHEMA = new StructType()
            .add("source", DataTypes.StringType, false)
            .add("entry", DataTypes.StringType, false)
            .add("top_k_ids", DataTypes.createArrayType(DataTypes.IntegerType, false), true)
            .add("top_k_names", DataTypes.createArrayType(DataTypes.StringType, false), true)
            .add("top_k_probs", DataTypes.createArrayType(DataTypes.FloatType, false), true)
            .add("model_id", DataTypes.StringType, false)
            .add("model_version", DataTypes.StringType, false)
            .add("scored_at", DataTypes.TimestampType, false)
            .add("error", DataTypes.StringType, true);

    /** {@code units}: one unit of work per partition (ScoreInput's). */
    public static ScoreRows of(JavaSparkContext sc, ScoringModel model, Scorer scorer, JavaRDD<Scorer.Unit> units) {
        Broadcast<byte[]> bytes = sc.broadcast(model.bytes());
        SerializableHadoopConf conf = new SerializableHadoopConf(sc.hadoopConfiguration());
        LongAccumulator scored = sc.sc().longAccumulator("sparkvision.scored");
        JavaRDD<Row> rows = units.mapPartitions(it -> {
            GpuBinding.bindThisTask();
            List<Iterator<Row>> parts = new ArrayList<>();
            while (it.hasNext()) parts.add(scorer.score(it.next(), bytes.value(), conf.get(), scored));
            return parts.stream().flatMap(i -> {
                Iterable<Row> iterable = () -> i;
                return StreamSupport.stream(iterable.spliterator(), false);
            }).iterator();
        });
        return new ScoreRows(SparkSession.builder().sparkContext(sc.sc()).getOrCreate().createDataFrame(rows, SCHEMA), scored);
    }
}
