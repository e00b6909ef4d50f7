package io.sparkvision.jobs;

import io.sparkvision.config.Choices;
import io.sparkvision.config.Choices.Metric;
import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.ingest.DatasetStorage;
import io.sparkvision.data.Datasets;
import io.sparkvision.ingest.ImageIngest;
import io.sparkvision.ingest.IngestSettings;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.model.ModelMetadata;
import io.sparkvision.report.Report;
import io.sparkvision.retrain.CandidateRecord;
import io.sparkvision.retrain.CurrentPointer;
import io.sparkvision.retrain.HistoryEntry;
import io.sparkvision.retrain.LandingManifests;
import io.sparkvision.retrain.NightOutcome;
import io.sparkvision.retrain.Promotion;
import io.sparkvision.retrain.Registry;
import io.sparkvision.retrain.RegistryLock;
import io.sparkvision.retrain.ShardedWindow;
import io.sparkvision.retrain.TrainingWindow;
import io.sparkvision.util.Json;
import io.sparkvision.config.SparkContexts;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The nightly retrain: ingest what landed, warm-start from the production model, train on the window, evaluate the
 * candidate and the production model on the same fixed holdout, promote only a model that is not worse, and record
 * the decision. Steps, in order:
 * <ol>
 *   <li>stop at once if this night was already decided (a re-run is a no-op);</li>
 *   <li>take the registry lock (one run at a time; stale locks are taken over);</li>
 *   <li>ingest new landing partitions into the registry's nightly dataset (only unseen files are read);</li>
 *   <li>cut the training window and write it, with the holdout, as the candidate's dataset;</li>
 *   <li>train (warm start from {@code current}; a crashed night resumes from its checkpoints);</li>
 *   <li>evaluate candidate and current on the holdout; decide; point {@code current} at the winner; record.</li>
 * </ol>
 */
public final class RetrainJob {
    public static final String CANDIDATE_JSON = "candidate.json";
    public static final String CLASS_INDEX = "classes.txt";

    /** What a run did; only a promoted or rejected night trained a candidate. */
    public record Result(String night, NightOutcome outcome, String candidate, Double candidateTop1, Double currentTop1,
                         String reason) {
    }

    private RetrainJob() {
    }

    public static void validate(JobConfig cfg) {
        cfg.require(Options.RETRAIN_SOURCE, "the nightly retrain ingests new partitions from there");
        cfg.require(Options.RETRAIN_REGISTRY, "candidates, the current pointer and the history live there");
        cfg.require(Options.RETRAIN_HOLDOUT, "candidates are compared with the current model on that fixed holdout");
        for (var key : List.of(Options.RETRAIN_SOURCE, Options.RETRAIN_REGISTRY, Options.RETRAIN_HOLDOUT)) {
            ImageIngest.rejectCredentialsIn(cfg.get(key), key.key()); // URIs end up in logs, history and reports
        }
        night(cfg);
        IngestSettings.of(cfg);
        // Landed images would be hashed into splits the window never reads: lost silently, night after night.
        cfg.check(cfg.get(Options.INGEST_SPLIT_FRACTIONS).isEmpty(), Options.INGEST_SPLIT_FRACTIONS, "does not apply to "
                + "the nightly retrain: every landed image trains in its window, and retrain.holdout is the test set; remove it");
    }

    static LocalDate night(JobConfig cfg) {
        String d = cfg.get(Options.RETRAIN_DATE);
        if (d.isBlank()) return LocalDate.now();
        try {
            return LocalDate.parse(d.trim());
        } catch (DateTimeParseException e) {
            cfg.check(false, Options.RETRAIN_DATE, "expected YYYY-MM-DD, e.g. 2026-11-23");
            return null;
        }
    }

    public static Result run(JobConfig cfg, boolean force, PrintStream out) throws IOException {
        validate(cfg);
        try (JavaSparkContext sc = SparkContexts.create(cfg, "retrain")) {
            return run(cfg, sc, force, out);
        }
    }

