package io.sparkvision.jobs;

import io.sparkvision.Schemas;
import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import io.sparkvision.image.Crops;
import io.sparkvision.image.ImagePreparation;
import io.sparkvision.image.ImagePreparer;
import io.sparkvision.image.InputShape;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.model.Models;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.api.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The image-preparation contract end to end: a model trained on ingested images scores the test split's ORIGINAL
 * files (odd sizes, alpha, some JPEGs, noisy) with, image for image, the top-1 that evaluation of the ingested split gives,
 * and the score rows add up to the evaluate job's confusion matrix. Scoring with a different resize (the Graphics2D
 * bilinear path the score job had before) breaks this test. Evaluation is recomputed here from the test split's Parquet
 * shard rows, the default layout, as ingest wrote them.
 */
public class ScoreMatchesEvaluateTest {
    public static final List<String> CLASSES = List.of("blue", "green", "red");

    /** An odd-sized image of a striped disc in its class colour on a transparent (PNG) or grey (JPEG) ground. */
    public static byte[] image(int cls, Random rnd, boolean jpeg) throws Exception {
        int w = 41 + 2 * rnd.nextInt(30), h = 37 + 2 * rnd.nextInt(25);
        BufferedImage img = new BufferedImage(w, h, jpeg ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_INT_ARGB);
        int cx = w / 2 + rnd.nextInt(7) - 3, cy = h / 2 + rnd.nextInt(7) - 3, r = Math.min(w, h) / 3 + rnd.nextInt(6);
        int tint = 0x70 << (8 * cls);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                // A weak class signal (a faint tint in a disc) under strong noise: the model stays near its decision
                // boundaries, where any difference in preparation (resize, background, crop) flips some top-1s.
                boolean in = (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r;
                int noise = rnd.nextInt() & 0x8f8f8f;
                int alpha = jpeg || in ? 0xff : rnd.nextInt(0x100);
                img.setRGB(x, y, alpha << 24 | (in ? noise + tint : noise));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, jpeg ? "jpg" : "png", out);
        return out.toByteArray();
    }

    /** Train 8 and test 10 images per class under raw/{train,test}/CLASS; fills labelOf with the test files' labels. */
    static Path writeOriginals(Path work, long seed, Map<String, String> labelOf) throws Exception {
        Path raw = work.resolve("raw");
        Random rnd = new Random(seed);
        for (String split : List.of("train", "test")) {
            for (int c = 0; c < CLASSES.size(); c++) {
                Path dir = Files.createDirectories(raw.resolve(split).resolve(CLASSES.get(c)));
                for (int i = 0; i < (split.equals("train") ? 8 : 10); i++) {
                    boolean jpeg = i % 3 == 2;
                    String name = CLASSES.get(c) + i + (jpeg ? ".jpg" : ".png");
                    Files.write(dir.resolve(name), image(c, rnd, jpeg));
                    if (split.equals("test")) labelOf.put(name, CLASSES.get(c));
                }
            }
        }
        return raw;
    }

