package io.sparkvision.jobs;

import io.sparkvision.augment.AugmentSettings;
import io.sparkvision.config.Choices;
import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.data.Datasets;
import io.sparkvision.data.ImageDataset;
import io.sparkvision.evaluate.Evaluator;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.FineTuning;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.model.ModelMetadata;
import io.sparkvision.model.Architecture;
import io.sparkvision.image.ImagePreparation;
import io.sparkvision.image.InputShape;
import io.sparkvision.model.Architectures;
import io.sparkvision.report.Report;
import io.sparkvision.report.RunReport;
import io.sparkvision.train.sharing.GradientSharingPreflight;
import io.sparkvision.train.MetricsLog;
import io.sparkvision.train.sizing.CacheSizing;
import io.sparkvision.train.sizing.RoundSizing;
import io.sparkvision.train.sizing.SizingCheck;
import io.sparkvision.config.SparkContexts;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;

/**
 * The train job, as its data flows: load the ingested dataset's description, start the model (fresh, resumed or
 * warm-started), size the rounds, decode both splits, train epoch by epoch ({@link EpochLoop}: fit, evaluate,
 * record, checkpoint), then save the model and write the report.
 */
public final class TrainJob {
    public static final String METRICS = MetricsLog.FILE;
    public static final String MODEL = "model.zip";

    private TrainJob() {
    }

    /** Everything the job needs that can be checked without Spark. */
    public static void validate(JobConfig cfg) {
        cfg.require(Options.DATA_ROOT, "the train job needs an ingested dataset");
        cfg.require(Options.OUTPUT_DIR, "the train job writes its report and checkpoints there");
        int batch = cfg.get(Options.TRAIN_BATCH);
        cfg.check(cfg.get(Options.EVAL_BATCH) >= 1, Options.EVAL_BATCH, "must be positive");
        cfg.check(batch >= 1, Options.TRAIN_BATCH, "must be positive");
        cfg.check(cfg.get(Options.TRAIN_UPDATER) != Choices.Updater.ADAMW || cfg.get(Options.TRAIN_WEIGHT_DECAY) > 0,
                Options.TRAIN_UPDATER, "adamw needs train.weight-decay > 0 (e.g. 0.01); without it use adam");
        cfg.check(cfg.get(Options.TRAIN_WARMUP_EPOCHS) < cfg.get(Options.TRAIN_EPOCHS), Options.TRAIN_WARMUP_EPOCHS,
                "must be fewer than train.epochs (" + cfg.get(Options.TRAIN_EPOCHS) + ")");
        FineTuneKeys.validate(cfg);
    }

    public static Map<String, Object> run(JobConfig cfg, PrintStream out) throws IOException {
        validate(cfg);
        try (JavaSparkContext sc = SparkContexts.create(cfg, "train")) {
            return run(cfg, sc, out);
        }
    }

    /** The report as report.json parses (for callers that read it so: the tests, scripts); see {@link #train}. */
    public static Map<String, Object> run(JobConfig cfg, JavaSparkContext sc, PrintStream out) throws IOException {
        return Json.asMap(train(cfg, sc, out));
    }

    public static Report train(JobConfig cfg, JavaSparkContext sc, PrintStream out) throws IOException {
        validate(cfg);
        String startedAt = Instant.now().toString();
        Inputs in = Inputs.load(cfg, sc);
        TrainStart start = TrainStart.choose(cfg, in, sc.hadoopConfiguration(), out);
        RoundSizing sizing = sizeRounds(cfg, sc, in, start.net(), out);
        // The sizing may have chosen a smaller driver-side evaluation batch (it says so); the evaluator uses it.
        if (sizing.evalBatch() > 0 && sizing.evalBatch() != cfg.get(Options.EVAL_BATCH)) {
            cfg = cfg.with(Map.of(Options.EVAL_BATCH.key(), sizing.evalBatch()));
        }
        try (Splits data = Splits.decode(cfg, sc, in, out)) {
            EpochLoop.Trained trained = new EpochLoop(cfg, sc, in, data.evaluator(), out).run(start, data.train());
            return record(cfg, sc, in, trained, sizing, start.fineTuning(), startedAt, out);
        }
    }