    public static Result run(JobConfig cfg, JavaSparkContext sc, boolean force, PrintStream out) throws IOException {
        validate(cfg);
        String startedAt = Instant.now().toString();
        Configuration conf = sc.hadoopConfiguration();
        LocalDate night = night(cfg);
        Registry registry = new Registry(HadoopFs.path(cfg.get(Options.RETRAIN_REGISTRY)), conf);

        // 1. A decided night is final unless forced: checked before the lock, so a re-run writes nothing at all.
        Optional<Result> done = alreadyDecided(registry, night, force, out);
        if (done.isPresent()) return done.get();

        // 2. One run at a time.
        Duration stale = Duration.ofMinutes(cfg.get(Options.RETRAIN_LOCK_STALE_MINUTES));
        try (RegistryLock lock = RegistryLock.acquire(registry.root(), conf, stale, "retrain " + night, out)) {
            done = alreadyDecided(registry, night, force, out); // a run that held the lock may just have decided it
            if (done.isPresent()) return done.get();
            return retrain(cfg, sc, registry, night, force, startedAt, out);
        }
    }

    private static Optional<Result> alreadyDecided(Registry registry, LocalDate night, boolean force, PrintStream out)
            throws IOException {
        Optional<HistoryEntry> decided = registry.decided(night.toString());
        if (decided.isEmpty() || force) return Optional.empty();
        HistoryEntry d = decided.get();
        out.printf("retrain: night %s was decided at %s: candidate %s %s (%s); nothing to do (--force retrains it)%n",
                night, d.decidedAt(), d.candidate(), d.outcome(), d.reason());
        return Optional.of(new Result(night.toString(), NightOutcome.ALREADY_DECIDED, d.candidate(), d.candidateTop1(),
                d.currentTop1(), d.reason()));
    }

    /** Steps 3 to 8, under the lock. */
    private static Result retrain(JobConfig cfg, JavaSparkContext sc, Registry registry, LocalDate night, boolean force,
                                  String startedAt, PrintStream out) throws IOException {
        boolean rerun = registry.decided(night.toString()).isPresent() && force;
        Holdout holdout = Holdout.check(cfg, sc.hadoopConfiguration());
        Landed landed = ingestLanding(cfg, sc, registry, holdout, out);
        Optional<CurrentPointer> current = registry.current();
        Candidate candidate = Candidate.of(registry, registry.newCandidateId(night.toString(), rerun), current);
        TrainingWindow.Summary window = cutWindow(cfg, sc, registry, night, holdout, landed, candidate, out);
        Optional<Result> idle = nothingToTrain(cfg, registry, night, window, candidate, force, sc, out);
        if (idle.isPresent()) {
            HadoopFs.fs(candidate.dir(), sc.hadoopConfiguration()).delete(candidate.dir(), true);
            return idle.get();
        }
        trainCandidate(cfg, sc, candidate, out);
        CandidateRecord.Evaluations evaluations = evaluateOnHoldout(cfg, sc, candidate, out);
        Promotion.Decision decision = Promotion.decide(evaluations.candidate().top1Accuracy(),
                evaluations.current() == null ? null : evaluations.current().top1Accuracy(),
                cfg.get(Options.RETRAIN_TOLERANCE), cfg.get(Options.RETRAIN_MIN_TOP1));
        recordDecision(cfg, sc, registry, night, holdout, landed, candidate, window, evaluations, decision, startedAt);
        out.printf(Locale.ROOT, "retrain: candidate %s %s: %s%s%n", candidate.id(), decision.outcome().label().toUpperCase(Locale.ROOT),
                decision.reason(), decision.promoted() ? "; current -> " + candidate.id() : "; current stays "
                        + (candidate.currentId() == null ? "unset" : candidate.currentId()));
        return new Result(night.toString(), decision.outcome(), candidate.id(), evaluations.candidate().top1Accuracy(),
                evaluations.current() == null ? null : evaluations.current().top1Accuracy(), decision.reason());
    }

    /** The holdout: it fixes the class index and the image geometry nightly data must have. */
    record Holdout(String uri, String split, DatasetDescriptor descriptor) {
        static Holdout check(JobConfig cfg, Configuration conf) throws IOException {
            String uri = cfg.get(Options.RETRAIN_HOLDOUT);
            String split = cfg.get(Options.RETRAIN_HOLDOUT_SPLIT);
            DatasetDescriptor d = Datasets.readDescriptor(uri, conf);
            IngestSettings ingest = IngestSettings.of(cfg);
            cfg.check(d.count(split) > 0, Options.RETRAIN_HOLDOUT_SPLIT,
                    "the holdout " + uri + " has no such split; it has " + d.splits().keySet());
            cfg.check(d.height() == ingest.size() && d.width() == ingest.size(), Options.INGEST_IMAGE_SIZE,
                    "the holdout " + uri + " holds " + d.width() + "x" + d.height()
                            + " images; nightly data must be ingested at the same size");
            cfg.check(d.channels() == ingest.channels(), Options.INGEST_CHANNELS,
                    "the holdout " + uri + " has " + d.channels() + " channel(s); nightly data must match");
            return new Holdout(uri, split, d);
        }

