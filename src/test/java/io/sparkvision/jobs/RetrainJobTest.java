package io.sparkvision.jobs;

import io.sparkvision.retrain.HistoryEntry;
import io.sparkvision.retrain.CurrentPointer;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkvision.Schemas;
import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import io.sparkvision.ingest.MnistIdxIngest;
import io.sparkvision.retrain.Registry;
import io.sparkvision.retrain.RegistryLock;
import io.sparkvision.retrain.NightOutcome;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.sparkvision.ingest.ImageIngest.Storage.PNG_FILES;

/**
 * Three simulated nights of the nightly retrain on real MNIST digits landing in dated partitions: night 1 trains from
 * scratch and is promoted; night 2 adds data, warm-starts and is promoted with a better holdout top-1; night 3 lands
 * digits with deliberately wrong labels and its candidate is rejected, so {@code current} stays on night 2's model.
 * Re-running a decided night is a no-op, and a held lock stops a second run with a clear message. These nights keep
 * the nightly dataset in the png-files layout; the manifest-landing nights take the default (Parquet shards) with
 * this png-files holdout, so their window is cut by ShardedWindow from both layouts.
 */
class RetrainJobTest {
    @TempDir
    static Path work;
    static JavaSparkContext sc;
    static Path digits, landing, registry;
    static List<Path> trainPngs;

    @BeforeAll
    static void digitsAsPngs() throws IOException {
        sc = TestSpark.local(2);
        digits = work.resolve("mnist");
        // The ingested MNIST fixture is both the fixed holdout (its test split) and the source of the landing images.
        MnistIdxIngest.run(sc, TestSpark.mnistTiny(), digits.toString(), 2, PNG_FILES, List.of(), quiet());
        try (Stream<Path> s = Files.walk(digits.resolve("train"))) {
            trainPngs = s.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
        assertEquals(1000, trainPngs.size());
        landing = work.resolve("landing");
        registry = work.resolve("registry");
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream());
    }

    /** Lands train images [from, to) in date=night/&lt;class&gt;/, with each label moved by {@code labelShift}. */
    static void land(String night, int from, int to, int labelShift) throws IOException {
        for (Path p : trainPngs.subList(from, to)) {
            int label = Integer.parseInt(p.getParent().getFileName().toString());
            String cls = String.valueOf((label + labelShift) % 10);
            Path dst = landing.resolve("date=" + night).resolve(cls).resolve(p.getFileName());
            Files.createDirectories(dst.getParent());
            Files.copy(p, dst);
        }
    }

    static JobConfig nightly(String night) {
        return JobConfig.fromString(String.join("\n",
                "retrain { source = \"" + landing + "\", registry = \"" + registry + "\", holdout = \"" + digits + "\"",
                "  holdout-split = test, date = \"" + night + "\", window-days = 2, tolerance = 0.01 }",
                // The png-files layout (a registry made before shards): its window is a manifest.csv of URIs.
                // ShardedRetrainTest runs the same nights on the default, Parquet shards.
                "ingest { image-size = 28, channels = 1, layout = png-files }",
                "model.name = lenet5",
                "train { epochs = 4, batch-size-per-worker = 16, learning-rate = 0.003, averaging-frequency = 3 }",
                "progress.interval-seconds = 60"));
    }

    static RetrainJob.Result night(String night, ByteArrayOutputStream log) throws IOException {
        return RetrainJob.run(nightly(night), sc, false, new PrintStream(log, true));
    }

