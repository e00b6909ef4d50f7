package io.sparkvision.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkvision.Schemas;
import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import io.sparkvision.ingest.MnistIdxIngest;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.util.Json;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The main job end to end on Spark local[2] and real (tiny) MNIST: ingest, train, report, evaluate. */
class TrainJobTest {
    @TempDir
    static Path work;
    static JavaSparkContext sc;
    static Path data, run;
    static Map<String, Object> report;
    static String log;

    @BeforeAll
    static void ingestAndTrain() throws IOException {
        sc = TestSpark.local(2);
        data = work.resolve("data");
        run = work.resolve("run");
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true);
        MnistIdxIngest.run(sc, TestSpark.mnistTiny(), data.toString(), 4, out);
        JobConfig cfg = JobConfig.fromString(String.join("\n",
                "data.root = \"" + data + "\"",
                "output.dir = \"" + run + "\"",
                "train { epochs = 3, batch-size-per-worker = 16, averaging-frequency = 4, learning-rate = 0.003 }",
                "checkpoint.keep-last = 2",
                "progress.interval-seconds = 1"));
        report = TrainJob.run(cfg, sc, out);
        log = buf.toString();
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    @Test
    void learnsFarBeyondChance() {
        double top1 = (Double) report.get("top1Accuracy");
        assertTrue(top1 > 0.6, "top-1 on 200 test images after 3 epochs on 1,000: " + top1 + " (chance is 0.1)");
        assertTrue((Double) report.get("top5Accuracy") >= top1);
        assertEquals(200L, ((Number) report.get("examples")).longValue());
    }

    @Test
    void reportMetricsDescriptorAndModelMatchTheirSchemas() throws IOException {
        Schemas.assertValid("report.schema.json", Schemas.read(run.resolve("report.json")), "report.json");
        Schemas.assertValid("dataset-descriptor.schema.json", Schemas.read(data.resolve("dataset.json")), "dataset.json");
        Schemas.assertValid("model-metadata.schema.json", Schemas.read(run.resolve("model.json")), "model.json");
        Schemas.assertValid("model-metadata.schema.json", Schemas.read(run.resolve("checkpoints/epoch-0003.json")), "checkpoint");
        List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertEquals(3, lines.size());
        for (int i = 0; i < lines.size(); i++) {
            JsonNode line = Schemas.parse(lines.get(i));
            Schemas.assertValid("metrics.schema.json", line, "metrics.jsonl line " + (i + 1));
            assertEquals(i + 1, line.get("epoch").asInt());
            assertEquals(1000, line.get("examples").asLong(), "every training example is fitted once per epoch");
        }
    }

    @Test
    void confusionMatrixAddsUpToTheTestSet() {
        @SuppressWarnings("unchecked")
        List<List<Number>> cm = (List<List<Number>>) Json.read(Json.pretty(report.get("confusionMatrix")), List.class);
        long total = 0, diagonal = 0;
        for (int a = 0; a < cm.size(); a++) {
            for (int p = 0; p < cm.size(); p++) {
                total += cm.get(a).get(p).longValue();
                if (a == p) diagonal += cm.get(a).get(p).longValue();
            }
        }
        assertEquals(200, total);
        assertEquals((Double) report.get("top1Accuracy"), diagonal / 200.0, 1e-9);
    }

    @Test
    void htmlReportShowsTheCurveAndConfusionMatrixAsPngs() throws IOException {
        String html = Files.readString(run.resolve("report.html"));
        assertTrue(html.contains("<img src=\"training-curve.png\""), html);
        assertTrue(html.contains("<img src=\"confusion-matrix.png\""), html);
        BufferedImage curve = ImageIO.read(run.resolve("training-curve.png").toFile());
        BufferedImage cm = ImageIO.read(run.resolve("confusion-matrix.png").toFile());
        assertNotNull(curve);
        assertNotNull(cm);
        assertTrue(curve.getWidth() >= 600 && cm.getWidth() >= 300);
        List<String> csv = Files.readAllLines(run.resolve("confusion.csv"));
        assertEquals("true_class,predicted_class,count", csv.get(0));
        assertEquals(200, csv.stream().skip(1).mapToLong(l -> Long.parseLong(l.split(",")[2])).sum());
    }

