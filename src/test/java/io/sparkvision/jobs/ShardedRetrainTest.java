package io.sparkvision.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkvision.Schemas;
import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import io.sparkvision.data.Datasets;
import io.sparkvision.data.StoredSplit;
import io.sparkvision.ingest.DatasetConverter;
import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.ingest.DatasetStorage;
import io.sparkvision.ingest.MnistIdxIngest;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.retrain.NightOutcome;
import io.sparkvision.retrain.Registry;
import io.sparkvision.util.Hashing;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The nightly retrain with the nightly dataset and the holdout both stored as Parquet shards (the default layout):
 * the window is cut in Spark from the committed shard rows and copied into the candidate's own sharded dataset. The
 * test lands images that belong in the window and images that do not (a copy of a holdout image, an undated folder,
 * a partition older than the window, one dated after the night) and checks which sources the window holds, the
 * counts and content hash the candidate records, and that the nights train, warm-start and promote as with png-files.
 */
class ShardedRetrainTest {
    @TempDir
    static Path work;
    static JavaSparkContext sc;
    static Path holdout, landing, registry;
    static List<Path> trainPngs, testPngs;

    @BeforeAll
    static void shardedHoldout() throws IOException {
        sc = TestSpark.local(2);
        Path mnist = work.resolve("mnist");
        // The landing images are the png-files layout's PNGs; the holdout is that dataset converted to shards.
        MnistIdxIngest.run(sc, TestSpark.mnistTiny(), mnist.toString(), 2, io.sparkvision.ingest.ImageIngest.Storage.PNG_FILES, List.of(), quiet());
        holdout = work.resolve("holdout");
        DatasetConverter.convert(sc, mnist.toString(), holdout.toString(), DatasetStorage.RAW, 128, quiet());
        trainPngs = pngs(mnist.resolve("train"));
        testPngs = pngs(mnist.resolve("test"));
        landing = work.resolve("landing");
        registry = work.resolve("registry");
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    static List<Path> pngs(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
    }

    static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream());
    }

    /** Copies the images into landing/{folder}/&lt;class&gt;/ with the prefix; returns their paths under landing/. */
    static List<String> land(String folder, List<Path> images, String prefix) throws IOException {
        List<String> landed = new java.util.ArrayList<>();
        for (Path p : images) {
            Path dst = landing.resolve(folder).resolve(p.getParent().getFileName()).resolve(prefix + p.getFileName());
            Files.createDirectories(dst.getParent());
            Files.copy(p, dst);
            landed.add(landing.relativize(dst).toString());
        }
        return landed;
    }

    static JobConfig nightly(String night) {
        return JobConfig.fromString(String.join("\n",
                "retrain { source = \"" + landing + "\", registry = \"" + registry + "\", holdout = \"" + holdout + "\"",
                "  holdout-split = test, date = \"" + night + "\", window-days = 2, tolerance = 0.01 }",
                "ingest { image-size = 28, channels = 1 }",
                "model.name = lenet5",
                "train { epochs = 4, batch-size-per-worker = 16, learning-rate = 0.003, averaging-frequency = 3 }",
                "progress.interval-seconds = 60"));
    }

    /** The window's train rows: source path under landing/ -> sha256. */
    static TreeMap<String, String> windowSources(String candidate) throws IOException {
        Path data = registry.resolve("candidates").resolve(candidate).resolve("data");
        DatasetDescriptor d = Datasets.readDescriptor(data.toString(), sc.hadoopConfiguration());
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        TreeMap<String, String> out = new TreeMap<>();
        String prefix = landingUri();
        for (Row r : StoredSplit.rows(spark, HadoopFs.path(data.toString()).toString(), d, "train")
                .select("source", "sha256").collectAsList()) {
            assertTrue(r.getString(0).startsWith(prefix), r.getString(0) + " under " + prefix);
            assertEquals(null, out.put(r.getString(0).substring(prefix.length()), r.getString(1)), "one row per source");
        }
        return out;
    }

    /** The landing folder as the ingest records sources under it (Hadoop's file:/ form). */
    static String landingUri() {
        return "file:" + landing.toAbsolutePath() + "/";
    }

    /** TrainingWindow's definition, computed here from the landed files: sha256 over "source sha256\n" by source. */
    static String contentHash(Set<String> landed) throws IOException {
        MessageDigest md = Hashing.sha256();
        String prefix = landingUri();
        for (String rel : new TreeSet<>(landed)) {
            String sha = Hashing.sha256(Files.readAllBytes(landing.resolve(rel)));
            md.update((prefix + rel + " " + sha + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return Hashing.hex(md);
    }

    @Test
    void shardedNightlyAndHoldoutCutTheWindowInSparkAndPromoteAsPngFilesDoes() throws Exception {
        Registry reg = new Registry(HadoopFs.path(registry.toString()), sc.hadoopConfiguration());
        // In the window: 300 digits landed for night 1. Not in it: 20 holdout digits (copies), 10 in an undated folder,
        // 15 in a partition older than the 2-day window, 5 dated after the night.
        List<String> night1 = land("date=2026-11-01", trainPngs.subList(0, 300), "");
        List<String> copies = land("date=2026-11-01", testPngs.subList(0, 20), "holdout-");
        List<String> undated = land("misc", trainPngs.subList(300, 310), "");
        List<String> old = land("date=2026-10-20", trainPngs.subList(310, 325), "");
        List<String> future = land("date=2026-11-09", trainPngs.subList(325, 330), "");

        ByteArrayOutputStream log1 = new ByteArrayOutputStream();
        RetrainJob.Result n1 = RetrainJob.run(nightly("2026-11-01"), sc, false, new PrintStream(log1, true));
        assertEquals(NightOutcome.PROMOTED, n1.outcome(), log1.toString());
        assertTrue(log1.toString().contains("from scratch"), log1.toString());
        assertTrue(log1.toString().contains("20 landing images in the window are identical to holdout images"), log1.toString());
        assertTrue(log1.toString().contains("10 ingested images are outside date=YYYY-MM-DD partitions"), log1.toString());

        // The nightly dataset is sharded; so is the candidate's window, with no manifest and no per-image file.
        DatasetDescriptor nightlyData = Datasets.readDescriptor(registry.resolve("data").toString(), sc.hadoopConfiguration());
        assertTrue(nightlyData.sharded(), "the nightly dataset takes the default layout");
        assertEquals(350, nightlyData.count("train"), "every landed image was ingested; the window picks from them");
        Path data1 = registry.resolve("candidates/2026-11-01/data");
        assertFalse(Files.exists(data1.resolve("manifest.csv")));
        Schemas.assertValid("dataset-descriptor.schema.json", Schemas.read(data1.resolve("dataset.json")), "window dataset.json");
        DatasetDescriptor w1 = Datasets.readDescriptor(data1.toString(), sc.hadoopConfiguration());
        assertNotNull(w1.storage());
        assertEquals(DatasetStorage.RAW, w1.storage().encoding());
        assertEquals(300, w1.count("train"));
        assertEquals(200, w1.count("holdout"));
        assertEquals(300, w1.classCounts().get("train").values().stream().mapToLong(Long::longValue).sum());

        // Exactly night 1's digits train; the holdout copies, the undated, old and future ones do not.
        TreeMap<String, String> in1 = windowSources("2026-11-01");
        assertEquals(new TreeSet<>(night1), in1.keySet());
        for (List<String> out : List.of(copies, undated, old, future)) {
            for (String s : out) assertFalse(in1.containsKey(s), s + " must not train");
        }
        // The holdout split is the sharded holdout's test split, copied row for row (the same pixels).
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        DatasetDescriptor hd = Datasets.readDescriptor(holdout.toString(), sc.hadoopConfiguration());
        Set<String> heldOut = StoredSplit.rows(spark, HadoopFs.path(holdout.toString()).toString(), hd, "test")
                .select("path", "image").collectAsList().stream()
                .map(r -> r.getString(0) + " " + Hashing.sha256((byte[]) r.get(1))).collect(Collectors.toSet());
        Set<String> copied = StoredSplit.rows(spark, HadoopFs.path(data1.toString()).toString(), w1, "holdout")
                .select("path", "image").collectAsList().stream()
                .map(r -> r.getString(0) + " " + Hashing.sha256((byte[]) r.get(1))).collect(Collectors.toSet());
        assertEquals(heldOut, copied);

        JsonNode record1 = Schemas.read(registry.resolve("candidates/2026-11-01/candidate.json"));
        Schemas.assertValid("retrain-candidate.schema.json", record1, "candidate.json");
        assertEquals(300, record1.at("/window/images").asLong());
        assertEquals(20, record1.at("/window/holdoutCopiesExcluded").asLong());
        assertEquals(200, record1.at("/window/holdoutImages").asLong());
        assertEquals("[\"date=2026-11-01\"]", record1.at("/window/partitions").toString());
        assertEquals(contentHash(in1.keySet()), record1.at("/window/contentHash").asText());
        assertEquals(contentHash(in1.keySet()), w1.contentHash());

        // Night 2: 600 more digits; the window (2 days) holds 900, warm-started from night 1: better, promoted.
        List<String> night2 = land("date=2026-11-02", trainPngs.subList(330, 930), "");
        ByteArrayOutputStream log2 = new ByteArrayOutputStream();
        RetrainJob.Result n2 = RetrainJob.run(nightly("2026-11-02"), sc, false, new PrintStream(log2, true));
        assertEquals(NightOutcome.PROMOTED, n2.outcome(), log2.toString());
        assertTrue(log2.toString().contains("warm-started from 2026-11-01"), log2.toString());
        assertTrue(log2.toString().contains("600 new tonight"), log2.toString());
        assertEquals(n1.candidateTop1(), n2.currentTop1(), 1e-9, "tonight's evaluation of the current model = night 1's own");
        assertTrue(n2.candidateTop1() > n1.candidateTop1(), "night 2 must be better: " + n2 + " vs " + n1);
        TreeSet<String> expected2 = new TreeSet<>(night1);
        expected2.addAll(night2);
        TreeMap<String, String> in2 = windowSources("2026-11-02");
        assertEquals(expected2, in2.keySet());
        JsonNode record2 = Schemas.read(registry.resolve("candidates/2026-11-02/candidate.json"));
        assertEquals("[\"date=2026-11-01\",\"date=2026-11-02\"]", record2.at("/window/partitions").toString());
        assertEquals(contentHash(expected2), record2.at("/window/contentHash").asText());
        // Night 1's window is its own copy: unchanged by night 2's ingest.
        assertEquals(in1, windowSources("2026-11-01"));
        assertEquals("2026-11-02", reg.current().orElseThrow().candidate());

        // Night 3, nothing landed: its window (nights 2 and 3) is part of what night 2 trained on: nothing new to train.
        ByteArrayOutputStream log3 = new ByteArrayOutputStream();
        RetrainJob.Result n3 = RetrainJob.run(nightly("2026-11-03"), sc, false, new PrintStream(log3, true));
        assertEquals(NightOutcome.NO_NEW_DATA, n3.outcome(), log3.toString());
        assertFalse(Files.exists(registry.resolve("candidates/2026-11-03")), "an idle night leaves no candidate");
        System.out.printf("sharded nights: %s%n  %s%n  %s%n", n1, n2, n3);
    }

    @Test
    void aPngFilesNightlyDatasetWithAShardedHoldoutIsCopiedIntoAShardedWindow() throws Exception {
        // A registry made before shards keeps its png-files nightly dataset; the holdout has moved to shards.
        Path landing2 = work.resolve("landing-png"), registry2 = work.resolve("registry-png");
        Files.createDirectories(landing2);
        List<Path> images = trainPngs.subList(950, 1000);
        for (Path p : images) {
            Path dst = landing2.resolve("date=2026-11-01").resolve(p.getParent().getFileName()).resolve(p.getFileName());
            Files.createDirectories(dst.getParent());
            Files.copy(p, dst);
        }
        Path copy = testPngs.get(0);
        Path copied = landing2.resolve("date=2026-11-01").resolve(copy.getParent().getFileName()).resolve("h-" + copy.getFileName());
        Files.createDirectories(copied.getParent());
        Files.copy(copy, copied);
        JobConfig cfg = JobConfig.fromString(String.join("\n",
                "retrain { source = \"" + landing2 + "\", registry = \"" + registry2 + "\", holdout = \"" + holdout + "\"",
                "  date = \"2026-11-01\", window-days = 1 }",
                "ingest { image-size = 28, channels = 1, layout = png-files }",
                "train { epochs = 1, batch-size-per-worker = 16, learning-rate = 0.003 }"));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        RetrainJob.Result n = RetrainJob.run(cfg, sc, false, new PrintStream(log, true));
        assertTrue(List.of(NightOutcome.PROMOTED, NightOutcome.REJECTED).contains(n.outcome()), log.toString());
        assertFalse(Datasets.readDescriptor(registry2.resolve("data").toString(), sc.hadoopConfiguration()).sharded());
        Path data = registry2.resolve("candidates/2026-11-01/data");
        DatasetDescriptor w = Datasets.readDescriptor(data.toString(), sc.hadoopConfiguration());
        assertTrue(w.sharded(), "a sharded holdout makes the window sharded");
        assertEquals(DatasetStorage.RAW, w.storage().encoding(), "the holdout's encoding: the nightly PNGs become raw rows");
        assertEquals(50, w.count("train"));
        assertEquals(1, Schemas.read(registry2.resolve("candidates/2026-11-01/candidate.json")).at("/window/holdoutCopiesExcluded").asLong());
        // The copied train rows hold the nightly PNGs' pixels, channel-major: the digits as the png-files dataset has them.
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        Row r = StoredSplit.rows(spark, HadoopFs.path(data.toString()).toString(), w, "train")
                .filter(org.apache.spark.sql.functions.col("source").endsWith("/" + images.get(0).getFileName()))
                .select("image", "channels", "height", "width").first();
        assertEquals(List.of(1, 28, 28), List.of(r.getInt(1), r.getInt(2), r.getInt(3)));
        java.awt.image.BufferedImage png = javax.imageio.ImageIO.read(images.get(0).toFile());
        byte[] raw = r.getAs(0);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                assertEquals(png.getRaster().getSample(x, y, 0), raw[y * 28 + x] & 0xff, "pixel " + x + "," + y);
            }
        }
    }
}