    /** What the job trains on and with: the dataset's description, its input shape, the architecture, the workers. */
    record Inputs(String root, String runDir, DatasetDescriptor dataset, InputShape shape, Architecture arch, int workers) {
        static Inputs load(JobConfig cfg, JavaSparkContext sc) throws IOException {
            String root = cfg.get(Options.DATA_ROOT);
            DatasetDescriptor d = Datasets.readDescriptor(root, sc.hadoopConfiguration());
            Datasets.requireSplits(d, root, cfg.get(Options.DATA_TRAIN_SPLIT), cfg.get(Options.DATA_TEST_SPLIT));
            Datasets.requireClasses(d, root, cfg.get(Options.DATA_TRAIN_SPLIT));
            int workers = cfg.get(Options.TRAIN_WORKERS) > 0 ? cfg.get(Options.TRAIN_WORKERS) : sc.defaultParallelism();
            return new Inputs(root, cfg.get(Options.OUTPUT_DIR), d, inputShape(cfg, d, root),
                    Architectures.get(cfg.get(Options.MODEL_NAME)), workers);
        }

        /** The model's input: model.input-size square crops of the stored images, or the stored size itself. */
        static InputShape inputShape(JobConfig cfg, DatasetDescriptor d, String root) {
            int side = cfg.get(Options.MODEL_INPUT_SIZE);
            if (side == 0) return new InputShape(d.channels(), d.height(), d.width());
            cfg.check(side <= Math.min(d.height(), d.width()), Options.MODEL_INPUT_SIZE, "must be at most the stored size of dataset "
                    + root + " (" + d.width() + "x" + d.height() + ", its ingest.image-size): the model takes crops of the stored "
                    + "images; lower it or re-ingest with a larger ingest.image-size");
            return new InputShape(d.channels(), side, side);
        }

        /** The dataset part of report.json and model.json. */
        Report.Dataset datasetInfo(String split) {
            return TrainJob.datasetInfo(root, dataset, split);
        }
    }

    /** Before any Spark work: the mesh can form, and a round's traffic and memory fit this application. */
    static RoundSizing sizeRounds(JobConfig cfg, JavaSparkContext sc, Inputs in, Model net, PrintStream out) {
        out.printf(Locale.ROOT, "model: %s, %,d parameters; %s on %d workers (%s), batch %d per worker, averaging every %d%n",
                in.arch().name(), net.numParams(), cfg.get(Options.TRAIN_MASTER), in.workers(), sc.master(),
                cfg.get(Options.TRAIN_BATCH), cfg.get(Options.TRAIN_AVG_FREQ));
        if (!cfg.get(Options.TRAIN_MASTER).perEpoch()) GradientSharingPreflight.check(sc);
        return SizingCheck.run(cfg, sc, net, in.shape(), in.workers(), in.dataset().count(cfg.get(Options.DATA_TRAIN_SPLIT)), out);
    }

    /** Both splits decoded on the executors once (after the sizing, which needs none); closing releases them. */
    record Splits(ImageDataset train, Evaluator evaluator) implements AutoCloseable {
        static Splits decode(JobConfig cfg, JavaSparkContext sc, Inputs in, PrintStream out) {
            long t0 = System.nanoTime();
            DatasetDescriptor d = in.dataset();
            int limit = cfg.get(Options.DATA_LIMIT);
            String trainSplit = cfg.get(Options.DATA_TRAIN_SPLIT), testSplit = cfg.get(Options.DATA_TEST_SPLIT);
            out.println(CacheSizing.estimateLine(d, limitedCount(d, trainSplit, limit), limitedCount(d, testSplit, limit),
                    CacheSizing.storageMemory(sc)));
            // Augmentation comes from this job's config; the test split never has any (and takes centre crops).
            ImageDataset train = ImageDataset.load(sc, in.root(), d, trainSplit, in.workers(), limit, AugmentSettings.of(cfg), in.shape())
                    .withInputThreads(cfg.get(Options.TRAIN_INPUT_THREADS));
            ImageDataset test = ImageDataset.load(sc, in.root(), d, testSplit, in.workers(), limit, AugmentSettings.OFF, in.shape());
            long testCount = test.count();
            out.println(CacheSizing.measuredLine(train.cacheUse(), test.cacheUse()));
            Evaluator evaluator = Evaluator.of(cfg.get(Options.EVAL_WHERE), test, cfg.get(Options.EVAL_BATCH), d.classes(),
                    cfg.get(Options.EVAL_TOP_K));
            out.printf(Locale.ROOT, "data: %,d train + %,d test images of %s, %d classes, decoded in %.1f s%n",
                    train.count(), testCount, in.shape(), d.classes().size(), (System.nanoTime() - t0) / 1e9);
            return new Splits(train, evaluator);
        }

