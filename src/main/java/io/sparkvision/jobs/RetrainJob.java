package io.sparkvision.jobs;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.data.Datasets;
import io.sparkvision.ingest.ImageIngest;
import io.sparkvision.ingest.IngestSettings;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.retrain.LandingManifests;
import io.sparkvision.retrain.Promotion;
import io.sparkvision.retrain.Registry;
import io.sparkvision.retrain.RegistryLock;
import io.sparkvision.retrain.TrainingWindow;
import io.sparkvision.util.Json;
import io.sparkvision.util.Provenance;
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

    /** What a run did: outcome is promoted, rejected, already-decided, no-new-data or no-data. */
    public record Result(String night, String outcome, String candidate, Double candidateTop1, Double currentTop1,
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
        Optional<Map<String, Object>> decided = registry.decided(night.toString());
        if (decided.isEmpty() || force) return Optional.empty();
        Map<String, Object> d = decided.get();
        out.printf("retrain: night %s was decided at %s: candidate %s %s (%s); nothing to do (--force retrains it)%n",
                night, d.get("decidedAt"), d.get("candidate"), d.get("outcome"), d.get("reason"));
        return Optional.of(new Result(night.toString(), "already-decided", (String) d.get("candidate"),
                number(d.get("candidateTop1")), number(d.get("currentTop1")), String.valueOf(d.get("reason"))));
    }

    private static Result retrain(JobConfig cfg, JavaSparkContext sc, Registry registry, LocalDate night, boolean force,
                                  String startedAt, PrintStream out) throws IOException {
        Configuration conf = sc.hadoopConfiguration();
        boolean rerun = registry.decided(night.toString()).isPresent() && force;

        // 3. The holdout fixes the class index and the image geometry.
        String holdoutUri = cfg.get(Options.RETRAIN_HOLDOUT);
        String holdoutSplit = cfg.get(Options.RETRAIN_HOLDOUT_SPLIT);
        DatasetDescriptor holdout = Datasets.readDescriptor(holdoutUri, conf);
        IngestSettings ingest = IngestSettings.of(cfg);
        cfg.check(holdout.count(holdoutSplit) > 0, Options.RETRAIN_HOLDOUT_SPLIT,
                "the holdout " + holdoutUri + " has no such split; it has " + holdout.splits().keySet());
        cfg.check(holdout.height() == ingest.size() && holdout.width() == ingest.size(), Options.INGEST_IMAGE_SIZE,
                "the holdout " + holdoutUri + " holds " + holdout.width() + "x" + holdout.height()
                        + " images; nightly data must be ingested at the same size");
        cfg.check(holdout.channels() == ingest.channels(), Options.INGEST_CHANNELS,
                "the holdout " + holdoutUri + " has " + holdout.channels() + " channel(s); nightly data must match");

        // 4. Ingest what is new; classes outside the production class index are skipped and listed.
        Path classIndex = new Path(registry.root(), CLASS_INDEX);
        HadoopFs.writeStringAtomically(classIndex, String.join("\n", holdout.classes()) + "\n", conf);
        String source = cfg.get(Options.RETRAIN_SOURCE);
        Map<String, LocalDate> dates = null; // image-folder: the date is in each image's path
        if ("manifest".equals(cfg.get(Options.RETRAIN_FORMAT))) {
            LandingManifests.Combined combined = LandingManifests.combine(HadoopFs.path(source), registry.root(), conf);
            out.printf("retrain: %d partition manifest(s) list %,d images%n", combined.manifests(), combined.dates().size());
            source = combined.manifest().toString();
            dates = combined.dates();
        }
        ImageIngest.Result ingested = ImageIngest.run(sc, cfg.get(Options.RETRAIN_FORMAT), source,
                registry.data().toString(), ingest, classIndex.toString(), cfg.get(Options.INGEST_PARTITIONS), out);
        long newImages = ingested.report() == null ? 0 : ingested.report().ingested();

        // 5. The window, as the candidate's dataset, normalised like the production model it continues.
        Optional<Map<String, Object>> current = registry.current();
        Path currentModel = current.map(c -> HadoopFs.path(String.valueOf(c.get("model")))).orElse(null);
        double[] mean = ingested.descriptor().mean(), std = ingested.descriptor().std();
        if (currentModel != null) {
            Map<String, Object> meta = ModelFiles.metadata(currentModel, conf);
            if (meta != null && meta.get("mean") != null) {
                mean = Json.doubles(meta.get("mean"));
                std = Json.doubles(meta.get("std"));
            }
        }
        String id = registry.newCandidateId(night.toString(), rerun);
        Path candidateDir = registry.candidate(id);
        Path windowDir = new Path(candidateDir, "data");
        int days = cfg.get(Options.RETRAIN_WINDOW_DAYS);
        java.util.Set<String> holdoutHashes = TrainingWindow.holdoutHashes(sc, HadoopFs.path(holdoutUri), holdout, holdoutSplit);
        TrainingWindow.Summary window = TrainingWindow.write(registry.data(), ingested.descriptor(), ingest.defaultSplit(),
                HadoopFs.path(holdoutUri), holdout, holdoutSplit, night, days, dates, holdoutHashes, mean, std, windowDir, conf);
        if (window.holdoutCopies() > 0) {
            out.printf("retrain: %,d landing images in the window are identical to holdout images and do not train%n",
                    window.holdoutCopies());
        }
        if (window.undated() > 0) {
            out.printf("retrain: %,d ingested images are outside date=YYYY-MM-DD partitions and never train%n", window.undated());
        }
        out.printf(Locale.ROOT, "retrain: night %s, window %s: %,d images in %s (%,d new tonight); holdout %,d images%n",
                night, days == 0 ? "all partitions" : days + " day(s)", window.images(), window.partitions(), newImages,
                window.holdoutImages());
        if (window.images() == 0) {
            HadoopFs.fs(candidateDir, conf).delete(candidateDir, true);
            String why = "no images in the window's partitions " + (days == 0 ? "up to " + night : "from "
                    + night.minusDays(days - 1L) + " to " + night) + " under " + cfg.get(Options.RETRAIN_SOURCE);
            out.println("retrain: " + why + "; nothing to train");
            return new Result(night.toString(), "no-data", null, null, null, why);
        }
        Optional<Map<String, Object>> lastTrained = registry.history().stream().reduce((a, b) -> b);
        if (lastTrained.isPresent() && !force) {
            // Nothing new: every image of tonight's window already was in the window the last candidate trained on.
            String lastId = String.valueOf(lastTrained.get().get("candidate"));
            java.util.Set<String> seen = TrainingWindow.trainRows(new Path(registry.candidate(lastId), "data"), conf);
            if (seen.containsAll(TrainingWindow.trainRows(windowDir, conf))) {
                HadoopFs.fs(candidateDir, conf).delete(candidateDir, true);
                String why = "every image in the window was already in the window candidate " + lastId + " trained on";
                out.println("retrain: " + why + "; nothing new to train (--force trains anyway)");
                return new Result(night.toString(), "no-new-data", null, null, null, why);
            }
        }

        // 6. Train the candidate.
        Map<String, Object> trainKeys = new LinkedHashMap<>();
        trainKeys.put(Options.DATA_ROOT.key(), windowDir.toString());
        trainKeys.put(Options.DATA_TRAIN_SPLIT.key(), TrainingWindow.TRAIN);
        trainKeys.put(Options.DATA_TEST_SPLIT.key(), TrainingWindow.HOLDOUT);
        trainKeys.put(Options.OUTPUT_DIR.key(), candidateDir.toString());
        trainKeys.put(Options.TRAIN_RESUME.key(), "latest"); // a night that crashed continues from its checkpoints
        trainKeys.put(Options.TRAIN_INIT_MODEL.key(), currentModel == null ? "" : currentModel.toString());
        out.printf("retrain: training candidate %s %s%n", id, currentModel == null ? "from scratch (no current model)"
                : "warm-started from " + current.get().get("candidate"));
        TrainJob.run(cfg.with(trainKeys), sc, out);

        // 7. Both models on the same holdout, the same way, now.
        Path candidateModel = new Path(candidateDir, TrainJob.MODEL);
        Map<String, Object> candidateEval = evaluate(cfg, sc, candidateModel, windowDir, new Path(candidateDir, "holdout-eval"), out);
        Map<String, Object> currentEval = currentModel == null ? null
                : evaluate(cfg, sc, currentModel, windowDir, new Path(candidateDir, "current-holdout-eval"), out);
        double candidateTop1 = number(candidateEval.get("top1Accuracy"));
        Double currentTop1 = currentEval == null ? null : number(currentEval.get("top1Accuracy"));
        Promotion.Decision decision = Promotion.decide(candidateTop1, currentTop1, cfg.get(Options.RETRAIN_TOLERANCE),
                cfg.get(Options.RETRAIN_MIN_TOP1));

        // 8. Record: the candidate's own record, then the pointer, then the history line (which makes the night final).
        String decidedAt = Instant.now().toString();
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("night", night.toString());
        line.put("candidate", id);
        line.put("outcome", decision.outcome());
        line.put("reason", decision.reason());
        line.put("candidateTop1", candidateTop1);
        line.put("currentTop1", currentTop1);
        line.put("currentCandidate", current.map(c -> c.get("candidate")).orElse(null));
        line.put("tolerance", cfg.get(Options.RETRAIN_TOLERANCE));
        line.put("model", candidateModel.toString());
        line.put("windowImages", window.images());
        line.put("newImages", newImages);
        line.put("windowContentHash", window.contentHash());
        line.put("decidedAt", decidedAt);

        Map<String, Object> record = new LinkedHashMap<>();
        record.put("formatVersion", 1);
        record.put("candidate", id);
        record.put("night", night.toString());
        record.put("model", candidateModel.toString());
        record.put("window", window.json());
        Map<String, Object> holdoutInfo = new LinkedHashMap<>();
        holdoutInfo.put("root", HadoopFs.path(holdoutUri).toString());
        holdoutInfo.put("split", holdoutSplit);
        holdoutInfo.put("images", window.holdoutImages());
        holdoutInfo.put("contentHash", holdout.contentHash());
        record.put("holdout", holdoutInfo);
        Map<String, Object> warm = new LinkedHashMap<>();
        warm.put("candidate", current.map(c -> c.get("candidate")).orElse(null));
        warm.put("model", currentModel == null ? null : currentModel.toString());
        record.put("warmStart", warm);
        record.put("ingest", Map.of("newImages", newImages, "skipped",
                ingested.report() == null ? 0 : ingested.report().skipped(), "dataset", registry.data().toString()));
        Map<String, Object> evaluation = new LinkedHashMap<>();
        evaluation.put("candidate", summary(candidateEval));
        evaluation.put("current", currentEval == null ? null : summary(currentEval));
        record.put("evaluation", evaluation);
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("outcome", decision.outcome());
        d.put("reason", decision.reason());
        d.put("tolerance", cfg.get(Options.RETRAIN_TOLERANCE));
        d.put("minTop1", cfg.get(Options.RETRAIN_MIN_TOP1));
        d.put("decidedAt", decidedAt);
        record.put("decision", d);
        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("codeVersion", Provenance.codeVersion());
        provenance.put("configOrigin", cfg.origin());
        provenance.put("config", cfg.resolved());
        provenance.put("sparkMaster", sc.master());
        provenance.put("host", hostName());
        provenance.put("startedAt", startedAt);
        provenance.put("endedAt", Instant.now().toString());
        record.put("provenance", provenance);
        HadoopFs.writeStringAtomically(new Path(candidateDir, CANDIDATE_JSON), Json.pretty(record), conf);

        if (decision.promoted()) {
            Map<String, Object> pointer = new LinkedHashMap<>();
            pointer.put("formatVersion", 1);
            pointer.put("candidate", id);
            pointer.put("model", candidateModel.toString());
            pointer.put("night", night.toString());
            pointer.put("holdoutTop1", candidateTop1);
            pointer.put("promotedAt", decidedAt);
            pointer.put("previous", current.map(c -> c.get("candidate")).orElse(null));
            registry.promote(pointer);
        }
        registry.record(line);
        // The model and its report stay; per-epoch checkpoints were only for resuming this night.
        HadoopFs.fs(candidateDir, conf).delete(new Path(candidateDir, "checkpoints"), true);
        out.printf(Locale.ROOT, "retrain: candidate %s %s: %s%s%n", id, decision.outcome().toUpperCase(Locale.ROOT),
                decision.reason(), decision.promoted() ? "; current -> " + id : "; current stays "
                        + current.map(c -> c.get("candidate")).orElse("unset"));
        return new Result(night.toString(), decision.outcome(), id, candidateTop1, currentTop1, decision.reason());
    }

    private static Map<String, Object> evaluate(JobConfig cfg, JavaSparkContext sc, Path model, Path data, Path outDir,
                                                PrintStream out) throws IOException {
        Map<String, Object> keys = new LinkedHashMap<>();
        keys.put(Options.MODEL_PATH.key(), model.toString());
        keys.put(Options.DATA_ROOT.key(), data.toString());
        keys.put(Options.DATA_TEST_SPLIT.key(), TrainingWindow.HOLDOUT);
        keys.put(Options.DATA_LIMIT.key(), 0);
        keys.put(Options.OUTPUT_DIR.key(), outDir.toString());
        return EvaluateJob.run(cfg.with(keys), sc, out);
    }

    private static Map<String, Object> summary(Map<String, Object> report) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String k : List.of("top1Accuracy", "top5Accuracy", "loss", "examples")) m.put(k, report.get(k));
        m.put("model", ((Map<?, ?>) report.get("model")).get("path"));
        return m;
    }

    private static Double number(Object o) {
        return o == null ? null : ((Number) o).doubleValue();
    }


    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }
}