        Path root() {
            return HadoopFs.path(uri);
        }
    }

    /** What the landing ingest left: the nightly dataset and, for manifest landing, each image's partition date. */
    record Landed(ImageIngest.Result ingest, Map<String, LocalDate> dates) {
        long newImages() {
            return ingest.report() == null ? 0 : ingest.report().ingested();
        }

        long skipped() {
            return ingest.report() == null ? 0 : ingest.report().skipped();
        }
    }

    /** Tonight's candidate: its id and folders, and the current model it continues (if any). */
    record Candidate(String id, Path dir, Path window, Path model, String currentId, Path currentModel) {
        static Candidate of(Registry registry, String id, Optional<CurrentPointer> current) {
            Path dir = registry.candidate(id);
            return new Candidate(id, dir, new Path(dir, "data"), new Path(dir, TrainJob.MODEL),
                    current.map(CurrentPointer::candidate).orElse(null),
                    current.map(c -> HadoopFs.path(c.model())).orElse(null));
        }
    }

    /** Step 4: ingest what is new; classes outside the production class index are skipped and listed. */
    private static Landed ingestLanding(JobConfig cfg, JavaSparkContext sc, Registry registry, Holdout holdout,
                                        PrintStream out) throws IOException {
        Configuration conf = sc.hadoopConfiguration();
        Path classIndex = new Path(registry.root(), CLASS_INDEX);
        HadoopFs.writeStringAtomically(classIndex, String.join("\n", holdout.descriptor().classes()) + "\n", conf);
        String source = cfg.get(Options.RETRAIN_SOURCE);
        Map<String, LocalDate> dates = null; // image-folder: the date is in each image's path
        if (cfg.get(Options.RETRAIN_FORMAT) == Choices.LandingFormat.MANIFEST) {
            LandingManifests.Combined combined = LandingManifests.combine(HadoopFs.path(source), registry.root(), conf);
            out.printf("retrain: %d partition manifest(s) list %,d images%n", combined.manifests(), combined.dates().size());
            source = combined.manifest().toString();
            dates = combined.dates();
        }
        ImageIngest.Result ingested = ImageIngest.run(sc, cfg.get(Options.RETRAIN_FORMAT).label(), source,
                registry.data().toString(), IngestSettings.of(cfg), nightlyStorage(cfg, registry, conf, out),
                classIndex.toString(), cfg.get(Options.INGEST_PARTITIONS), out);
        return new Landed(ingested, dates);
    }

    /**
     * How the nightly dataset is stored: ingest.layout (Parquet shards by default) for a new registry; a registry's
     * existing nightly dataset keeps its layout and encoding, so registries made before shards go on working unchanged.
     */
    static ImageIngest.Storage nightlyStorage(JobConfig cfg, Registry registry, Configuration conf, PrintStream out)
            throws IOException {
        ImageIngest.Storage wanted = IngestJob.storage(cfg);
        Path descriptor = new Path(registry.data(), DatasetDescriptor.FILE_NAME);
        if (!HadoopFs.exists(descriptor, conf)) return wanted;
        DatasetDescriptor existing = Json.read(HadoopFs.readString(descriptor, conf), DatasetDescriptor.class);
        if (existing.sharded()) {
            return new ImageIngest.Storage(DatasetStorage.PARQUET, existing.storage().encoding(), existing.storage().shardMb());
        }
        if (!DatasetStorage.PNG_FILES.equals(wanted.layout())) {
            out.printf("retrain: the nightly dataset %s is in the png-files layout and stays so (to move it to Parquet "
                    + "shards: scripts/sparkvision convert-dataset --data %s --to <new folder>, then put it in its place)%n",
                    registry.data(), registry.data());
        }
        return ImageIngest.Storage.PNG_FILES;
    }