    @Test
    void threeNightsPromoteTwiceThenRejectCorruptedLabels() throws Exception {
        Registry reg = new Registry(io.sparkvision.io.HadoopFs.path(registry.toString()), sc.hadoopConfiguration());

        // Night 1: 300 digits, no current model: trained from scratch and promoted. 20 holdout digits land too and are
        // kept out of training: a candidate must never be scored on images it learned.
        land("2026-11-01", 0, 300, 0);
        try (Stream<Path> s = Files.walk(digits.resolve("test"))) {
            for (Path p : s.filter(f -> f.toString().endsWith(".png")).sorted().limit(20).toList()) {
                Files.copy(p, landing.resolve("date=2026-11-01").resolve(p.getParent().getFileName()).resolve("holdout-" + p.getFileName()));
            }
        }
        ByteArrayOutputStream log1 = new ByteArrayOutputStream();
        RetrainJob.Result n1 = night("2026-11-01", log1);
        assertEquals(NightOutcome.PROMOTED, n1.outcome(), log1.toString());
        assertNull(n1.currentTop1());
        assertTrue(log1.toString().contains("from scratch"), log1.toString());
        assertTrue(log1.toString().contains("20 landing images in the window are identical to holdout images"), log1.toString());
        assertEquals(300, Schemas.read(registry.resolve("candidates/2026-11-01/candidate.json")).at("/window/images").asLong());
        assertEquals("2026-11-01", reg.current().orElseThrow().candidate());

        // Night 2: 600 more digits; the window (2 days) holds 900, warm-started from night 1: better, promoted.
        land("2026-11-02", 300, 900, 0);
        ByteArrayOutputStream log2 = new ByteArrayOutputStream();
        RetrainJob.Result n2 = night("2026-11-02", log2);
        assertEquals(NightOutcome.PROMOTED, n2.outcome(), log2.toString());
        assertTrue(log2.toString().contains("warm-started from 2026-11-01"), log2.toString());
        assertTrue(log2.toString().contains("600 new tonight"), log2.toString());
        assertEquals(n1.candidateTop1(), n2.currentTop1(), 1e-9, "tonight's evaluation of the current model = night 1's own");
        assertTrue(n2.candidateTop1() > n1.candidateTop1(), "night 2 must be better: " + n2 + " vs " + n1);

        // The same night again: a no-op that writes nothing.
        String historyBefore = Files.readString(registry.resolve("history.jsonl"));
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        RetrainJob.Result rerun = night("2026-11-02", again);
        assertEquals(NightOutcome.ALREADY_DECIDED, rerun.outcome());
        assertTrue(again.toString().contains("nothing to do"), again.toString());
        assertEquals(historyBefore, Files.readString(registry.resolve("history.jsonl")));
        assertFalse(Files.exists(registry.resolve("candidates/2026-11-02.2")));

        // Night 3: 900 digits whose labels are all shifted by one (a broken labelling pipeline): rejected.
        land("2026-11-03", 0, 900, 1);
        ByteArrayOutputStream log3 = new ByteArrayOutputStream();
        RetrainJob.Result n3 = night("2026-11-03", log3);
        assertEquals(NightOutcome.REJECTED, n3.outcome(), log3.toString());
        assertEquals(n2.candidateTop1(), n3.currentTop1(), 1e-9);
        assertTrue(n3.candidateTop1() < n2.candidateTop1() - 0.01, n3.toString());

        System.out.printf("three nights: %s%n  %s%n  %s%n", n1, n2, n3); // the numbers, for the record

        // current ends on night 2; every candidate is kept with its model, report and record; history has 3 decisions.
        CurrentPointer current = reg.current().orElseThrow();
        assertEquals("2026-11-02", current.candidate());
        assertEquals("2026-11-01", current.previous());
        Schemas.assertValid("registry-current.schema.json", Schemas.read(registry.resolve("current")), "current");
        List<HistoryEntry> history = reg.history();
        assertEquals(List.of(NightOutcome.PROMOTED, NightOutcome.PROMOTED, NightOutcome.REJECTED), history.stream().map(HistoryEntry::outcome).toList());
        for (String line : Files.readAllLines(registry.resolve("history.jsonl"))) {
            Schemas.assertValid("registry-history.schema.json", Schemas.parse(line), "history.jsonl line");
        }
        for (String id : List.of("2026-11-01", "2026-11-02", "2026-11-03")) {
            Path c = registry.resolve("candidates").resolve(id);
            for (String f : List.of("model.zip", "model.json", "report.json", "report.html", "candidate.json",
                    "holdout-eval/report.json", "data/manifest.csv", "data/dataset.json")) {
                assertTrue(Files.isRegularFile(c.resolve(f)), c.resolve(f) + " missing");
            }
            assertFalse(Files.exists(c.resolve("checkpoints")), "checkpoints are removed once a night is decided");
            JsonNode record = Schemas.read(c.resolve("candidate.json"));
            Schemas.assertValid("retrain-candidate.schema.json", record, id + "/candidate.json");
        }
        JsonNode record3 = Schemas.read(registry.resolve("candidates/2026-11-03/candidate.json"));
        assertEquals(1500, record3.at("/window/images").asLong(), "window of nights 2 and 3: 600 + 900 images");
        assertEquals("2026-11-02", record3.at("/warmStart/candidate").asText());
        assertEquals(200, record3.at("/holdout/images").asLong());
        assertFalse(Files.exists(registry.resolve(RegistryLock.FILE_NAME)), "the lock is released");

        // A held lock stops a second run before it does anything, and says who holds it.
        try (RegistryLock held = RegistryLock.acquire(io.sparkvision.io.HadoopFs.path(registry.toString()),
                sc.hadoopConfiguration(), java.time.Duration.ofMinutes(15), "test", quiet())) {
            RegistryLock.Busy busy = assertThrows(RegistryLock.Busy.class,
                    () -> RetrainJob.run(nightly("2026-11-04"), sc, false, quiet()));
            assertTrue(busy.getMessage().contains("pid " + ProcessHandle.current().pid()), busy.getMessage());
            assertTrue(busy.getMessage().contains("retrain.lock-stale-minutes"), busy.getMessage());
        }
        // Night 4 without new partitions: the window (nights 3 and 4) holds what night 3 trained on: nothing to train.
        RetrainJob.Result n4 = RetrainJob.run(nightly("2026-11-04"), sc, false, quiet());
        assertEquals(NightOutcome.NO_NEW_DATA, n4.outcome());
        assertEquals(3, reg.history().size());
    }

