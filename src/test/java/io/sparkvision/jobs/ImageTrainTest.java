package io.sparkvision.jobs;

import io.sparkvision.Schemas;
import io.sparkvision.TestSpark;
import io.sparkvision.augment.AugmentSettings;
import io.sparkvision.config.JobConfig;
import io.sparkvision.config.SparkContexts;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Colour images end to end through the jobs: ingest job (image-folder) -> train job with augmentation on. */
class ImageTrainTest {
    @Test
    void ingestThenTrainWithAugmentation(@TempDir Path work) throws Exception {
        Path data = work.resolve("data"), run = work.resolve("run");
        JobConfig cfg = JobConfig.fromString(String.join("\n",
                "ingest { source = \"" + TestSpark.basedir().resolve("src/test/resources/emoji-tiny") + "\", format = image-folder, image-size = 32 }",
                "data { root = \"" + data + "\", test-split = val }",
                "augment { horizontal-flip = true, random-crop-padding = 2, brightness = 0.2 }",
                "output.dir = \"" + run + "\"",
                "train { epochs = 2, batch-size-per-worker = 8, averaging-frequency = 1 }",
                "progress.interval-seconds = 1"));
        SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("sparkvision-test");
        SparkContexts.applyDefaults(conf);
        assertTrue(AugmentSettings.of(cfg).flip() && AugmentSettings.of(cfg).cropPadding() == 2);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            IngestJob.run(cfg, sc, new PrintStream(buf, true));
            Map<String, Object> report = TrainJob.run(cfg, sc, new PrintStream(buf, true));
            assertEquals(6L, ((Number) report.get("examples")).longValue(), buf.toString());

            // The settings being read prove nothing about training: show that the train job really
            // trains on augmented images. One worker is deterministic (two runs without augmentation agree bit for
            // bit), so a run with augmentation can only differ because its images did.
            float[] plain = trainedParams(work, sc, "plain-1", ""), again = trainedParams(work, sc, "plain-2", "");
            float[] augmented = trainedParams(work, sc, "augmented", "augment { horizontal-flip = true, brightness = 0.2 }");
            assertArrayEquals(plain, again, "one worker without augmentation is deterministic");
            assertFalse(java.util.Arrays.equals(plain, augmented), "augment.* changed nothing the model saw");
        }
        assertTrue(buf.toString().contains("24 train + 6 test images"), buf.toString());
        Schemas.assertValid("report.schema.json", Schemas.read(run.resolve("report.json")), "report.json");
        Schemas.assertValid("dataset-descriptor.schema.json", Schemas.read(data.resolve("dataset.json")), "dataset.json");
    }

    /** Parameters after one epoch on one worker, the job's augment.* keys as given. */
    static float[] trainedParams(Path work, JavaSparkContext sc, String name, String augment) throws Exception {
        Path run = work.resolve(name);
        JobConfig cfg = JobConfig.fromString(String.join("\n", "data { root = \"" + work.resolve("data") + "\", test-split = val }",
                augment, "output.dir = \"" + run + "\"", "train { epochs = 1, workers = 1, batch-size-per-worker = 8, averaging-frequency = 1 }"));
        TrainJob.run(cfg, sc, new PrintStream(new ByteArrayOutputStream()));
        return io.sparkvision.model.ModelFiles.load(io.sparkvision.io.HadoopFs.path(run.resolve("model.zip").toString()),
                new org.apache.hadoop.conf.Configuration()).params().dup().data().asFloat();
    }
}
