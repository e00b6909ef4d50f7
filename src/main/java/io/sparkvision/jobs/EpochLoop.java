package io.sparkvision.jobs;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.data.ImageDataset;
import io.sparkvision.evaluate.EvalResult;
import io.sparkvision.evaluate.Evaluator;
import io.sparkvision.io.BackgroundWriter;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.report.RunReport;
import io.sparkvision.report.TrainingCurveChart;
import io.sparkvision.train.Checkpointer;
import io.sparkvision.train.EarlyStopping;
import io.sparkvision.train.EpochClock;
import io.sparkvision.train.EpochFitter;
import io.sparkvision.train.EpochFitters;
import io.sparkvision.train.MetricsLine;
import io.sparkvision.train.MetricsLog;
import io.sparkvision.train.ProgressMeter;
import io.sparkvision.train.SparkModel;
import io.sparkvision.train.ui.TrainingUi;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The train job's epochs. Each one: fit, evaluate (every eval.every-epochs and after the last), record its
 * metrics line, checkpoint as the policy says, refresh the training curve, print, and stop early if told to.
 */
final class EpochLoop {
    private final JobConfig cfg;
    private final JavaSparkContext sc;
    private final TrainJob.Inputs in;
    private final Evaluator evaluator;
    private final PrintStream out;
    private final int epochs;

    /** What the epochs left: the trained model, its last evaluation, and how much training it took. */
    record Trained(SparkModel model, EvalResult last, int epochs, long examples, double seconds, List<MetricsLine> metrics) {
    }

    EpochLoop(JobConfig cfg, JavaSparkContext sc, TrainJob.Inputs in, Evaluator evaluator, PrintStream out) {
        this.cfg = cfg;
        this.sc = sc;
        this.in = in;
        this.evaluator = evaluator;
        this.out = out;
        this.epochs = cfg.get(Options.TRAIN_EPOCHS);
    }

    Trained run(TrainStart start, ImageDataset train) throws IOException {
        MetricsLog metrics = start.metrics();
        EpochFitter fitter = EpochFitters.of(cfg, sc, start.net(), train, in.workers(), start.firstEpoch(), metrics.lastIteration());
        EarlyStopping earlyStop = new EarlyStopping(cfg.get(Options.TRAIN_EARLY_STOP_METRIC), cfg.get(Options.TRAIN_EARLY_STOP_PATIENCE));
        for (MetricsLine earlier : metrics.lines()) earlyStop.shouldStop(earlier); // a resumed run remembers its best
        Map<String, Object> checkpointMeta = TrainJob.modelMetadata(in.arch(), in.shape(), in.dataset(),
                in.datasetInfo(cfg.get(Options.DATA_TEST_SPLIT)), null).toMap();
        EvalResult last = null;
        int epochsRun = start.firstEpoch() - 1;
        long examples = 0;
        long t0 = System.nanoTime();
        try (TrainingUi ui = startUi(fitter);
             ProgressMeter progress = new ProgressMeter(fitter.counters(), out, epochs, train.count(),
                fitter.batchesPerEpoch(), cfg.get(Options.PROGRESS_SECONDS));
             EpochClock clock = new EpochClock(sc, in.workers());
             // Checkpoints and the chart are written while the next epoch trains; closing waits for the last ones.
             BackgroundWriter writer = new BackgroundWriter()) {
            Checkpointer checkpointer = new Checkpointer(start.checkpoints(), writer, cfg);
            for (int epoch = start.firstEpoch(); epoch <= epochs; epoch++) {
                MetricsLine line = fitter.fit(epoch, progress, clock, out);
                if (evaluationDue(epoch)) progress.phase("evaluating the model on the test split");
                EvalResult eval = evaluationDue(epoch) ? evaluator.evaluate(fitter.model()) : null;
                line = eval == null ? line.evaluated(null, null, null, Instant.now().toString())
                        : line.evaluated(eval.loss(), eval.top1Accuracy(), eval.topKAccuracy(), Instant.now().toString());
                clock.lap("evaluation");
                metrics.add(line);
                boolean stop = earlyStop.shouldStop(line);
                progress.phase("copying the model for its checkpoint (written while the next epoch trains)");
                checkpointer.afterEpoch(line, stop, fitter.model().network(), checkpointMeta);
                clock.lap("checkpoint");
                if (eval != null) refreshCurve(writer, metrics.lines());
                clock.lap("report");
                metrics.completeLast(line.withTimes(clock.times()));
                print(line, clock.summary());
                if (eval != null) last = eval;
                epochsRun = epoch;
                examples += line.examples();
                if (stop) {
                    out.printf(Locale.ROOT, "early stopping after epoch %d: %s%n", epoch, earlyStop.describe());
                    break;
                }
            }
            progress.phase("writing the last checkpoint and the training curve"); // closing the writer waits for them
        }
        // Resumed after the final epoch: nothing left to train; report on the model as it is.
        if (last == null) last = evaluator.evaluate(fitter.model());
        fitter.finish();
        return new Trained(fitter.model(), last, epochsRun, examples, (System.nanoTime() - t0) / 1e9, metrics.lines());
    }

    /** The live view when ui.enabled (null otherwise); closing it stops the server: a finished job exits. */
    private TrainingUi startUi(EpochFitter fitter) throws IOException {
        boolean clusterExecutors = !sc.isLocal() && !sc.master().startsWith("local-cluster");
        TrainingUi ui = TrainingUi.startIfEnabled(cfg, in.runDir(), sc.hadoopConfiguration(),
                sc.getConf().get("spark.driver.host", null), clusterExecutors, out);
        fitter.reportTo(ui);
        return ui;
    }

    private boolean evaluationDue(int epoch) {
        return epoch == epochs || epoch % cfg.get(Options.EVAL_EVERY) == 0;
    }

    /** Refreshed after every evaluation, so a long run can be watched from its run directory. */
    private void refreshCurve(BackgroundWriter writer, List<MetricsLine> soFar) throws IOException {
        Configuration hadoop = sc.hadoopConfiguration();
        writer.submit(() -> {
            byte[] png = TrainingCurveChart.png(soFar, 900, 620);
            HadoopFs.writeAtomically(new Path(HadoopFs.path(in.runDir()), RunReport.CURVE_PNG), hadoop, o -> o.write(png));
        });
    }

    private void print(MetricsLine line, String times) {
        out.printf(Locale.ROOT, "epoch %d/%d  %s examples/s  %.1f s  lr %.2e  train loss %s%s%n  time: %s%n", line.epoch(),
                epochs, ProgressMeter.rate(line.examplesPerSecond()), line.epochSeconds(), line.learningRate(), line.trainLoss() != null
                        ? String.format(Locale.ROOT, "%.4f", line.trainLoss()) : "not measured", line.evaluated()
                        ? String.format(Locale.ROOT, "  test top-1 %.2f%%  top-5 %.2f%%", 100 * line.top1Accuracy(), 100 * line.top5Accuracy())
                        : "", times);
    }
}