    @Test
    void manifestPartitionsDateTheImagesTheyList() throws Exception {
        Path landingM = work.resolve("landing-manifests");
        Path registryM = work.resolve("registry-manifests");
        // Night 1's manifest names images in a shared pool by full URI; night 2's sit beside it, by relative path.
        StringBuilder night1 = new StringBuilder("path,label\n");
        for (Path p : trainPngs.subList(0, 1000).stream().filter(p -> trainPngs.indexOf(p) % 5 == 0).toList()) {
            night1.append(p.toUri()).append(',').append(p.getParent().getFileName()).append('\n');
        }
        Files.createDirectories(landingM.resolve("date=2026-11-01"));
        Files.writeString(landingM.resolve("date=2026-11-01/labels.csv"), night1);

        java.util.function.Function<String, JobConfig> cfg = night -> JobConfig.fromString(String.join("\n",
                "retrain { source = \"" + landingM + "\", registry = \"" + registryM + "\", holdout = \"" + digits + "\"",
                "  format = manifest, date = \"" + night + "\", window-days = 2 }",
                "ingest { image-size = 28, channels = 1 }",
                "train { epochs = 2, batch-size-per-worker = 16, learning-rate = 0.003 }"));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        RetrainJob.Result n1 = RetrainJob.run(cfg.apply("2026-11-01"), sc, false, new PrintStream(log, true));
        assertEquals(NightOutcome.PROMOTED, n1.outcome(), log.toString());
        assertEquals(200, Schemas.read(registryM.resolve("candidates/2026-11-01/candidate.json")).at("/window/images").asLong(),
                "night 1 holds only the images its own manifest listed");
        // Night 2's partition lands after night 1 ran.
        StringBuilder night2 = new StringBuilder();
        Files.createDirectories(landingM.resolve("date=2026-11-02/imgs"));
        for (int i = 1; i < 1000; i += 5) {
            Path p = trainPngs.get(i);
            String name = p.getParent().getFileName() + "-" + p.getFileName();
            Files.copy(p, landingM.resolve("date=2026-11-02/imgs/" + name));
            night2.append("imgs/").append(name).append(',').append(p.getParent().getFileName()).append('\n');
        }
        Files.writeString(landingM.resolve("date=2026-11-02/more.csv"), night2);
        RetrainJob.Result n2 = RetrainJob.run(cfg.apply("2026-11-02"), sc, false, new PrintStream(log, true));
        assertTrue(List.of(NightOutcome.PROMOTED, NightOutcome.REJECTED).contains(n2.outcome()), log.toString());
        JsonNode record = Schemas.read(registryM.resolve("candidates/2026-11-02/candidate.json"));
        assertEquals(400, record.at("/window/images").asLong(), log.toString());
        assertEquals(200, record.at("/ingest/newImages").asLong(), "only night 2's images were decoded");
        assertEquals("[\"date=2026-11-01\",\"date=2026-11-02\"]", record.at("/window/partitions").toString());
        // The default layout: the nightly dataset and the window are Parquet shards, the holdout's png-files copied in.
        var window = io.sparkvision.data.Datasets.readDescriptor(registryM.resolve("candidates/2026-11-02/data").toString(),
                sc.hadoopConfiguration());
        assertTrue(window.sharded() && window.count("holdout") == 200, window.toString());
        assertTrue(io.sparkvision.data.Datasets.readDescriptor(registryM.resolve("data").toString(), sc.hadoopConfiguration()).sharded());
    }
}
