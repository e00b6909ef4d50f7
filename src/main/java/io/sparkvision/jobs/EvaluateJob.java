package io.sparkvision.jobs;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.data.Datasets;
import io.sparkvision.augment.AugmentSettings;
import io.sparkvision.data.ImageDataset;
import io.sparkvision.image.InputShape;
import io.sparkvision.evaluate.ClusterEvaluator;
import io.sparkvision.evaluate.EvalResult;
import io.sparkvision.evaluate.Evaluator;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.model.FineTuning;
import io.sparkvision.model.ModelMetadata;
import io.sparkvision.report.Report;
import io.sparkvision.report.RunReport;
import io.sparkvision.util.Json;
import io.sparkvision.config.SparkContexts;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import io.sparkvision.train.SparkModel;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;

/**
 * The evaluate job: top-1/top-k accuracy, per-class accuracy and the confusion matrix of a saved model on a
 * dataset split, computed on the executors ({@code doEvaluation}) and merged on the driver.
 */
public final class EvaluateJob {
    private EvaluateJob() {
    }

    public static void validate(JobConfig cfg) {
        cfg.require(Options.MODEL_PATH, "the evaluate job needs a saved model (a run's model.zip or a checkpoint)");
        cfg.require(Options.DATA_ROOT, "the evaluate job needs an ingested dataset");
        cfg.require(Options.OUTPUT_DIR, "the evaluate job writes its report there");
    }

    public static Map<String, Object> run(JobConfig cfg, PrintStream out) throws IOException {
        validate(cfg);
        try (JavaSparkContext sc = SparkContexts.create(cfg, "evaluate")) {
            return run(cfg, sc, out);
        }
    }

    /** The report as report.json parses (for callers that read it so: the tests, scripts); see {@link #evaluate}. */
    public static Map<String, Object> run(JobConfig cfg, JavaSparkContext sc, PrintStream out) throws IOException {
        return Json.asMap(evaluate(cfg, sc, out));
    }

    public static Report evaluate(JobConfig cfg, JavaSparkContext sc, PrintStream out) throws IOException {
        validate(cfg);
        String startedAt = Instant.now().toString();
        Configuration hadoop = sc.hadoopConfiguration();
        // A model registry directory means its current production model, resolved once for the whole job.
        Path modelPath = ModelFiles.resolve(HadoopFs.path(cfg.get(Options.MODEL_PATH)), hadoop);
        String root = cfg.get(Options.DATA_ROOT);
        String split = cfg.get(Options.DATA_TEST_SPLIT);
        DatasetDescriptor d = Datasets.readDescriptor(root, hadoop);
        Model net = ModelFiles.load(modelPath, hadoop);
        ModelMetadata meta = ModelFiles.readMetadata(modelPath, hadoop);
        ModelMetadata.requireCompatible(meta, net, "cannot evaluate model " + modelPath, "dataset " + root, null, null,
                d.classes(), d.preparationOrDefaults(), "evaluate a model trained on data with this dataset's classes and preparation");
        FineTuning fineTuned = FineTuning.recordedIn(meta == null ? null : meta.provenance());
        if (fineTuned != null) out.println("evaluate: the model was fine-tuned from " + fineTuned.initModel() + ": " + fineTuned.describe());
        if (meta != null && meta.mean() != null && meta.std() != null) {
            // Inputs are normalised as the model was trained, not with this dataset's own statistics.
            d = d.withNormalisation(meta.mean(), meta.std());
        }

        int workers = sc.defaultParallelism();
        // A model that takes crops of the stored images (model.input-size) is evaluated on their centre crop.
        InputShape input = meta != null && meta.inputShape() != null ? meta.inputShape() : new InputShape(d.channels(), d.height(), d.width());
        ImageDataset data = ImageDataset.load(sc, root, d, split, workers, cfg.get(Options.DATA_LIMIT), AugmentSettings.OFF, input);
        int topK = Math.min(cfg.get(Options.EVAL_TOP_K), d.classes().size());
        // The training master is unused by evaluation; DL4J's wrappers require one.
        SparkModel spark = SparkModel.of(sc, net, new ParameterAveragingTrainingMaster.Builder(workers, 1).build());
        long t0 = System.nanoTime();
        EvalResult r;
        try (Evaluator evaluator = new ClusterEvaluator(data, cfg.get(Options.EVAL_BATCH), d.classes(), topK)) {
            r = evaluator.evaluate(spark);
        }
        double secs = (System.nanoTime() - t0) / 1e9;

        Report.Model model = new Report.Model(meta == null || meta.architecture() == null ? "unknown" : meta.architecture(),
                net.numParams(), input.toString(), modelPath.toString());
        JobProvenance provenance = JobProvenance.of(cfg, sc, startedAt)
                .evaluation(workers, meta == null ? null : meta.provenance());
        Report report = Report.of(r, model, TrainJob.datasetInfo(root, d, split), null, provenance);
        String runDir = cfg.get(Options.OUTPUT_DIR);
        RunReport.write(runDir, report, null, r, "sparkvision evaluate: " + model.name() + " on " + d.name() + "/" + split, hadoop);
        out.printf(Locale.ROOT, "evaluate: %,d images in %.1f s on %d workers: top-1 accuracy %.2f%% (error %.2f%%), "
                        + "top-%d accuracy %.2f%% (error %.2f%%); report %s/%s%n", r.examples(), secs, workers,
                100 * r.top1Accuracy(), 100 * r.top1Error(), topK, 100 * r.topKAccuracy(), 100 * r.topKError(), runDir, RunReport.HTML);
        return report;
    }
}
