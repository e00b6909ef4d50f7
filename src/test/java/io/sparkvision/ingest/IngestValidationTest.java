package io.sparkvision.ingest;

import io.sparkvision.Schemas;
import io.sparkvision.SparkActivity;
import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import io.sparkvision.jobs.IngestJob;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input that must stop the ingest before any Spark work, naming the path and the fix; and manifests. */
class IngestValidationTest {
    static JavaSparkContext sc;
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());
    static final IngestSettings S = IngestSettings.defaults(16, 3);

    @BeforeAll
    static void start() {
        sc = TestSpark.local(2);
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    static byte[] png() throws IOException {
        return Hostile.encode(Hostile.halves(20, 20, BufferedImage.TYPE_3BYTE_BGR), "png");
    }

    static void put(Path root, String rel, byte[] b) throws IOException {
        Files.createDirectories(root.resolve(rel).getParent());
        Files.write(root.resolve(rel), b);
    }

    /**
     * The ingest refuses the input before any image is read: no Spark job ran but the executors' listing of a folder
     * tree, or their reading of a manifest, and its checks (counted by job description, not read from absent output).
     */
    static String fails(Path src, Path out, String format, String classIndex) {
        try (SparkActivity jobs = SparkActivity.watchJobs(sc)) {
            String m = assertThrows(IllegalArgumentException.class,
                    () -> ImageIngest.run(sc, format, src.toString(), out.toString(), S, classIndex, 1, QUIET)).getMessage();
            assertFalse(Files.exists(out.resolve("dataset.json")), "nothing may be written: " + m);
            List<String> other = jobs.jobDescriptions().stream().filter(d -> !d.equals(ParallelListing.JOB_DESCRIPTION)
                    && !d.equals(ManifestListing.JOB_DESCRIPTION)).toList();
            assertEquals(List.of(), other, "refused before any Spark job but the listing: " + m);
            return m;
        }
    }

    @Test
    void anEmptyClassFolderIsNamed(@TempDir Path src) throws IOException {
        put(src, "train/cat/a.png", png());
        Files.createDirectories(src.resolve("train/dog"));
        String m = fails(src, src.resolve("out"), "image-folder", "");
        assertTrue(m.contains("train/dog") && m.contains("empty class folder") && m.contains("add images"), m);
    }

    @Test
    void aValSplitWithAClassTrainLacksIsNamed(@TempDir Path src) throws IOException {
        put(src, "train/cat/a.png", png());
        put(src, "val/cat/b.png", png());
        put(src, "val/dog/c.png", png());
        String m = fails(src, src.resolve("out"), "image-folder", "");
        assertTrue(m.contains("'val'") && m.contains("[dog]") && m.contains("Add train images"), m);
    }

    @Test
    void manifestLabelsOutsideTheClassIndexAreNamed(@TempDir Path src) throws IOException {
        put(src, "img/a.png", png());
        put(src, "img/b.png", png());
        Files.writeString(src.resolve("labels.csv"), "path,label,split\nimg/a.png,cat,train\nimg/b.png,zebra,train\n");
        Files.writeString(src.resolve("classes.txt"), "cat\ndog\n");
        String m = fails(src.resolve("labels.csv"), src.resolve("out"), "manifest", src.resolve("classes.txt").toString());
        assertTrue(m.contains("[zebra]") && m.contains("img/b.png") && m.contains("ingest.class-index"), m);
    }

    @Test
    void aMalformedManifestRowIsNamedWithItsLine(@TempDir Path src) throws IOException {
        Files.writeString(src.resolve("labels.csv"), "path,label\nimg/a.png,cat\nimg/b.png\n");
        String m = fails(src.resolve("labels.csv"), src.resolve("out"), "manifest", "");
        assertTrue(m.contains("line 3") && m.contains("path,label[,split]"), m);
    }

    @Test
    void credentialsInTheSourceUriAreRefused() {
        try (SparkActivity jobs = SparkActivity.watchJobs(sc)) {
            String m = assertThrows(IllegalArgumentException.class, () -> ImageIngest.run(sc, "image-folder",
                    "s3a://AKIA:topsecret@bucket/images", "/tmp/x", S, "", 1, QUIET)).getMessage();
            assertFalse(m.contains("topsecret"), m);
            assertTrue(m.contains("fs.s3a.access.key"), m);
            assertEquals(0, jobs.jobsStarted(), "refused before any Spark job");
        }
    }

    @Test
    void manifestIngestThroughTheJobSkipsMissingHugeAndTruncatedFiles(@TempDir Path src) throws IOException {
        put(src, "img/a.png", png());
        put(src, "img/b.png", png());
        put(src, "img/c.png", png());
        put(src, "img/huge.png", Hostile.pngClaiming(50_000, 50_000));
        put(src, "img/cut.png", Hostile.truncated(png()));
        Files.writeString(src.resolve("labels.csv"), String.join("\n", "path,label,split", "img/a.png,cat,train",
                "img/b.png,dog,train", "img/c.png,dog,val", "img/huge.png,cat,train", "img/cut.png,cat,train",
                "img/gone.png,dog,train", ""));
        Path out = src.resolve("out");
        JobConfig cfg = JobConfig.fromString(String.join("\n",
                "ingest { source = \"" + src.resolve("labels.csv") + "\", format = manifest, image-size = 16 }",
                "data.root = \"" + out + "\""));
        IngestJob.run(cfg, sc, QUIET);
        IngestReport r = io.sparkvision.util.Json.read(Files.readString(out.resolve("ingest-report.json")), IngestReport.class);
        assertEquals(6, r.read());
        assertEquals(3, r.ingested());
        assertEquals(3, r.skipped());
        String skipped = r.skippedItems().toString();
        assertTrue(skipped.contains("huge.png") && skipped.contains("50000x50000"), skipped);
        assertTrue(skipped.contains("cut.png") && skipped.contains("truncated"), skipped);
        assertTrue(skipped.contains("gone.png") && skipped.contains("does not exist"), skipped);
        Schemas.assertValid("ingest-report.schema.json", Schemas.read(out.resolve("ingest-report.json")), "ingest-report.json");
        Schemas.assertValid("dataset-descriptor.schema.json", Schemas.read(out.resolve("dataset.json")), "dataset.json");
        assertEquals(1L, io.sparkvision.util.Json.read(Files.readString(out.resolve("dataset.json")), DatasetDescriptor.class).count("val"));
    }

    static byte[] zip(java.util.Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (java.util.zip.ZipOutputStream z = new java.util.zip.ZipOutputStream(buf)) {
            for (java.util.Map.Entry<String, byte[]> e : entries.entrySet()) {
                z.putNextEntry(new java.util.zip.ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return buf.toByteArray();
    }

    @Test
    void archivesInsideASplitFolderAddClassesWithoutMovingExistingIds(@TempDir Path src) throws IOException {
        put(src, "train/cat/a.png", png());
        put(src, "train/dog/b.png", png());
        Path out = src.resolve("out");
        assertEquals(java.util.List.of("cat", "dog"),
                ImageIngest.run(sc, "image-folder", src.toString(), out.toString(), S, "", 1, QUIET).descriptor().classes());
        java.util.Map<String, byte[]> entries = new java.util.LinkedHashMap<>();
        entries.put("zebra/z.png", png());
        entries.put("ant/a.png", png());
        entries.put("cat/c.png", png());
        put(src, "train/batch-2.zip", zip(entries));
        byte[] whole = zip(java.util.Map.of("dog/d.png", png(), "dog/e.png", png()));
        put(src, "train/broken.zip", java.util.Arrays.copyOf(whole, whole.length - 150));
        ImageIngest.Result r = ImageIngest.run(sc, "image-folder", src.toString(), out.toString(), S, "", 1, QUIET);
        assertEquals(java.util.List.of("cat", "dog", "ant", "zebra"), r.descriptor().classes());
        assertEquals(2L, r.descriptor().classCounts().get("train").get("cat"));
        assertEquals(2, r.report().unchanged());
        assertEquals(r.report().read(), r.report().ingested() + r.report().skipped());
        assertTrue(r.report().skippedItems().stream().anyMatch(k -> k.path().endsWith("broken.zip")
                && k.reason().contains("archive unreadable")), r.report().skippedItems().toString());
    }

    @Test
    void aParquetManifestIsReadLikeTheCsvOne(@TempDir Path src) throws IOException {
        put(src, "img/a.png", png());
        put(src, "img/b.png", png());
        put(src, "img/c.png", png());
        org.apache.spark.sql.SparkSession spark = org.apache.spark.sql.SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        org.apache.spark.sql.types.StructType schema = new org.apache.spark.sql.types.StructType()
                .add("path", "string").add("label", "string").add("split", "string");
        java.util.List<org.apache.spark.sql.Row> rows = java.util.List.of(
                org.apache.spark.sql.RowFactory.create("img/a.png", "cat", "train"),
                org.apache.spark.sql.RowFactory.create("img/b.png", "dog", "train"),
                org.apache.spark.sql.RowFactory.create("img/c.png", "dog", null));
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(src.resolve("labels.parquet").toString());
        ImageIngest.Result r = ImageIngest.run(sc, "manifest", src.resolve("labels.parquet").toString(),
                src.resolve("out").toString(), S, "", 1, QUIET);
        assertEquals(java.util.List.of("cat", "dog"), r.descriptor().classes());
        assertEquals(3, r.report().ingested());
        assertEquals(3L, r.descriptor().splits().get("train")); // a null split takes ingest.default-split
    }

    @Test
    void aClassFolderWithACommaIsSkippedNotMisfiled(@TempDir Path src) throws IOException {
        put(src, "train/cat/a.png", png());
        put(src, "train/cats,dogs/b.png", png());
        IngestReport r = ImageIngest.run(sc, "image-folder", src.toString(), src.resolve("out").toString(), S, "", 1, QUIET).report();
        assertEquals(1, r.skipped());
        assertTrue(r.skippedItems().get(0).reason().contains("comma"), r.skippedItems().toString());
    }

    @Test
    void aBrokenSymlinkIsReportedNotLost(@TempDir Path src) throws IOException {
        put(src, "train/cat/a.png", png());
        Files.createSymbolicLink(src.resolve("train/cat/b.png"), src.resolve("nowhere.png"));
        IngestReport r = ImageIngest.run(sc, "image-folder", src.toString(), src.resolve("out").toString(), S, "", 1, QUIET).report();
        assertEquals(2, r.read());
        assertEquals(1, r.skipped());
        assertTrue(r.skippedItems().get(0).path().endsWith("b.png") && r.skippedItems().get(0).reason().contains("broken symbolic link"),
                r.skippedItems().toString());
    }

    @Test
    void anUnreadableClassFolderIsNamed(@TempDir Path src) throws IOException {
        org.junit.jupiter.api.Assumptions.assumeFalse("root".equals(System.getProperty("user.name")),
                "root reads every folder regardless of permissions");
        put(src, "train/cat/a.png", png());
        put(src, "train/dog/b.png", png());
        Path dog = src.resolve("train/dog");
        dog.toFile().setReadable(false, false);
        dog.toFile().setExecutable(false, false);
        try {
            String m = fails(src, src.resolve("out"), "image-folder", "");
            assertTrue(m.contains("dog") && m.contains("readable"), m);
        } finally {
            dog.toFile().setReadable(true, false);
            dog.toFile().setExecutable(true, false);
        }
    }
}
