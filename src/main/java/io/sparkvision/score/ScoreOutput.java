package io.sparkvision.score;

import io.sparkvision.config.Choices;
import io.sparkvision.io.HadoopFs;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

import java.io.IOException;

import static org.apache.spark.sql.functions.array_join;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

/** Steps 0 and 4 of scoring: where the rows go (refused early if it exists), writing them, and counting what was written. */
public record ScoreOutput(Path path, Choices.ScoreFormat format, boolean overwrite) {

    /** What the written output holds. */
    public record Counts(long rows, long errors) {
    }

    /** Before any work: an existing output is replaced only when asked to. */
    public void requireWritable(Configuration conf) throws IOException {
        if (HadoopFs.exists(path, conf) && !overwrite) {
            throw new IllegalArgumentException("score output " + path + " already exists; pass --overwrite "
                    + "(score.overwrite = true) to replace it, or choose another score.output");
        }
    }

    /** Writes the rows; CSV joins each top-k array with '|'. */
    public void write(Dataset<Row> rows) {
        SaveMode mode = overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists;
        if (format == Choices.ScoreFormat.CSV) {
            rows.withColumn("top_k_ids", array_join(col("top_k_ids").cast("array<string>"), "|"))
                    .withColumn("top_k_names", array_join(col("top_k_names"), "|"))
                    .withColumn("top_k_probs", array_join(col("top_k_probs").cast("array<string>"), "|"))
                    .write().mode(mode).option("header", "true").csv(path.toString());
        } else {
            rows.write().mode(mode).parquet(path.toString());
        }
    }

    /** Rows and error rows as written (read back: the accumulator may count a retried task twice). */
    public Counts count(SparkSession spark) {
        Dataset<Row> written = format == Choices.ScoreFormat.CSV
                ? spark.read().option("header", "true").csv(path.toString()) : spark.read().parquet(path.toString());
        Row counts = written.agg(functions.count(lit(1)), functions.count(col("error"))).first(); // one pass: count(column) skips nulls
        return new Counts(counts.getLong(0), counts.getLong(1));
    }
}