    /** Step 5: the window, as the candidate's dataset, normalised like the production model it continues. */
    private static TrainingWindow.Summary cutWindow(JobConfig cfg, JavaSparkContext sc, Registry registry, LocalDate night,
                                                    Holdout holdout, Landed landed, Candidate candidate, PrintStream out)
            throws IOException {
        Configuration conf = sc.hadoopConfiguration();
        double[] mean = landed.ingest().descriptor().mean(), std = landed.ingest().descriptor().std();
        if (candidate.currentModel() != null) {
            ModelMetadata meta = ModelFiles.readMetadata(candidate.currentModel(), conf);
            if (meta != null && meta.mean() != null) {
                mean = meta.mean();
                std = meta.std();
            }
        }
        int days = cfg.get(Options.RETRAIN_WINDOW_DAYS);
        DatasetDescriptor nightly = landed.ingest().descriptor();
        String trainSplit = IngestSettings.of(cfg).defaultSplit();
        TrainingWindow.Summary window;
        if (nightly.sharded() || holdout.descriptor().sharded()) {
            // Selected, anti-joined and copied by the executors into the candidate's own sharded dataset.
            window = ShardedWindow.write(sc, new ShardedWindow.Part(registry.data(), nightly, trainSplit),
                    new ShardedWindow.Part(holdout.root(), holdout.descriptor(), holdout.split()), night, days,
                    landed.dates(), mean, std, candidate.window());
        } else {
            java.util.Set<String> holdoutHashes = TrainingWindow.holdoutHashes(sc, holdout.root(), holdout.descriptor(), holdout.split());
            window = TrainingWindow.write(registry.data(), nightly, trainSplit, holdout.root(), holdout.descriptor(),
                    holdout.split(), night, days, landed.dates(), holdoutHashes, mean, std, candidate.window(), conf);
        }
        if (window.holdoutCopies() > 0) {
            out.printf("retrain: %,d landing images in the window are identical to holdout images and do not train%n",
                    window.holdoutCopies());
        }
        if (window.undated() > 0) {
            out.printf("retrain: %,d ingested images are outside date=YYYY-MM-DD partitions and never train%n", window.undated());
        }
        out.printf(Locale.ROOT, "retrain: night %s, window %s: %,d images in %s (%,d new tonight); holdout %,d images%n",
                night, days == 0 ? "all partitions" : days + " day(s)", window.images(), window.partitions(),
                landed.newImages(), window.holdoutImages());
        return window;
    }

    /** Tonight's outcome if it trains nothing: an empty window, or one the last candidate already trained on. */
    private static Optional<Result> nothingToTrain(JobConfig cfg, Registry registry, LocalDate night,
                                                   TrainingWindow.Summary window, Candidate candidate, boolean force,
                                                   JavaSparkContext sc, PrintStream out) throws IOException {
        int days = cfg.get(Options.RETRAIN_WINDOW_DAYS);
        if (window.images() == 0) {
            String why = "no images in the window's partitions " + (days == 0 ? "up to " + night : "from "
                    + night.minusDays(days - 1L) + " to " + night) + " under " + cfg.get(Options.RETRAIN_SOURCE);
            out.println("retrain: " + why + "; nothing to train");
            return Optional.of(new Result(night.toString(), NightOutcome.NO_DATA, null, null, null, why));
        }
        Optional<HistoryEntry> lastTrained = registry.history().stream().reduce((a, b) -> b);
        if (lastTrained.isEmpty() || force) return Optional.empty();
        // Nothing new: every image of tonight's window already was in the window the last candidate trained on.
        String lastId = lastTrained.get().candidate();
        if (!TrainingWindow.coveredBy(sc, candidate.window(), new Path(registry.candidate(lastId), "data"))) return Optional.empty();
        String why = "every image in the window was already in the window candidate " + lastId + " trained on";
        out.println("retrain: " + why + "; nothing new to train (--force trains anyway)");
        return Optional.of(new Result(night.toString(), NightOutcome.NO_NEW_DATA, null, null, null, why));
    }

    /** Step 6: the train job on the window, warm-started from the current model; a crashed night resumes. */
    private static void trainCandidate(JobConfig cfg, JavaSparkContext sc, Candidate candidate, PrintStream out)
            throws IOException {
        Map<String, Object> trainKeys = new LinkedHashMap<>();
        trainKeys.put(Options.DATA_ROOT.key(), candidate.window().toString());
        trainKeys.put(Options.DATA_TRAIN_SPLIT.key(), TrainingWindow.TRAIN);
        trainKeys.put(Options.DATA_TEST_SPLIT.key(), TrainingWindow.HOLDOUT);
        trainKeys.put(Options.OUTPUT_DIR.key(), candidate.dir().toString());
        trainKeys.put(Options.TRAIN_RESUME.key(), Choices.Resume.LATEST); // a night that crashed continues from its checkpoints
        trainKeys.put(Options.TRAIN_INIT_MODEL.key(), candidate.currentModel() == null ? "" : candidate.currentModel().toString());
        out.printf("retrain: training candidate %s %s%n", candidate.id(), candidate.currentModel() == null
                ? "from scratch (no current model)" : "warm-started from " + candidate.currentId());
        TrainJob.train(cfg.with(trainKeys), sc, out);
    }

