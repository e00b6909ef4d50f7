package io.sparkvision.jobs;

import io.sparkvision.retrain.CurrentPointer;
import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import io.sparkvision.ingest.MnistIdxIngest;
import io.sparkvision.ingest.Stores;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.retrain.Registry;
import io.sparkvision.retrain.RegistryLock;
import io.sparkvision.retrain.NightOutcome;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.sparkvision.ingest.ImageIngest.Storage.PNG_FILES;

/**
 * The nightly retrain with landing area, holdout and registry all on HDFS (a real MiniDFSCluster): a night is
 * trained and promoted, its re-run is a no-op, the lock is exclusive on HDFS too, and the score job given the registry
 * scores with its current model.
 */
@Tag("full") // MiniDFSCluster + a retrain, ~50 s: in --full (CI) to keep scripts/test under 20 min; CrossStoreIngestTest keeps HDFS in the default suite
class RetrainOnHdfsTest {
    @TempDir
    static File work;
    static JavaSparkContext sc;
    static Stores.Store hdfs;

    @BeforeAll
    static void start() throws Exception {
        sc = TestSpark.local(2);
        hdfs = Stores.hdfs(new File(work, "dfs"));
        hdfs.configure(sc.hadoopConfiguration());
    }

    @AfterAll
    static void stop() {
        sc.stop();
        hdfs.close();
    }

    static List<java.nio.file.Path> everyThird(List<java.nio.file.Path> all) {
        return java.util.stream.IntStream.range(0, all.size()).filter(i -> i % 3 == 0).mapToObj(all::get).toList();
    }

    @Test
    void aNightOnHdfsPromotesThenIsANoOpAndScoringFollowsCurrent() throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Configuration conf = sc.hadoopConfiguration();
        String root = hdfs.root();
        // The holdout is ingested straight onto HDFS; the landing partition gets every third local train digit (334, all classes).
        MnistIdxIngest.run(sc, TestSpark.mnistTiny(), root + "/holdout", 2, PNG_FILES, List.of(), quiet);
        java.nio.file.Path local = work.toPath().resolve("mnist");
        MnistIdxIngest.run(sc, TestSpark.mnistTiny(), local.toString(), 2, PNG_FILES, List.of(), quiet);
        List<java.nio.file.Path> pngs;
        try (Stream<java.nio.file.Path> s = Files.walk(local.resolve("train"))) {
            pngs = s.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
        for (java.nio.file.Path p : everyThird(pngs)) {
            hdfs.put("landing/date=2026-11-01/" + p.getParent().getFileName() + "/" + p.getFileName(), Files.readAllBytes(p));
        }
        String registry = root + "/registry";
        JobConfig cfg = JobConfig.fromString(String.join("\n",
                "retrain { source = \"" + root + "/landing\", registry = \"" + registry + "\", holdout = \"" + root + "/holdout\"",
                "  date = \"2026-11-01\", window-days = 1 }",
                "ingest { image-size = 28, channels = 1 }",
                "train { epochs = 3, batch-size-per-worker = 16, learning-rate = 0.003 }"));

        RetrainJob.Result night = RetrainJob.run(cfg, sc, false, quiet);
        assertEquals(NightOutcome.PROMOTED, night.outcome(), night.toString());
        Registry reg = new Registry(new Path(registry), conf);
        CurrentPointer current = reg.current().orElseThrow();
        assertTrue(current.model().startsWith("hdfs://"), current.toString());
        assertTrue(HadoopFs.exists(new Path(registry + "/candidates/2026-11-01/candidate.json"), conf));
        assertFalse(HadoopFs.exists(new Path(registry + "/lock"), conf), "released");

        // The evaluate job on HDFS, given the registry: the promoted model on the holdout, normalised as it was
        // trained, gives exactly the top-1 the retrain decided on.
        JobConfig eval = JobConfig.fromString(String.join("\n", "model.path = \"" + registry + "\"",
                "data { root = \"" + root + "/holdout\", test-split = test }", "output.dir = \"" + root + "/eval\""));
        Map<String, Object> report = EvaluateJob.run(eval, sc, quiet);
        assertEquals(night.candidateTop1(), ((Number) report.get("top1Accuracy")).doubleValue(), 1e-12);
        assertTrue(HadoopFs.exists(new Path(root + "/eval/report.html"), conf));

        ByteArrayOutputStream again = new ByteArrayOutputStream();
        assertEquals(NightOutcome.ALREADY_DECIDED, RetrainJob.run(cfg, sc, false, new PrintStream(again, true)).outcome());
        assertEquals(1, reg.history().size());

        // HDFS create-if-absent is the lock: a held lock stops the next run (even a forced one) before any work.
        try (RegistryLock held = RegistryLock.acquire(new Path(registry), conf, Duration.ofMinutes(15), "test", quiet)) {
            assertThrows(RegistryLock.Busy.class, () -> RetrainJob.run(cfg, sc, true, quiet));
        }

        // Scoring with --model <registry> uses the promoted model; its id is that model's hash.
        JobConfig score = JobConfig.fromString(String.join("\n",
                "model.path = \"" + registry + "\"",
                "score { input = \"" + root + "/landing/date=2026-11-01/7\", output = \"" + root + "/scored\" }"));
        long rows = ScoreJob.run(score, sc, quiet);
        assertTrue(rows > 10, "rows: " + rows);
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        List<org.apache.spark.sql.Row> scored = spark.read().parquet(root + "/scored").collectAsList();
        assertEquals(rows, scored.size());
        // Every row is a prediction, not just a row without an error: five distinct class ids with the class index's
        // names, probabilities in (0, 1] in falling order; and they are about the images (all sevens): far more of
        // them come out "7" than chance (1 in 10) would give.
        List<String> classes = io.sparkvision.data.Datasets.readDescriptor(root + "/holdout", conf).classes();
        int topIsSeven = 0;
        for (org.apache.spark.sql.Row r : scored) {
            assertTrue(r.isNullAt(r.fieldIndex("error")), r.toString());
            List<Integer> ids = r.getList(r.fieldIndex("top_k_ids"));
            List<String> names = r.getList(r.fieldIndex("top_k_names"));
            List<Float> probs = r.getList(r.fieldIndex("top_k_probs"));
            assertEquals(5, ids.size(), r.toString());
            assertEquals(5, new java.util.HashSet<>(ids).size(), r.toString());
            for (int k = 0; k < 5; k++) {
                assertEquals(classes.get(ids.get(k)), names.get(k), r.toString());
                assertTrue(probs.get(k) > 0 && probs.get(k) <= 1 && (k == 0 || probs.get(k) <= probs.get(k - 1)), r.toString());
            }
            if (names.get(0).equals("7")) topIsSeven++;
        }
        assertTrue(topIsSeven > 0.3 * scored.size(), topIsSeven + " of " + scored.size() + " sevens scored as 7");
        String modelVersion = spark.read().parquet(root + "/scored").select("model_version").first().getString(0);
        String expected = io.sparkvision.util.Hashing.sha256(HadoopFs.readAll(new Path(current.model()), conf));
        assertEquals(expected, modelVersion);
    }
}