    @Test
    void keepsTheLastCheckpointsAndProgressWasPrinted() throws IOException {
        try (var files = Files.list(run.resolve("checkpoints"))) {
            assertEquals(List.of("epoch-0002.json", "epoch-0002.zip", "epoch-0003.json", "epoch-0003.zip"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertTrue(log.contains("epoch 3/3"), log);
        assertTrue(log.contains("examples/s"), log);
    }

    @Test
    void provenanceTravelsWithTheModel() throws IOException {
        Map<String, Object> meta = ModelFiles.metadata(HadoopFs.path(run.resolve("model.zip").toString()), sc.hadoopConfiguration());
        @SuppressWarnings("unchecked")
        Map<String, Object> prov = (Map<String, Object>) meta.get("provenance");
        assertEquals(42, ((Number) prov.get("seed")).intValue());
        assertTrue(((String) prov.get("datasetContentHash")).startsWith("sha256:"));
        assertTrue(prov.get("config") instanceof Map);
        assertEquals(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), meta.get("classes"));
    }

    @Test
    void clusterEvaluationAgreesWithTheDriverEvaluator() throws IOException {
        JobConfig cfg = JobConfig.fromString(String.join("\n",
                "model.path = \"" + run.resolve("model.zip") + "\"",
                "data.root = \"" + data + "\"",
                "output.dir = \"" + work.resolve("eval") + "\"",
                "eval.batch-size = 37"));
        Map<String, Object> eval = EvaluateJob.run(cfg, sc, new PrintStream(new ByteArrayOutputStream()));
        assertEquals(report.get("top1Accuracy"), eval.get("top1Accuracy"));
        assertEquals(report.get("top5Accuracy"), eval.get("top5Accuracy"));
        assertEquals(((Number) report.get("loss")).doubleValue(), ((Number) eval.get("loss")).doubleValue(), 1e-4);
        Schemas.assertValid("report.schema.json", Schemas.read(work.resolve("eval/report.json")), "evaluate report.json");
        assertTrue(Files.exists(work.resolve("eval/confusion-matrix.png")));
    }

    @Test
    void clusterSideEvaluatorAgreesWithTheDriverSide() throws IOException {
        Path run2 = work.resolve("cluster-eval");
        JobConfig cfg = JobConfig.fromString(String.join("\n",
                "data.root = \"" + data + "\"", "output.dir = \"" + run2 + "\"", "eval.where = cluster",
                "train { epochs = 1, batch-size-per-worker = 16 }"));
        Map<String, Object> clusterReport = TrainJob.run(cfg, sc, new PrintStream(new ByteArrayOutputStream()));
        JobConfig eval = JobConfig.fromString(String.join("\n",
                "model.path = \"" + run2.resolve("model.zip") + "\"", "data.root = \"" + data + "\"",
                "output.dir = \"" + work.resolve("cluster-eval-check") + "\""));
        // EvaluateJob recomputes on the executors; the driver-side numbers were checked against it above.
        Map<String, Object> again = EvaluateJob.run(eval, sc, new PrintStream(new ByteArrayOutputStream()));
        assertEquals(again.get("top1Accuracy"), clusterReport.get("top1Accuracy"));
        io.sparkvision.image.InputShape shape = new io.sparkvision.image.InputShape(1, 28, 28);
        org.deeplearning4j.nn.api.Model m = ModelFiles.load(HadoopFs.path(run2.resolve("model.zip").toString()), sc.hadoopConfiguration());
        io.sparkvision.ingest.DatasetDescriptor d = io.sparkvision.data.Datasets.readDescriptor(data.toString(), sc.hadoopConfiguration());
        io.sparkvision.data.ImageDataset test = io.sparkvision.data.ImageDataset.load(sc, data.toString(), d, "test", 2, 0);
        double driverTop1 = new io.sparkvision.evaluate.DriverEvaluator(test.batches(50).collect(), d.classes(), 5).evaluate(m).top1Accuracy();
        test.release();
        assertEquals(driverTop1, (Double) clusterReport.get("top1Accuracy"), 1e-12);
        assertEquals(shape.toString(), ((Map<?, ?>) clusterReport.get("model")).get("input"));
    }

    @Test
    void warmStartContinuesFromASavedModel() throws IOException {
        // One more epoch from the trained model at a small rate: the start is the trained model, not fresh weights.
        Path warm = work.resolve("warm");
        JobConfig cfg = JobConfig.fromString(String.join("\n",
                "data.root = \"" + data + "\"", "output.dir = \"" + warm + "\"", "train.init-model = \"" + run.resolve("model.zip") + "\"",
                "train { epochs = 1, batch-size-per-worker = 16, learning-rate = 0.0001 }"));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Map<String, Object> again = TrainJob.run(cfg, sc, new PrintStream(buf, true));
        assertTrue(buf.toString().contains("warm start from"), buf.toString());
        assertTrue((Double) again.get("top1Accuracy") > (Double) report.get("top1Accuracy") - 0.05,
                "warm-started " + again.get("top1Accuracy") + " vs " + report.get("top1Accuracy"));
        String m = assertThrows(IllegalArgumentException.class, () -> TrainJob.run(JobConfig.fromString(String.join("\n",
                "data.root = \"" + data + "\"", "output.dir = \"" + work.resolve("warm2") + "\"", "model.name = allcnnc",
                "train.init-model = \"" + run.resolve("model.zip") + "\"")), sc, new PrintStream(new ByteArrayOutputStream()))).getMessage();
        assertTrue(m.contains("cannot continue from") && m.contains("lenet5"), m);
    }

    @Test
    void evaluatingAgainstDifferentClassesIsAClearError() throws IOException {
        Path model = work.resolve("other/model.zip");
        Files.createDirectories(model.getParent());
        Files.copy(run.resolve("model.zip"), model);
        String meta = Files.readString(run.resolve("model.json")).replace("\"9\"", "\"nine\"");
        Files.writeString(work.resolve("other/model.json"), meta);
        JobConfig cfg = JobConfig.fromString(String.join("\n",
                "model.path = \"" + model + "\"", "data.root = \"" + data + "\"", "output.dir = \"" + work.resolve("eval2") + "\""));
        String m = assertThrows(IllegalArgumentException.class,
                () -> EvaluateJob.run(cfg, sc, new PrintStream(new ByteArrayOutputStream()))).getMessage();
        assertTrue(m.contains("class index must match"), m);
    }

    /**
     * Gradient sharing's transport (Aeron) keeps its buffers in /dev/shm, which is memory: DL4J M2 left ~80-100 MB
     * there per JVM and run (59 directories had piled up on this machine). The product's JVM flags
     * (conf/jvm-flags.properties: aeron.dir.delete.on.shutdown) make the media driver delete its directory when the
     * job stops the parameter server; without that flag this test finds the run's directory left behind.
     */
    @Test
    void gradientSharingLeavesNoSharedMemoryBehind() throws IOException {
        Path shm = Path.of("/dev/shm");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(shm), "no /dev/shm on this machine: Aeron keeps its files elsewhere");
        java.util.Set<String> before = aeronDirs(shm);
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        JobConfig cfg = JobConfig.fromString(String.join("\n",
                "data { root = \"" + data + "\", limit = 200 }",
                "output.dir = \"" + work.resolve("gs") + "\"",
                "train { epochs = 1, batch-size-per-worker = 16, master = gradient-sharing, gradient-sharing.port = " + port + " }"));
        // Every entry created in /dev/shm during the run, seen by inotify (however short-lived): "nothing left" proves
        // nothing unless Aeron did create its directory there.
        java.util.Set<String> created = new java.util.TreeSet<>();
        try (java.nio.file.WatchService watch = shm.getFileSystem().newWatchService()) {
            shm.register(watch, java.nio.file.StandardWatchEventKinds.ENTRY_CREATE);
            try (io.sparkvision.SparkActivity tasks = io.sparkvision.SparkActivity.watchJobs(sc)) {
                Map<String, Object> gs = TrainJob.run(cfg, sc, new PrintStream(new ByteArrayOutputStream(), true));
                assertNotNull(gs.get("top1Accuracy"));
                // local mode: the tasks that fitted ran in the driver JVM (BigModelMatrixTest reads the same on two executors)
                assertEquals(java.util.Set.of("driver"), tasks.executorsThatFitted());
            }
            for (java.nio.file.WatchKey key; (key = watch.poll()) != null; key.reset()) {
                for (java.nio.file.WatchEvent<?> e : key.pollEvents()) {
                    if (e.context() instanceof Path p && p.toString().startsWith("aeron")) created.add(p.toString());
                }
            }
        }
        assertFalse(created.isEmpty(), "Aeron created no directory in /dev/shm during the run: the check below would prove nothing");
        java.util.Set<String> left = aeronDirs(shm);
        left.removeAll(before);
        assertTrue(left.isEmpty(), "Aeron directories left in /dev/shm by the run: " + left + " (created during it: " + created + ")");
    }

    static java.util.Set<String> aeronDirs(Path shm) throws IOException {
        try (var files = Files.list(shm)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("aeron"))
                    .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
        }
    }

