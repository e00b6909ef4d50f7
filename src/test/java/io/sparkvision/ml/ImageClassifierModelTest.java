package io.sparkvision.ml;

import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import io.sparkvision.jobs.IngestJob;
import io.sparkvision.jobs.ScoreJob;
import io.sparkvision.jobs.ScoreMatchesEvaluateTest;
import io.sparkvision.jobs.TrainJob;
import io.sparkvision.score.ImagePredictor;
import io.sparkvision.score.ModelPool;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.zip.CRC32;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Spark ML transformer and the SQL function against the score job, on ScoreMatchesEvaluateTest's fixture (odd
 * sizes, alpha, JPEGs, keep-aspect onto black: a wrong preparation flips top-1s): the same top-k as the score job,
 * bytes and paths alike; bad rows get an error; a Pipeline saved and loaded scores the same; the network is restored
 * once per concurrent task and images go through it in minibatches.
 */
class ImageClassifierModelTest {
    @TempDir
    static Path work;
    static JavaSparkContext sc;
    static SparkSession spark;
    static Path model, images, bad;
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream(), true);

    @BeforeAll
    static void trainAModel() throws Exception {
        Path raw = work.resolve("raw");
        Random rnd = new Random(13);
        for (String split : List.of("train", "test")) {
            for (int c = 0; c < ScoreMatchesEvaluateTest.CLASSES.size(); c++) {
                String cls = ScoreMatchesEvaluateTest.CLASSES.get(c);
                Path dir = Files.createDirectories(raw.resolve(split).resolve(cls));
                for (int i = 0; i < (split.equals("train") ? 8 : 10); i++) {
                    boolean jpeg = i % 3 == 2;
                    Files.write(dir.resolve(cls + i + (jpeg ? ".jpg" : ".png")), ScoreMatchesEvaluateTest.image(c, rnd, jpeg));
                }
            }
        }
        images = raw.resolve("test");
        sc = TestSpark.local(2);
        spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        JobConfig cfg = JobConfig.fromString(String.join("\n",
                "ingest { source = \"" + raw + "\", format = image-folder, image-size = 16, resize = keep-aspect, background = black }",
                "data { root = \"" + work.resolve("data") + "\", test-split = test }",
                "output.dir = \"" + work.resolve("run") + "\"",
                "train { epochs = 4, batch-size-per-worker = 8, averaging-frequency = 1, learning-rate = 0.01 }"));
        IngestJob.run(cfg, sc, QUIET);
        TrainJob.run(cfg, sc, QUIET);
        model = work.resolve("run").resolve(TrainJob.MODEL);

        bad = Files.createDirectories(work.resolve("bad"));
        Files.writeString(bad.resolve("notes.txt"), "not an image");
        Files.write(bad.resolve("empty.png"), new byte[0]);
        Files.write(bad.resolve("huge.png"), pngHeader(30_000, 30_000));
        Files.copy(images.resolve("red/red0.png"), bad.resolve("good.png"));
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    static Dataset<Row> binaryFiles(Path dir) {
        return spark.read().format("binaryFile").option("recursiveFileLookup", "true").load(dir.toString());
    }

    /** file name -> "top-k names | top-k ids | error" of each row (probabilities compared separately). */
    static Map<String, String> byName(List<Row> rows, String nameCol, String prefix) {
        Map<String, String> m = new TreeMap<>();
        for (Row r : rows) {
            String name = r.<String>getAs(nameCol).replaceAll(".*/", "");
            String error = r.getAs(prefix + "error");
            m.put(name, error != null ? "error" : r.getList(r.fieldIndex(prefix + "top_k_names")) + " "
                    + r.getList(r.fieldIndex(prefix + "top_k_ids")));
        }
        return m;
    }

    static Map<String, List<Float>> probsByName(List<Row> rows, String nameCol, String prefix) {
        Map<String, List<Float>> m = new TreeMap<>();
        for (Row r : rows) m.put(r.<String>getAs(nameCol).replaceAll(".*/", ""), r.getList(r.fieldIndex(prefix + "top_k_probs")));
        return m;
    }

    @Test
    void scoresAsTheScoreJobDoesFromBytesAndFromPaths() throws IOException {
        Path scored = work.resolve("scored");
        ScoreJob.run(JobConfig.fromString("model.path = \"" + model + "\"\nscore.input = \"" + images
                + "\"\nscore.output = \"" + scored + "\"\nscore.top-k = 3"), sc, QUIET);
        List<Row> job = spark.read().parquet(scored.toString()).collectAsList();
        Map<String, String> expected = byName(job, "source", "");
        assertEquals(30, expected.size());
        assertTrue(expected.values().stream().map(v -> v.replaceAll(",.*", "")).distinct().count() > 1,
                "the model must respond to its input: " + expected);

        ImageClassifierModel classifier = ImageClassifierModel.fromModel(model.toString()).setTopK(3).setBatchSize(4);
        List<Row> fromBytes = classifier.transform(binaryFiles(images)).collectAsList();
        assertEquals(expected, byName(fromBytes, "path", ""), "transform over binaryFile bytes vs the score job");
        assertClose(probsByName(job, "source", ""), probsByName(fromBytes, "path", ""));

        Dataset<Row> paths = binaryFiles(images).select(col("path").as("file"));
        List<Row> fromPaths = classifier.setInputCol("file").setOutputPrefix("pred_").transform(paths).collectAsList();
        assertEquals(expected, byName(fromPaths, "file", "pred_"), "transform over paths vs the score job");
        assertClose(probsByName(job, "source", ""), probsByName(fromPaths, "file", "pred_"));
        assertEquals(List.of("file", "pred_top_k_ids", "pred_top_k_names", "pred_top_k_probs", "pred_error"),
                Arrays.asList(fromPaths.get(0).schema().fieldNames()));
    }

    static void assertClose(Map<String, List<Float>> expected, Map<String, List<Float>> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String k : expected.keySet()) {
            for (int i = 0; i < expected.get(k).size(); i++) {
                assertEquals(expected.get(k).get(i), actual.get(k).get(i), 1e-5, k + " top-" + (i + 1));
            }
        }
    }

    @Test
    void badRowsGetAnErrorAndNoPredictions() throws IOException {
        ImageClassifierModel classifier = ImageClassifierModel.fromModel(model.toString()).setBatchSize(2);
        Map<String, Row> rows = new TreeMap<>();
        for (Row r : classifier.transform(binaryFiles(bad)).collectAsList()) rows.put(r.<String>getAs("path").replaceAll(".*/", ""), r);
        // Spark's file sources skip zero-byte files: empty.png has no row here (it gets one from its path below).
        assertEquals(List.of("good.png", "huge.png", "notes.txt"), new ArrayList<>(rows.keySet()));
        assertError(rows.get("notes.txt"), "not an image");
        assertError(rows.get("huge.png"), "above the score job's limit");
        assertNull(rows.get("good.png").getAs("error"));
        assertEquals(3, rows.get("good.png").getList(rows.get("good.png").fieldIndex("top_k_ids")).size(), "3 classes, top-5 asked");

        // Paths: a missing file, a null, and a file over the score job's byte limit (sparse: nothing is written).
        Path big = bad.resolve("../big.png");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(ImagePredictor.MAX_BYTES + 1);
        }
        List<String> paths = Arrays.asList(big.toString(), bad.resolve("missing.png").toString(), null,
                bad.resolve("empty.png").toString(), bad.resolve("good.png").toString());
        Dataset<Row> df = spark.createDataset(paths, Encoders.STRING()).toDF("p");
        List<Row> out = classifier.setInputCol("p").transform(df).collectAsList();
        assertEquals(5, out.size());
        assertError(out.get(0), "larger than " + ImagePredictor.MAX_BYTES);
        assertError(out.get(1), "unreadable");
        assertError(out.get(2), "null");
        assertError(out.get(3), "zero-byte");
        assertNull(out.get(4).getAs("error"));
    }

    static void assertError(Row r, String words) {
        String error = r.getAs("error");
        assertNotNull(error, r.toString());
        assertTrue(error.contains(words), error);
        assertNull(r.getAs("top_k_ids"));
        assertNull(r.getAs("top_k_names"));
        assertNull(r.getAs("top_k_probs"));
    }

    @Test
    void aPipelineSavedAndLoadedScoresTheSameWithItsOwnCopyOfTheModel() throws IOException {
        // A copy of the model that is deleted after saving: the saved pipeline must not need it.
        Path copy = Files.createDirectories(work.resolve("copy"));
        Files.copy(model, copy.resolve("model.zip"));
        Files.copy(model.resolveSibling("model.json"), copy.resolve("model.json"));
        ImageClassifierModel classifier = ImageClassifierModel.fromModel(copy.resolve("model.zip").toString())
                .setTopK(2).setBatchSize(3).setOutputPrefix("p_");
        SQLTransformer onlyPngs = new SQLTransformer().setStatement("SELECT path, content FROM __THIS__ WHERE path LIKE '%.png'");
        Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {onlyPngs, classifier});
        Dataset<Row> df = binaryFiles(images);
        PipelineModel fitted = pipeline.fit(df);
        List<Row> before = fitted.transform(df).drop("content").collectAsList();
        assertEquals(21, before.size(), "the test split's PNGs: 7 of each class");

        String savedModel = work.resolve("saved-pipeline-model").toString(), savedPipeline = work.resolve("saved-pipeline").toString();
        fitted.write().save(savedModel);
        pipeline.write().save(savedPipeline);
        assertTrue(Files.isRegularFile(Path.of(savedModel, "stages", "1_" + classifier.uid(), "data", "model.zip")));
        Files.delete(copy.resolve("model.zip"));
        Files.delete(copy.resolve("model.json"));

        PipelineModel loaded = PipelineModel.load(savedModel);
        ImageClassifierModel stage = (ImageClassifierModel) loaded.stages()[1];
        assertEquals(classifier.uid(), stage.uid());
        assertEquals(2, stage.getTopK());
        assertEquals(3, stage.getBatchSize());
        assertEquals("p_", stage.getOutputPrefix());
        assertTrue(stage.getModelUri().endsWith("/data/model.zip"), stage.getModelUri());
        assertEquals(sorted(before), sorted(loaded.transform(df).drop("content").collectAsList()));
        // The unfitted pipeline too (a Transformer stage is its own fitted form).
        assertEquals(sorted(before), sorted(Pipeline.load(savedPipeline).fit(df).transform(df).drop("content").collectAsList()));
    }

    static List<String> sorted(List<Row> rows) {
        return rows.stream().map(r -> {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < r.length(); i++) sb.append(r.get(i) instanceof scala.collection.Seq<?> s ? s.mkString("[", ",", "]") : r.get(i)).append(' ');
            return sb.toString();
        }).sorted().toList();
    }

    @Test
    void theSqlFunctionGivesTheTransformersAnswers() {
        SparkVision.registerUdf(spark, "classify", model.toString(), 3);
        binaryFiles(images).union(binaryFiles(bad)).createOrReplaceTempView("images");
        List<Row> sql = spark.sql("SELECT path, classify(content) AS c, classify(path) AS byPath FROM images").collectAsList();
        List<Row> transformed = ImageClassifierModel.fromModel(model.toString()).setTopK(3)
                .transform(binaryFiles(images).union(binaryFiles(bad))).collectAsList();
        Map<String, String> fromSql = new TreeMap<>(), fromSqlPaths = new TreeMap<>();
        for (Row r : sql) {
            String name = r.<String>getAs("path").replaceAll(".*/", "");
            fromSql.put(name, flat(r.getStruct(1)));
            fromSqlPaths.put(name, flat(r.getStruct(2)));
        }
        Map<String, String> expected = byName(transformed, "path", "");
        assertEquals(33, expected.size(), "30 images, and 3 of bad/ (binaryFile skips the zero-byte one)");
        assertEquals(expected, fromSql, "classify(content) vs transform");
        assertEquals(expected, fromSqlPaths, "classify(path) vs transform");
        Row notAnImage = spark.sql("SELECT classify(content).error AS e, classify(content).top_k_ids AS ids FROM images "
                + "WHERE path LIKE '%notes.txt'").first();
        assertTrue(notAnImage.getString(0).contains("not an image"), notAnImage.getString(0));
        assertTrue(notAnImage.isNullAt(1));
        Row top1 = spark.sql("SELECT classify(content).top_k_names[0], classify(content).top_k_probs[0] FROM images "
                + "WHERE path LIKE '%/red0.png'").first();
        assertEquals(expected.get("red0.png").replaceAll("^\\[([a-z]+).*", "$1"), top1.getString(0));
        assertTrue(top1.getFloat(1) > 1f / 3 && top1.getFloat(1) <= 1f, "top-1 probability " + top1.getFloat(1));
    }

    /** A struct from the SQL function in byName's form. */
    static String flat(Row c) {
        if (c.getAs("error") != null) return "error";
        return c.getList(c.fieldIndex("top_k_names")) + " " + c.getList(c.fieldIndex("top_k_ids"));
    }

    @Test
    void restoresTheNetworkOncePerConcurrentTaskAndScoresInMinibatches() {
        ImageClassifierModel classifier = ImageClassifierModel.fromModel(model.toString()).setBatchSize(8);
        Dataset<Row> oneTask = binaryFiles(images).coalesce(1);
        long passes = ImagePredictor.forwardPassesInThisJvm();
        assertEquals(30, classifier.transform(oneTask).filter(col("error").isNull()).count());
        assertEquals(4, ImagePredictor.forwardPassesInThisJvm() - passes, "30 images in minibatches of 8");

        long restored = ModelPool.restoredInThisJvm();
        Dataset<Row> sixTasks = binaryFiles(images).repartition(6);
        for (int i = 0; i < 3; i++) assertEquals(30, classifier.transform(sixTasks).filter(col("error").isNull()).count());
        // 18 tasks, at most 2 at a time (local[2]): at most 2 more copies, whatever ran before in this JVM.
        assertTrue(ModelPool.restoredInThisJvm() - restored <= 2, (ModelPool.restoredInThisJvm() - restored) + " restored");
    }

    @Test
    void wrongInputsFailEarlyAndSayWhatToDo() {
        ImageClassifierModel classifier = ImageClassifierModel.fromModel(model.toString());
        Dataset<Row> df = binaryFiles(images);
        String missing = assertThrows(IllegalArgumentException.class, () -> classifier.setInputCol("image").transform(df)).getMessage();
        assertTrue(missing.contains("'image' is not in the DataFrame") && missing.contains("content"), missing);
        String wrongType = assertThrows(IllegalArgumentException.class, () -> classifier.setInputCol("length").transform(df)).getMessage();
        assertTrue(wrongType.contains("bigint"), wrongType);
        String clash = assertThrows(IllegalArgumentException.class,
                () -> classifier.setInputCol("content").transform(df.withColumn("error", col("path")))).getMessage();
        assertTrue(clash.contains("outputPrefix"), clash);
        String noMeta = assertThrows(IllegalArgumentException.class,
                () -> ImageClassifierModel.fromModel(work.resolve("nowhere/model.zip").toString())).getMessage();
        assertTrue(noMeta.contains("does not exist"), noMeta);
    }

    /** A PNG whose header claims width x height and that has no pixel data at all. */
    static byte[] pngHeader(int width, int height) {
        ByteBuffer ihdr = ByteBuffer.allocate(17).put("IHDR".getBytes()).putInt(width).putInt(height)
                .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(ihdr.array());
        return ByteBuffer.allocate(8 + 4 + 17 + 4).put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'})
                .putInt(13).put(ihdr.array()).putInt((int) crc.getValue()).array();
    }
}
