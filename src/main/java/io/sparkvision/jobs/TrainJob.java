package io.sparkvision.jobs;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.data.Datasets;
import io.sparkvision.data.ImageDataset;
import io.sparkvision.evaluate.DriverEvaluator;
import io.sparkvision.evaluate.EvalResult;
import io.sparkvision.io.BackgroundWriter;
import io.sparkvision.train.CheckpointStore;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.model.Architecture;
import io.sparkvision.image.InputShape;
import io.sparkvision.model.Architectures;
import io.sparkvision.report.RunReport;
import io.sparkvision.report.TrainingCurveChart;
import io.sparkvision.train.EarlyStopping;
import io.sparkvision.train.EpochClock;
import io.sparkvision.train.GradientSharingPreflight;
import io.sparkvision.train.LearningRates;
import io.sparkvision.train.ProgressMeter;
import io.sparkvision.train.TrainingCounters;
import io.sparkvision.train.TrainingMasters;
import io.sparkvision.util.Json;
import io.sparkvision.config.SparkContexts;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import io.sparkvision.model.Models;
import io.sparkvision.train.SparkModel;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The train job: load the ingested dataset, build the model, fit it on Spark epoch by epoch with the driver-side
 * evaluator and a checkpoint after each, then write the report.
 */
public final class TrainJob {
    public static final String METRICS = "metrics.jsonl";
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
        cfg.check(!"adamw".equals(cfg.get(Options.TRAIN_UPDATER)) || cfg.get(Options.TRAIN_WEIGHT_DECAY) > 0,
                Options.TRAIN_UPDATER, "adamw needs train.weight-decay > 0 (e.g. 0.01); without it use adam");
        cfg.check(cfg.get(Options.TRAIN_WARMUP_EPOCHS) < cfg.get(Options.TRAIN_EPOCHS), Options.TRAIN_WARMUP_EPOCHS,
                "must be fewer than train.epochs (" + cfg.get(Options.TRAIN_EPOCHS) + ")");
    }

    public static Map<String, Object> run(JobConfig cfg, PrintStream out) throws IOException {
        validate(cfg);
        try (JavaSparkContext sc = SparkContexts.create(cfg, "train")) {
            return run(cfg, sc, out);
        }
    }

    public static Map<String, Object> run(JobConfig cfg, JavaSparkContext sc, PrintStream out) throws IOException {
        validate(cfg);
        String startedAt = Instant.now().toString();
        Configuration hadoop = sc.hadoopConfiguration();
        String root = cfg.get(Options.DATA_ROOT);
        String runDir = cfg.get(Options.OUTPUT_DIR);
        DatasetDescriptor d = Datasets.readDescriptor(root, hadoop);
        Datasets.requireSplits(d, root, cfg.get(Options.DATA_TRAIN_SPLIT), cfg.get(Options.DATA_TEST_SPLIT));
        int workers = cfg.get(Options.TRAIN_WORKERS) > 0 ? cfg.get(Options.TRAIN_WORKERS) : sc.defaultParallelism();
        int batch = cfg.get(Options.TRAIN_BATCH);
        int epochs = cfg.get(Options.TRAIN_EPOCHS);
        long seed = cfg.get(Options.TRAIN_SEED);
        InputShape shape = new InputShape(d.channels(), d.height(), d.width());

        // 1. Model: fresh, or the newest complete checkpoint when resuming.
        Architecture arch = Architectures.get(cfg.get(Options.MODEL_NAME));
        CheckpointStore checkpoints = new CheckpointStore(new Path(HadoopFs.path(runDir), "checkpoints").toString(),
                hadoop, cfg.get(Options.CHECKPOINT_KEEP), cfg.get(Options.CHECKPOINT_BEST_METRIC));
        List<Map<String, Object>> metrics = new ArrayList<>();
        Model net = null;
        int firstEpoch = 1;
        if ("latest".equals(cfg.get(Options.TRAIN_RESUME))) {
            Optional<Integer> latest = checkpoints.latest();
            if (latest.isPresent()) {
                checkResumable(checkpoints.metadata(latest.get()), arch, shape, d, checkpoints.dir());
                net = checkpoints.load(latest.get());
                firstEpoch = latest.get() + 1;
                metrics.addAll(readMetrics(runDir, hadoop, latest.get()));
                out.printf("resume: continuing after epoch %d from %s%n", latest.get(), checkpoints.dir());
            } else {
                out.printf("resume: no complete checkpoint in %s, starting from scratch%n", checkpoints.dir());
            }
        }
        if (net == null && !cfg.get(Options.TRAIN_INIT_MODEL).isBlank()) {
            // Warm start (the nightly retrain, fine-tuning on new data): weights and optimiser state of a saved model.
            Path init = HadoopFs.path(cfg.get(Options.TRAIN_INIT_MODEL));
            checkResumable(ModelFiles.metadata(init, hadoop), arch, shape, d, init);
            net = ModelFiles.load(init, hadoop);
            out.printf("warm start from %s%n", init);
        }
        if (net == null) {
            net = arch.build(shape, d.classes().size(), seed, LearningRates.updater(cfg), cfg.get(Options.TRAIN_WEIGHT_DECAY));
        }
        out.printf(Locale.ROOT, "model: %s, %,d parameters; %s on %d workers (%s), batch %d per worker, averaging every %d%n",
                arch.name(), net.numParams(), cfg.get(Options.TRAIN_MASTER), workers, sc.master(), batch,
                cfg.get(Options.TRAIN_AVG_FREQ));

        if ("gradient-sharing".equals(cfg.get(Options.TRAIN_MASTER))) GradientSharingPreflight.check(sc);
        // 2. Sizing before any Spark work: what a round moves and holds against the memory this application has.
        io.sparkvision.train.RoundSizing sizing = io.sparkvision.train.SizingCheck.run(cfg, sc, net, shape, workers,
                d.count(cfg.get(Options.DATA_TRAIN_SPLIT)), out);

        // 3. Data (after the sizing, which needs none): decode both splits on the executors once; the evaluator's batches live on the driver.
        long t0 = System.nanoTime();
        // Augmentation comes from this job's config (whoever created the Spark context); the test split never has any.
        ImageDataset train = ImageDataset.load(sc, root, d, cfg.get(Options.DATA_TRAIN_SPLIT), workers, cfg.get(Options.DATA_LIMIT),
                io.sparkvision.augment.AugmentSettings.of(cfg));
        ImageDataset test = ImageDataset.load(sc, root, d, cfg.get(Options.DATA_TEST_SPLIT), workers, cfg.get(Options.DATA_LIMIT),
                io.sparkvision.augment.AugmentSettings.OFF);
        boolean onCluster = "cluster".equals(cfg.get(Options.EVAL_WHERE));
        DriverEvaluator evaluator = null;
        if (!onCluster) {
            evaluator = new DriverEvaluator(test.batches(cfg.get(Options.EVAL_BATCH)).collect(), d.classes(), cfg.get(Options.EVAL_TOP_K));
            test.release();
        }
        out.printf(Locale.ROOT, "data: %,d train + %,d test images of %s, %d classes, decoded in %.1f s%n",
                train.count(), test.count(), shape, d.classes().size(), (System.nanoTime() - t0) / 1e9);

        // 4. Train, evaluating and checkpointing as configured.
        boolean perEpochMaster = "parameter-averaging".equals(cfg.get(Options.TRAIN_MASTER));
        // Gradient sharing's schedule clock: a worker's minibatches per epoch (ImageDataset spreads an epoch evenly over
        // the workers) and its iteration count, which starts where the driver's network stands when first sent.
        int batchesPerWorker = (int) Math.ceil(train.count() / (double) batch / workers);
        if (!perEpochMaster) Models.setIterationCount(net, (firstEpoch - 1) * batchesPerWorker);
        long sharedSteps = metrics.isEmpty() || !(metrics.get(metrics.size() - 1).get("iteration") instanceof Number) ? 0
                : ((Number) metrics.get(metrics.size() - 1).get("iteration")).longValue();
        SparkModel spark = SparkModel.of(sc, net, TrainingMasters.create(cfg, workers, epochSeed(seed, firstEpoch), batchesPerWorker));
        TrainingCounters counters = new TrainingCounters(sc);
        List<TrainingListener> listeners = List.of(counters.workerListener());
        LearningRates lr = new LearningRates(cfg, workers);
        EarlyStopping earlyStop = new EarlyStopping(cfg.get(Options.TRAIN_EARLY_STOP_METRIC), cfg.get(Options.TRAIN_EARLY_STOP_PATIENCE));
        for (Map<String, Object> earlier : metrics) {
            if (earlier.containsKey("top1Accuracy")) earlyStop.shouldStop(earlier); // a resumed run remembers its best
        }
        long lastCheckpointNanos = System.nanoTime();
        int epochsRun = firstEpoch - 1;
        Map<String, Object> dataset = datasetInfo(root, d, cfg.get(Options.DATA_TEST_SPLIT));
        EvalResult last = null;
        long trainStart = System.nanoTime();
        long trainedExamples = 0;
        try (ProgressMeter progress = new ProgressMeter(counters, out, epochs, train.count(), batch,
                cfg.get(Options.PROGRESS_SECONDS));
             EpochClock clock = new EpochClock(sc, workers);
             // Checkpoints and the chart are written while the next epoch trains; closing waits for the last ones.
             BackgroundWriter writer = new BackgroundWriter()) {
            for (int epoch = firstEpoch; epoch <= epochs; epoch++) {
                if (perEpochMaster && epoch > firstEpoch) {
                    // A new master per epoch, seeded by the epoch: how the epoch is cut into averaging rounds then
                    // does not depend on where the run started, which makes --resume reproduce an unbroken run.
                    spark = SparkModel.of(sc, spark.network(), TrainingMasters.create(cfg, workers, epochSeed(seed, epoch), batchesPerWorker));
                }
                spark.setListeners(listeners);
                double rate = lr.at(epoch);
                if (perEpochMaster) Models.setLearningRate(spark.network(), rate);
                else Models.setLearningRate(spark.network(), lr.iterationSchedule(batchesPerWorker)); // reaches GS workers
                progress.startEpoch(epoch);
                clock.startEpoch();
                JavaRDD<DataSet> batches = train.epochBatches(seed, epoch, batch);
                clock.startFit();
                spark.fit(batches);
                clock.fitDone();
                batches.unpersist(false);
                Map<String, Object> workerCopies = perEpochMaster ? null : adoptWorkerModels(sc, spark, workers, evaluator, out);
                Models.setEpochCount(spark.network(), epoch);
                double secs = progress.epochSeconds();
                TrainingCounters.Snapshot counted = progress.epochCounts();
                long seen = counted.examples();
                trainedExamples += seen;
                // Gradient sharing: the driver's network never fits; every worker's minibatch is one step of the
                // shared model, so the run's iteration is the minibatches the workers fitted.
                sharedSteps += counted.minibatches();
                // The mean loss of the epoch's minibatches as the workers measured them; a value nobody measured is
                // left out rather than written as 0.
                double trainLoss = counted.minibatches() > 0 ? counted.meanLoss() : perEpochMaster ? spark.score() : Double.NaN;

                Map<String, Object> line = new LinkedHashMap<>();
                line.put("epoch", epoch);
                if (perEpochMaster) line.put("iteration", Models.iterationCount(spark.network()));
                else if (counted.minibatches() > 0) line.put("iteration", sharedSteps);
                line.put("learningRate", rate);
                if (Double.isFinite(trainLoss)) line.put("trainLoss", trainLoss);
                line.put("examples", seen);
                if (!perEpochMaster) {
                    Map<String, Object> mesh = counters.takeMeshReport();
                    mesh.putAll(workerCopies);
                    line.put("gradientSharing", mesh);
                    out.println("  gradient sharing: " + TrainingCounters.describe(mesh));
                }
                line.put("epochSeconds", secs);
                line.put("examplesPerSecond", seen / secs);
                boolean lastEpoch = epoch == epochs;
                if (lastEpoch || epoch % cfg.get(Options.EVAL_EVERY) == 0) {
                    last = onCluster ? clusterEvaluation(spark, test, cfg, d) : evaluator.evaluate(spark.network());
                    line.put("testLoss", last.loss());
                    line.put("top1Accuracy", last.top1Accuracy());
                    line.put("top5Accuracy", last.topKAccuracy());
                    line.put("top1Error", last.top1Error());
                    line.put("top5Error", last.topKError());
                }
                clock.lap("evaluation");
                line.put("time", Instant.now().toString());
                metrics.add(line);
                epochsRun = epoch;
                boolean stop = line.containsKey("top1Accuracy") && earlyStop.shouldStop(line);
                int everyMinutes = cfg.get(Options.CHECKPOINT_EVERY_MINUTES);
                boolean due = everyMinutes > 0 && System.nanoTime() - lastCheckpointNanos > everyMinutes * 60e9;
                if (lastEpoch || stop || due || epoch % cfg.get(Options.CHECKPOINT_EVERY) == 0) {
                    Map<String, Object> meta = modelMetadata(arch, shape, d, dataset, null);
                    meta.put("metrics", new LinkedHashMap<>(line));
                    // At most one checkpoint in flight: wait for the previous one, then hand a copy to the writer.
                    writer.awaitIdle();
                    Models.Snapshot snapshot = Models.snapshot(spark.network());
                    int checkpointEpoch = epoch;
                    writer.submit(() -> checkpoints.write(snapshot.model(), checkpointEpoch, meta));
                    lastCheckpointNanos = System.nanoTime();
                }
                clock.lap("checkpoint");
                if (line.containsKey("top1Accuracy")) {
                    // Refreshed after every evaluation, so a long run can be watched from its run directory.
                    List<Map<String, Object>> soFar = List.copyOf(metrics);
                    writer.submit(() -> {
                        byte[] png = TrainingCurveChart.png(soFar, 900, 620);
                        HadoopFs.writeAtomically(new Path(HadoopFs.path(runDir), RunReport.CURVE_PNG), hadoop, o -> o.write(png));
                    });
                }
                clock.lap("report");
                line.putAll(clock.fields());
                writeMetrics(runDir, metrics, hadoop);
                out.printf(Locale.ROOT, "epoch %d/%d  %,.1f examples/s  %.1f s  lr %.2e  train loss %s%s%n  time: %s%n", epoch, epochs,
                        seen / secs, secs, rate, Double.isFinite(trainLoss) ? String.format(Locale.ROOT, "%.4f", trainLoss)
                                : "not measured", line.containsKey("top1Accuracy")
                                ? String.format(Locale.ROOT, "  test top-1 %.2f%%  top-5 %.2f%%", 100 * last.top1Accuracy(), 100 * last.topKAccuracy())
                                : "", clock.summary());
                if (stop) {
                    out.printf(Locale.ROOT, "early stopping after epoch %d: %s has not improved for %d evaluations%n",
                            epoch, cfg.get(Options.TRAIN_EARLY_STOP_METRIC), cfg.get(Options.TRAIN_EARLY_STOP_PATIENCE));
                    break;
                }
            }
        }
        if (last == null) {
            // Resumed after the final epoch: nothing left to train; report on the model as it is.
            last = onCluster ? clusterEvaluation(spark, test, cfg, d) : evaluator.evaluate(spark.network());
        }
        if (!perEpochMaster) TrainingMasters.stopGradientSharing();
        if (onCluster) test.release();
        double trainSeconds = (System.nanoTime() - trainStart) / 1e9;
        train.release();

        // 5. Final model and report.
        Map<String, Object> provenance = provenance(cfg, sc, workers, d, startedAt);
        provenance.put("sizing", sizing.toMap());
        Map<String, Object> model = modelMetadata(arch, shape, d, dataset, provenance);
        model.put("parameters", spark.network().numParams());
        Path modelPath = new Path(HadoopFs.path(runDir), MODEL);
        ModelFiles.save(spark.network(), modelPath, model, hadoop);
        Map<String, Object> modelInfo = new LinkedHashMap<>();
        modelInfo.put("name", arch.name());
        modelInfo.put("parameters", spark.network().numParams());
        modelInfo.put("input", shape.toString());
        modelInfo.put("path", modelPath.toString());
        Map<String, Object> training = new LinkedHashMap<>();
        training.put("epochs", epochsRun);
        training.put("wallSeconds", trainSeconds);
        training.put("examplesPerSecond", trainedExamples / trainSeconds);
        training.put("workers", workers);
        training.put("trainingMaster", cfg.get(Options.TRAIN_MASTER));
        Map<String, Object> report = RunReport.json(last, modelInfo, dataset, training, provenance);
        RunReport.write(runDir, report, metrics, last, "sparkvision: " + arch.name() + " on " + d.name(), hadoop);
        out.printf(Locale.ROOT, "done: test top-1 accuracy %.2f%% (top-5 %.2f%%) after %d epochs in %.0f s; report %s/%s%n",
                100 * last.top1Accuracy(), 100 * last.topKAccuracy(), epochsRun, trainSeconds, runDir, RunReport.HTML);
        return report;
    }

    /** Top-1/top-k on the executors ({@code doEvaluation}), merged on the driver, plus the mean loss. */
    static EvalResult clusterEvaluation(SparkModel spark, ImageDataset test, JobConfig cfg, DatasetDescriptor d) {
        int topK = Math.min(cfg.get(Options.EVAL_TOP_K), d.classes().size());
        JavaRDD<DataSet> batches = test.batches(cfg.get(Options.EVAL_BATCH));
        org.nd4j.evaluation.classification.Evaluation ev = spark.evaluate(batches, cfg.get(Options.EVAL_BATCH),
                new org.nd4j.evaluation.classification.Evaluation(d.classes(), topK));
        return EvalResult.of(ev, spark.meanLoss(batches), d.classes());
    }

    static long epochSeed(long seed, int epoch) {
        return seed * 1_000_003L + epoch;
    }

    /** The metrics lines of epochs up to {@code lastEpoch} from an earlier, interrupted run. */
    static List<Map<String, Object>> readMetrics(String runDir, Configuration conf, int lastEpoch) throws IOException {
        Path p = new Path(HadoopFs.path(runDir), METRICS);
        List<Map<String, Object>> out = new ArrayList<>();
        if (!HadoopFs.exists(p, conf)) return out;
        for (String line : HadoopFs.readString(p, conf).split("\n")) {
            if (line.isBlank()) continue;
            @SuppressWarnings("unchecked")
            Map<String, Object> m = Json.read(line, Map.class);
            if (((Number) m.get("epoch")).intValue() <= lastEpoch) out.add(m);
        }
        return out;
    }

    /** A checkpoint from another architecture or dataset cannot be continued: say so instead of failing later. */
    static void checkResumable(Map<String, Object> meta, Architecture arch, InputShape shape, DatasetDescriptor d, Path dir) {
        if (meta == null) return;
        if (!arch.name().equals(meta.get("architecture")) || !shape.toString().equals(meta.get("input"))
                || !d.classes().equals(meta.get("classes"))) {
            throw new IllegalArgumentException("cannot continue from " + dir + ": it holds " + meta.get("architecture")
                    + " on " + meta.get("input") + " with classes " + meta.get("classes") + ", this job is " + arch.name()
                    + " on " + shape + " with " + d.classes().size() + " classes; use a matching model, another output.dir or train.resume = none");
        }
    }

    static void writeMetrics(String runDir, List<Map<String, Object>> metrics, Configuration conf) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (Map<String, Object> m : metrics) sb.append(Json.line(m)).append('\n');
        // Rewritten whole each epoch: a reader never sees a partial line, on object stores too.
        HadoopFs.writeStringAtomically(new Path(HadoopFs.path(runDir), METRICS), sb.toString(), conf);
    }

    static Map<String, Object> datasetInfo(String root, DatasetDescriptor d, String split) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", d.name());
        m.put("root", HadoopFs.path(root).toString());
        m.put("split", split);
        m.put("contentHash", d.contentHash());
        m.put("manifestHash", d.manifestHash());
        return m;
    }

    static Map<String, Object> modelMetadata(Architecture arch, InputShape shape, DatasetDescriptor d,
                                             Map<String, Object> dataset, Map<String, Object> provenance) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architecture", arch.name());
        m.put("input", shape.toString());
        m.put("classes", d.classes());
        m.put("mean", d.mean());
        m.put("std", d.std());
        var preparation = d.preparationOrDefaults(); // what the score job prepares raw images with
        if (preparation != null) m.put("preparation", preparation);
        m.put("dataset", dataset);
        if (provenance != null) m.put("provenance", provenance);
        return m;
    }

    static Map<String, Object> provenance(JobConfig cfg, JavaSparkContext sc, int workers, DatasetDescriptor d, String startedAt) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("codeVersion", io.sparkvision.util.Provenance.codeVersion());
        p.put("configOrigin", cfg.origin());
        p.put("config", cfg.resolved());
        p.put("seed", cfg.get(Options.TRAIN_SEED));
        p.put("datasetContentHash", d.contentHash());
        p.put("datasetManifestHash", d.manifestHash());
        p.put("sparkMaster", sc.master());
        p.put("sparkVersion", sc.version());
        p.put("workers", workers);
        p.put("javaVersion", System.getProperty("java.version"));
        p.put("startedAt", startedAt);
        p.put("endedAt", Instant.now().toString());
        return p;
    }

    /**
     * Gradient sharing: the model that trained is on the executors (see {@link WorkerModels}); the driver's own copy
     * is what its mesh node received. Makes the executors' mean the driver's network and reports how far apart the
     * copies were.
     */
    private static Map<String, Object> adoptWorkerModels(JavaSparkContext sc, SparkModel spark, int workers,
                                                         DriverEvaluator evaluator, PrintStream out) {
        Map<String, org.nd4j.linalg.api.ndarray.INDArray> copies = io.sparkvision.train.WorkerModels.collect(sc, workers);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("workerModels", copies.size());
        if (copies.isEmpty()) {
            out.println("  gradient sharing: no executor returned its model; the driver's mesh copy is kept");
            return report;
        }
        org.nd4j.linalg.api.ndarray.INDArray mean = io.sparkvision.train.WorkerModels.mean(copies);
        double spread = io.sparkvision.train.WorkerModels.spread(copies, mean);
        report.put("workerSpread", spread);
        report.put("driverLag", spark.network().params().distance2(mean) / mean.norm2Number().doubleValue());
        if (evaluator != null && System.getenv("SPARKVISION_GS_DIAGNOSE") != null) {
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "  gs diagnose: driver copy top-1 %.4f",
                    evaluator.evaluate(spark.network()).top1Accuracy()));
            org.deeplearning4j.nn.api.Model probe = spark.network() instanceof org.deeplearning4j.nn.multilayer.MultiLayerNetwork m
                    ? m.clone() : ((org.deeplearning4j.nn.graph.ComputationGraph) spark.network()).clone();
            for (Map.Entry<String, org.nd4j.linalg.api.ndarray.INDArray> e : copies.entrySet()) {
                probe.params().assign(e.getValue());
                b.append(String.format(Locale.ROOT, ", executor %s %.4f", e.getKey(), evaluator.evaluate(probe).top1Accuracy()));
            }
            probe.params().assign(mean);
            b.append(String.format(Locale.ROOT, ", mean %.4f, spread %.4f", evaluator.evaluate(probe).top1Accuracy(), spread));
            out.println(b);
        }
        io.sparkvision.train.WorkerModels.adopt(spark.network(), mean);
        return report;
    }
}