    @Test
    void aSizingRefusalComesBeforeAnySparkJob() {
        // 65,536 images per worker and batch (the most allowed): LeNet-5's activations need more than the test JVM's
        // ND4J limit (6 GiB), so the sizing step refuses. Counted from the context's own job events: no decode,
        // no count, no fit may have run before the refusal.
        JobConfig cfg = JobConfig.fromString(String.join("\n",
                "data.root = \"" + data + "\"", "output.dir = \"" + work.resolve("too-big") + "\"",
                "train { epochs = 1, batch-size-per-worker = 65536 }"));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (io.sparkvision.SparkActivity jobs = io.sparkvision.SparkActivity.watchJobs(sc)) {
            String m = assertThrows(IllegalArgumentException.class,
                    () -> TrainJob.run(cfg, sc, new PrintStream(buf, true))).getMessage();
            assertTrue(m.startsWith("sizing: this run does not fit: ") && m.contains("off-heap"), m);
            assertEquals(0, jobs.jobsStarted(), "Spark jobs before the sizing refusal; the log: " + buf);
        }
        assertTrue(buf.toString().contains("sizing: driver ~"), "the sizing printed its memory line: " + buf);
        assertTrue(!Files.exists(work.resolve("too-big/model.zip")));
    }

    @Test
    void anEmptyTestSplitIsRefusedBeforeAnyDataIsLoaded() throws IOException {
        // A dataset whose descriptor has no test images, and no manifest at all: had the train split been loaded
        // first (a Spark job), the error would be the missing manifest, not the empty split.
        Path only = work.resolve("train-only");
        Files.createDirectories(only);
        io.sparkvision.ingest.DatasetDescriptor d = io.sparkvision.data.Datasets.readDescriptor(data.toString(), sc.hadoopConfiguration());
        io.sparkvision.ingest.DatasetDescriptor trainOnly = new io.sparkvision.ingest.DatasetDescriptor(1, d.name(), d.classes(),
                d.channels(), d.height(), d.width(), Map.of("train", 1000L), Map.of("train", d.classCounts().get("train")),
                d.mean(), d.std(), d.source(), d.contentHash(), "missing-manifest.csv", d.manifestHash(), d.ingestedAt(),
                d.ingestFormat(), null, null);
        Files.writeString(only.resolve("dataset.json"), Json.pretty(trainOnly));
        JobConfig cfg = JobConfig.fromString(String.join("\n",
                "data.root = \"" + only + "\"", "output.dir = \"" + work.resolve("refused") + "\"", "train.epochs = 1"));
        String m = assertThrows(IllegalArgumentException.class,
                () -> TrainJob.run(cfg, sc, new PrintStream(new ByteArrayOutputStream()))).getMessage();
        assertTrue(m.startsWith("data.test-split = test: dataset " + only + " has no 'test' images"), m);
        assertTrue(m.contains("ingest.split-fractions = { train = 0.8, test = 0.2 }"), m);
        assertTrue(!Files.exists(work.resolve("refused")), "nothing written");
        JobConfig noTrain = JobConfig.fromString(String.join("\n",
                "data.root = \"" + data + "\"", "output.dir = \"" + work.resolve("refused") + "\"", "data.train-split = val"));
        m = assertThrows(IllegalArgumentException.class,
                () -> TrainJob.run(noTrain, sc, new PrintStream(new ByteArrayOutputStream()))).getMessage();
        assertTrue(m.startsWith("data.train-split = val: dataset") && m.contains("[train, test]"), m);
    }
}