        static long limitedCount(DatasetDescriptor d, String split, int limit) {
            return limit > 0 ? Math.min(limit, d.count(split)) : d.count(split);
        }

        @Override
        public void close() {
            evaluator.close();
            train.release();
        }
    }

    /** The final model (model.zip + model.json), report.json and its pictures. */
    static Report record(JobConfig cfg, JavaSparkContext sc, Inputs in, EpochLoop.Trained trained,
                                      RoundSizing sizing, FineTuning fineTuning, String startedAt, PrintStream out) throws IOException {
        Configuration hadoop = sc.hadoopConfiguration();
        Model net = trained.model().network();
        Report.Dataset dataset = in.datasetInfo(cfg.get(Options.DATA_TEST_SPLIT));
        JobProvenance provenance = JobProvenance.of(cfg, sc, startedAt)
                .training(cfg, sc, in.dataset(), in.workers(), sizing.toMap()).fineTuned(fineTuning);
        ModelMetadata model = modelMetadata(in.arch(), in.shape(), in.dataset(), dataset, Json.asMap(provenance))
                .withParameters(net.numParams());
        Path modelPath = new Path(HadoopFs.path(in.runDir()), MODEL);
        ModelFiles.save(net, modelPath, model, hadoop);
        Report.Model modelInfo = new Report.Model(in.arch().name(), net.numParams(), in.shape().toString(), modelPath.toString());
        Report.Training training = new Report.Training(trained.epochs(), trained.seconds(),
                trained.examples() / trained.seconds(), in.workers(), cfg.get(Options.TRAIN_MASTER).label());
        Report report = Report.of(trained.last(), modelInfo, dataset, training, provenance);
        RunReport.write(in.runDir(), report, trained.metrics(), trained.last(),
                "sparkvision: " + in.arch().name() + " on " + in.dataset().name(), hadoop);
        out.printf(Locale.ROOT, "done: test top-1 accuracy %.2f%% (top-5 %.2f%%) after %d epochs in %.0f s; report %s/%s%n",
                100 * trained.last().top1Accuracy(), 100 * trained.last().topKAccuracy(), trained.epochs(), trained.seconds(),
                in.runDir(), RunReport.HTML);
        return report;
    }

    /** A checkpoint from another architecture or dataset cannot be continued: say so instead of failing later. */
    static void checkResumable(ModelMetadata meta, Architecture arch, InputShape shape, DatasetDescriptor d, Path dir) {
        ModelMetadata.requireCompatible(meta, null, "cannot continue from " + dir, "this job", arch.name(), shape,
                d.classes(), null, "use a matching model, another output.dir or train.resume = none");
    }

    static Report.Dataset datasetInfo(String root, DatasetDescriptor d, String split) {
        return new Report.Dataset(d.name(), HadoopFs.path(root).toString(), split, d.contentHash(), d.manifestHash());
    }

    /** model.json (and each checkpoint's metadata): what the model is, what it was trained on and how. */
    static ModelMetadata modelMetadata(Architecture arch, InputShape shape, DatasetDescriptor d,
                                       Report.Dataset dataset, Map<String, Object> provenance) {
        // The preparation is what the score job prepares raw images with.
        ImagePreparation stored = d.preparationOrDefaults();
        // A model that takes crops of the stored images records their size: the score job centre-crops to it.
        ImagePreparation prep = stored != null && shape.width() == shape.height() && shape.width() < stored.size()
                ? stored.withInputSize(shape.width()) : stored;
        return ModelMetadata.of(arch.name(), shape, d.classes(), d.mean(), d.std(), prep,
                new ModelMetadata.Dataset(dataset.name(), dataset.root(), dataset.split(), dataset.contentHash(),
                        dataset.manifestHash()), provenance);
    }
}