    /** Step 7: both models on the same holdout, the same way, now. */
    private static CandidateRecord.Evaluations evaluateOnHoldout(JobConfig cfg, JavaSparkContext sc, Candidate candidate,
                                                                 PrintStream out) throws IOException {
        CandidateRecord.Evaluation mine = evaluate(cfg, sc, candidate.model(), candidate.window(),
                new Path(candidate.dir(), "holdout-eval"), out);
        CandidateRecord.Evaluation current = candidate.currentModel() == null ? null : evaluate(cfg, sc,
                candidate.currentModel(), candidate.window(), new Path(candidate.dir(), "current-holdout-eval"), out);
        return new CandidateRecord.Evaluations(mine, current);
    }

    /** Step 8: the candidate's own record, then the pointer, then the history line (which makes the night final). */
    private static void recordDecision(JobConfig cfg, JavaSparkContext sc, Registry registry, LocalDate night,
                                       Holdout holdout, Landed landed, Candidate candidate, TrainingWindow.Summary window,
                                       CandidateRecord.Evaluations evaluations, Promotion.Decision decision,
                                       String startedAt) throws IOException {
        Configuration conf = sc.hadoopConfiguration();
        String decidedAt = Instant.now().toString();
        double tolerance = cfg.get(Options.RETRAIN_TOLERANCE);
        double candidateTop1 = evaluations.candidate().top1Accuracy();
        Double currentTop1 = evaluations.current() == null ? null : evaluations.current().top1Accuracy();
        String model = candidate.model().toString();
        CandidateRecord record = new CandidateRecord(candidate.id(), night.toString(), model, window,
                new CandidateRecord.Holdout(holdout.root().toString(), holdout.split(), window.holdoutImages(),
                        holdout.descriptor().contentHash()),
                new CandidateRecord.WarmStart(candidate.currentId(),
                        candidate.currentModel() == null ? null : candidate.currentModel().toString()),
                new CandidateRecord.Ingest(landed.newImages(), landed.skipped(), registry.data().toString()),
                evaluations,
                new CandidateRecord.Decision(decision.outcome(), decision.reason(), tolerance, cfg.get(Options.RETRAIN_MIN_TOP1),
                        decidedAt),
                JobProvenance.of(cfg, sc, startedAt).onHost(hostName()));
        HadoopFs.writeStringAtomically(new Path(candidate.dir(), CANDIDATE_JSON), Json.pretty(record), conf);
        if (decision.promoted()) {
            registry.promote(CurrentPointer.promote(candidate.id(), model, night.toString(), candidateTop1, decidedAt,
                    candidate.currentId()));
        }
        registry.record(new HistoryEntry(night.toString(), candidate.id(), decision.outcome(), decision.reason(),
                candidateTop1, currentTop1, candidate.currentId(), tolerance, model, window.images(), landed.newImages(),
                window.contentHash(), decidedAt));
        // The model and its report stay; per-epoch checkpoints were only for resuming this night.
        HadoopFs.fs(candidate.dir(), conf).delete(new Path(candidate.dir(), "checkpoints"), true);
    }

    /** The evaluate job on the holdout split of the window's dataset. */
    private static CandidateRecord.Evaluation evaluate(JobConfig cfg, JavaSparkContext sc, Path model, Path data,
                                                       Path outDir, PrintStream out) throws IOException {
        Map<String, Object> keys = new LinkedHashMap<>();
        keys.put(Options.MODEL_PATH.key(), model.toString());
        keys.put(Options.DATA_ROOT.key(), data.toString());
        keys.put(Options.DATA_TEST_SPLIT.key(), TrainingWindow.HOLDOUT);
        keys.put(Options.DATA_LIMIT.key(), 0);
        keys.put(Options.OUTPUT_DIR.key(), outDir.toString());
        Report report = EvaluateJob.evaluate(cfg.with(keys), sc, out);
        return new CandidateRecord.Evaluation(report.top1Accuracy(), report.top5Accuracy(), report.loss(), report.examples(),
                report.model().path());
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }
}