    /**
     * What evaluate computes per image, from the test split's Parquet shard rows as ingest wrote them (raw uint8,
     * channel-major, at the stored size): the centre input x input crop (the whole image when they are equal),
     * normalised with the model's mean/std. Fills fromEvaluate with "label->predicted" counts.
     */
    static Map<String, String> top1PerStoredImage(SparkSession spark, Path data, Model net, Map<String, Object> meta, int input,
                                                  Map<String, String> labelOf, Map<String, Long> fromEvaluate) {
        double[] mean = Json.doubles(meta.get("mean")), std = Json.doubles(meta.get("std"));
        Map<String, String> evaluated = new TreeMap<>();
        for (Row r : spark.read().parquet(data.resolve("images/split=test").toString())
                .select("source", "image", "channels", "height", "width").collectAsList()) {
            String name = r.getString(0).replaceAll(".*/", "");
            int c = r.getInt(2), h = r.getInt(3), w = r.getInt(4);
            assertTrue(h > 0, name + ": the default shard encoding stores raw pixels");
            float[] x = Crops.centre((byte[]) r.get(1), c, h, w, input, input);
            ImagePreparer.normaliseInPlace(x, c, input * input, mean, std);
            float[] p = Models.output(net, Nd4j.create(x, new long[] {1, c, input, input}, 'c')).data().asFloat();
            int best = 0;
            for (int k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
            evaluated.put(name, CLASSES.get(best));
            fromEvaluate.merge(labelOf.get(name) + "->" + CLASSES.get(best), 1L, Long::sum);
        }
        assertEquals(30, evaluated.size(), "test images in the shards");
        // A model that answers one class whatever the input could not tell two preparations apart.
        assertTrue(fromEvaluate.keySet().stream().map(k -> k.replaceAll(".*->", "")).distinct().count() > 1,
                "the model must respond to its input: " + fromEvaluate);
        return evaluated;
    }

    /** The score job over the original test files: top-1 per file name, and "label->top1" counts into fromScore. */
    static Map<String, String> scoreOriginals(JavaSparkContext sc, Path modelZip, Path originals, Path scored,
                                              Map<String, String> labelOf, Map<String, Long> fromScore, PrintStream log) throws Exception {
        ScoreJob.run(JobConfig.fromString("model.path = \"" + modelZip + "\"\nscore.input = \"" + originals
                + "\"\nscore.output = \"" + scored + "\"\nscore.top-k = 1"), sc, log);
        Map<String, String> scoredTop1 = new TreeMap<>();
        for (Row r : SparkSession.builder().sparkContext(sc.sc()).getOrCreate().read().parquet(scored.toString()).collectAsList()) {
            assertEquals(null, (Object) r.getAs("error"), r.toString());
            String name = r.<String>getAs("source").replaceAll(".*/", "");
            String top1 = r.<scala.collection.Seq<String>>getAs("top_k_names").apply(0);
            scoredTop1.put(name, top1);
            fromScore.merge(labelOf.get(name) + "->" + top1, 1L, Long::sum);
        }
        return scoredTop1;
    }

    /** The evaluate job's confusion matrix on data's test split as "label->predicted" counts. */
    static Map<String, Long> evaluateJobCells(JavaSparkContext sc, Path modelZip, Path data, Path out, PrintStream log) throws Exception {
        Map<String, Object> report = EvaluateJob.run(JobConfig.fromString(String.join("\n",
                "model.path = \"" + modelZip + "\"", "data { root = \"" + data + "\", test-split = test }",
                "output.dir = \"" + out + "\"")), sc, log);
        List<?> matrix = (List<?>) Json.read(Json.pretty(report.get("confusionMatrix")), List.class);
        Map<String, Long> cells = new TreeMap<>();
        for (int a = 0; a < CLASSES.size(); a++) {
            List<?> row = (List<?>) matrix.get(a);
            for (int p = 0; p < CLASSES.size(); p++) {
                long n = ((Number) row.get(p)).longValue();
                if (n > 0) cells.put(CLASSES.get(a) + "->" + CLASSES.get(p), n);
            }
        }
        return cells;
    }

    @Test
    void scoringTheOriginalFilesGivesEvaluatesTop1ImageForImage(@TempDir Path work) throws Exception {
        Path data = work.resolve("data"), run = work.resolve("run");
        Map<String, String> labelOf = new HashMap<>();
        Path raw = writeOriginals(work, 13, labelOf);
        JobConfig cfg = JobConfig.fromString(String.join("\n",
                "ingest { source = \"" + raw + "\", format = image-folder, image-size = 16, resize = keep-aspect, background = black }",
                "data { root = \"" + data + "\", test-split = test }",
                "output.dir = \"" + run + "\"",
                "train { epochs = 4, batch-size-per-worker = 8, averaging-frequency = 1, learning-rate = 0.01 }"));
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true);
        Map<String, Long> fromScore = new TreeMap<>(), fromEvaluate = new TreeMap<>();
        try (JavaSparkContext sc = TestSpark.local(2)) {
            IngestJob.run(cfg, sc, quiet);
            TrainJob.run(cfg, sc, quiet);
            Path modelZip = run.resolve(TrainJob.MODEL);
            Map<String, Object> meta = ModelFiles.metadata(HadoopFs.path(modelZip.toString()), new Configuration());
            ImagePreparation recorded = new ImagePreparation(16, ImagePreparation.KEEP_ASPECT, 3, "#000000");
            assertEquals(recorded, ImagePreparation.ofModel(meta, new InputShape(3, 16, 16), "model.json"));
            Schemas.assertValid("dataset-descriptor.schema.json", Schemas.read(data.resolve("dataset.json")), "dataset.json");

            Model net = ModelFiles.load(HadoopFs.path(modelZip.toString()), new Configuration());
            SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
            Map<String, String> evaluated = top1PerStoredImage(spark, data, net, meta, 16, labelOf, fromEvaluate);
            Map<String, String> scoredTop1 = scoreOriginals(sc, modelZip, raw.resolve("test"), work.resolve("scored"), labelOf, fromScore, quiet);
            assertEquals(evaluated, scoredTop1, "top-1 per original file (score) vs per ingested image (evaluate)");

            // And the evaluate job itself agrees with the score rows, cell for cell of its confusion matrix.
            assertEquals(evaluateJobCells(sc, modelZip, data, work.resolve("eval"), quiet), fromScore,
                    "evaluate job's confusion matrix vs score rows");
            assertEquals(fromEvaluate, fromScore);

            // The same originals ingested with another preparation: evaluate refuses to measure the model on them.
            Path cropped = work.resolve("cropped");
            IngestJob.run(JobConfig.fromString(String.join("\n", "ingest { source = \"" + raw + "\", format = image-folder, "
                    + "image-size = 16, resize = shorter-side-crop, background = black }", "data.root = \"" + cropped + "\"")), sc, quiet);
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> EvaluateJob.run(JobConfig.fromString(
                    String.join("\n", "model.path = \"" + modelZip + "\"", "data { root = \"" + cropped + "\", test-split = test }",
                            "output.dir = \"" + work.resolve("eval2") + "\"")), sc, quiet));
            assertTrue(refused.getMessage().contains("ingest.resize = keep-aspect"), refused.getMessage());
        }
        assertEquals(30, fromScore.values().stream().mapToLong(Long::longValue).sum());
    }

    /**
     * The same guarantee for a model that takes crops of its stored images (model.input-size 16 of 20): model.json
     * records inputSize, and the score job's centre crop of the prepared original is the crop evaluation takes of the
     * ingested copy, image for image and in the evaluate job's confusion matrix.
     */
    @Test
    void aModelTakingCentreCropsScoresTheOriginalsAsEvaluateDoes(@TempDir Path work) throws Exception {
        Path data = work.resolve("data"), run = work.resolve("run");
        Map<String, String> labelOf = new HashMap<>();
        Path raw = writeOriginals(work, 17, labelOf);
        JobConfig cfg = JobConfig.fromString(String.join("\n",
                "ingest { source = \"" + raw + "\", format = image-folder, image-size = 20, resize = shorter-side-crop, background = black }",
                "data { root = \"" + data + "\", test-split = test }", "model.input-size = 16",
                "output.dir = \"" + run + "\"",
                "train { epochs = 4, batch-size-per-worker = 8, averaging-frequency = 1, learning-rate = 0.01 }"));
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true);
        Map<String, Long> fromScore = new TreeMap<>(), fromEvaluate = new TreeMap<>();
        try (JavaSparkContext sc = TestSpark.local(2)) {
            IngestJob.run(cfg, sc, quiet);
            TrainJob.run(cfg, sc, quiet);
            Path modelZip = run.resolve(TrainJob.MODEL);
            Map<String, Object> meta = ModelFiles.metadata(HadoopFs.path(modelZip.toString()), new Configuration());
            ImagePreparation recorded = new ImagePreparation(20, ImagePreparation.SHORTER_SIDE_CROP, 3, "#000000").withInputSize(16);
            assertEquals(recorded, ImagePreparation.ofModel(meta, new InputShape(3, 16, 16), "model.json"));
            assertEquals("3x16x16", meta.get("input"));
            Schemas.assertValid("model-metadata.schema.json", Json.MAPPER.valueToTree(meta), "model.json");

            // The centre 16 x 16 of each ingested 20 x 20 image, as the evaluator crops the cache.
            Model net = ModelFiles.load(HadoopFs.path(modelZip.toString()), new Configuration());
            SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
            Map<String, String> evaluated = top1PerStoredImage(spark, data, net, meta, 16, labelOf, fromEvaluate);
            Map<String, String> scoredTop1 = scoreOriginals(sc, modelZip, raw.resolve("test"), work.resolve("scored"), labelOf, fromScore, quiet);
            assertEquals(evaluated, scoredTop1, "top-1 per original file (score) vs per ingested image's centre crop (evaluate)");

            assertEquals(evaluateJobCells(sc, modelZip, data, work.resolve("eval"), quiet), fromScore,
                    "evaluate job's confusion matrix vs score rows");
            assertEquals(fromEvaluate, fromScore);
        }
    }
}
