package io.sparkvision.jobs;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.config.SparkContexts;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.score.ScoreInput;
import io.sparkvision.score.ScoreOutput;
import io.sparkvision.score.ScoreProgress;
import io.sparkvision.score.ScoreRows;
import io.sparkvision.score.Scorer;
import io.sparkvision.score.ScoringModel;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Locale;

/**
 * The score job: batch-scores images in directories, archives or manifests on any Hadoop URI and writes one row
 * per image (data-schemas/score-output.md). Corrupt or non-image entries become rows with an error. The steps
 * live in the score package: the model, the input's units of work, the rows, the output.
 */
public final class ScoreJob {
    private ScoreJob() {
    }

    public static void validate(JobConfig cfg) {
        cfg.require(Options.MODEL_PATH, "the score job needs a saved model (a run's model.zip or a checkpoint)");
        cfg.require(Options.SCORE_INPUT, "the score job needs images to score");
        cfg.require(Options.SCORE_OUTPUT, "the score job writes its rows there");
    }

    public static long run(JobConfig cfg, PrintStream out) throws IOException {
        validate(cfg);
        try (JavaSparkContext sc = SparkContexts.create(cfg, "score")) {
            return run(cfg, sc, out);
        }
    }

    /** Returns the number of rows written. */
    public static long run(JobConfig cfg, JavaSparkContext sc, PrintStream out) throws IOException {
        validate(cfg);
        Configuration hadoop = sc.hadoopConfiguration();
        ScoreOutput output = new ScoreOutput(HadoopFs.path(cfg.get(Options.SCORE_OUTPUT)), cfg.get(Options.SCORE_FORMAT),
                cfg.get(Options.SCORE_OVERWRITE));
        output.requireWritable(hadoop);
        ScoringModel model = ScoringModel.read(HadoopFs.path(cfg.get(Options.MODEL_PATH)), hadoop);
        Scorer scorer = model.scorer(cfg.get(Options.SCORE_TOP_K), cfg.get(Options.SCORE_BATCH));
        ScoreInput.Units units = ScoreInput.units(sc, HadoopFs.path(cfg.get(Options.SCORE_INPUT)),
                cfg.get(Options.SCORE_FILES_PER_TASK));
        out.printf("score: %d task(s) from %s with %s (%s)%n", units.count(), cfg.get(Options.SCORE_INPUT),
                model.zip().getName(), scorer.getClass().getSimpleName());
        ScoreRows rows = ScoreRows.of(sc, model, scorer, units.rdd());
        double secs;
        try (ScoreProgress progress = new ScoreProgress(rows.scored(), 10, out)) {
            output.write(rows.frame());
            secs = progress.seconds();
        }
        ScoreOutput.Counts written = output.count(SparkSession.builder().sparkContext(sc.sc()).getOrCreate());
        out.printf(Locale.ROOT, "score: %,d rows (%,d scored, %,d errors) in %.1f s, %,.0f images/s -> %s%n",
                written.rows(), written.rows() - written.errors(), written.errors(), secs, rows.scored().value() / secs,
                output.path());
        return written.rows();
    }
}
