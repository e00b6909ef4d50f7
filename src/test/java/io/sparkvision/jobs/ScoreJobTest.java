package io.sparkvision.jobs;

import io.sparkvision.TestSpark;
import io.sparkvision.config.ConfigError;
import io.sparkvision.config.JobConfig;
import io.sparkvision.ingest.MnistIdxIngest;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.sparkvision.ingest.ImageIngest.Storage.PNG_FILES;

/** The score job on loose files, .zip and .tar.gz archives with hostile entries, to Parquet and CSV. */
class ScoreJobTest {
    @TempDir
    static Path work;
    static JavaSparkContext sc;
    static Path model, input;
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    @BeforeAll
    static void trainAModelAndPackImages() throws IOException {
        sc = TestSpark.local(2);
        Path data = work.resolve("data");
        MnistIdxIngest.run(sc, TestSpark.mnistTiny(), data.toString(), 2, PNG_FILES, List.of(), QUIET);
        TrainJob.run(JobConfig.fromString("data.root = \"" + data + "\"\noutput.dir = \"" + work.resolve("run")
                + "\"\ntrain { epochs = 3, batch-size-per-worker = 16, learning-rate = 0.003 }"), sc, QUIET);
        model = work.resolve("run/model.zip");

        input = work.resolve("in/batch");
        Files.createDirectories(input.resolve("loose"));
        List<Path> tests;
        try (Stream<Path> s = Files.walk(data.resolve("test"))) {
            tests = s.filter(p -> p.toString().endsWith(".png")).sorted().limit(60).toList();
        }
        for (Path p : tests.subList(0, 20)) Files.copy(p, input.resolve("loose/" + p.getParent().getFileName() + "_" + p.getFileName()));
        Files.write(input.resolve("loose/empty.png"), new byte[0]);
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(input.resolve("digits.zip")))) {
            for (Path p : tests.subList(20, 40)) put(zip, p.getParent().getFileName() + "/" + p.getFileName(), Files.readAllBytes(p));
            put(zip, "../evil.png", Files.readAllBytes(tests.get(0)));
            put(zip, "notes.txt", "not an image".getBytes());
            put(zip, "7/broken.png", java.util.Arrays.copyOf(Files.readAllBytes(tests.get(1)), 40));
        }
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(
                Files.newOutputStream(input.resolve("more.tar.gz"))))) {
            for (Path p : tests.subList(40, 60)) put(tar, p.getParent().getFileName() + "/" + p.getFileName(), Files.readAllBytes(p));
            put(tar, "colour/wide.png", colourPng(96, 40));
        }
    }

    @AfterAll
    static void stop() {
        sc.stop();
    }

    static JobConfig job(Path out, String extra) {
        return JobConfig.fromString("model.path = \"" + model + "\"\nscore.input = \"" + input + "\"\nscore.output = \"" + out + "\"\n" + extra);
    }

    @Test
    void everyEntryGetsARowAndBadOnesSayWhy() throws IOException {
        Path out = work.resolve("out-parquet");
        long rows = ScoreJob.run(job(out, ""), sc, QUIET);
        // 20 loose + 1 empty, zip: 20 + evil + txt + broken, tar.gz: 20 + 1 colour
        assertEquals(65, rows);
        List<Row> all = SparkSession.builder().sparkContext(sc.sc()).getOrCreate().read().parquet(out.toString()).collectAsList();
        int scored = 0, correct = 0;
        for (Row r : all) {
            String entry = r.getAs("entry");
            String error = r.getAs("error");
            if (entry.endsWith("empty.png") || entry.equals("../evil.png") || entry.equals("notes.txt") || entry.endsWith("broken.png")) {
                assertNotNull(error, entry);
                assertNull(r.getAs("top_k_ids"), entry);
                continue;
            }
            assertNull(error, entry + ": " + error);
            List<Float> probs = r.getList(r.fieldIndex("top_k_probs"));
            assertEquals(5, probs.size());
            for (int i = 1; i < probs.size(); i++) assertTrue(probs.get(i) <= probs.get(i - 1), "sorted: " + probs);
            assertEquals("lenet5", r.getAs("model_id"));
            assertTrue(((String) r.getAs("model_version")).startsWith("sha256:"));
            scored++;
            if (!entry.startsWith("colour")) {
                String truth = entry.contains("/") ? entry.substring(entry.lastIndexOf('/') - 1, entry.lastIndexOf('/'))
                        : entry.substring(entry.lastIndexOf('/') + 1).substring(0, 1);
                if (truth.equals(r.getList(r.fieldIndex("top_k_names")).get(0))) correct++;
            }
        }
        assertEquals(61, scored);
        assertTrue(correct >= 36, "top-1 right on " + correct + " of 60 real digits");
        assertFalse(Files.exists(work.resolve("in/evil.png")) || Files.exists(work.resolve("evil.png")), "nothing is extracted");
    }

    @Test
    void anExistingOutputNeedsOverwrite() throws IOException {
        Path out = work.resolve("out-twice");
        ScoreJob.run(job(out, ""), sc, QUIET);
        String m = assertThrows(IllegalArgumentException.class, () -> ScoreJob.run(job(out, ""), sc, QUIET)).getMessage();
        assertTrue(m.contains("already exists") && m.contains("--overwrite"), m);
        assertEquals(65, ScoreJob.run(job(out, "score.overwrite = true"), sc, QUIET));
    }

    @Test
    void csvOutputJoinsTheTopK() throws IOException {
        Path out = work.resolve("out-csv");
        assertEquals(65, ScoreJob.run(job(out, "score.format = csv\nscore.top-k = 3"), sc, QUIET));
        try (Stream<Path> files = Files.list(out)) {
            Path part = files.filter(p -> p.getFileName().toString().startsWith("part-")).findFirst().orElseThrow();
            String header = Files.readAllLines(part).get(0);
            assertTrue(header.startsWith("source,entry,top_k_ids,top_k_names,top_k_probs"), header);
        }
    }

    /**
     * The same archives and files on HDFS (MiniDFSCluster) and S3 (s3proxy), scored with the output written there:
     * the same rows and the same predictions as on the local file system, and the S3 secret never in the output.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"hdfs", "s3a"})
    void scoresArchivesOnHdfsAndS3LikeLocalFiles(String scheme) throws Exception {
        java.io.File dir = work.resolve("store-" + scheme).toFile();
        try (io.sparkvision.ingest.Stores.Store store = scheme.equals("hdfs") ? io.sparkvision.ingest.Stores.hdfs(dir)
                : io.sparkvision.ingest.Stores.s3(dir)) {
            store.configure(sc.hadoopConfiguration());
            try (Stream<Path> files = Files.walk(input)) {
                for (Path p : files.filter(Files::isRegularFile).toList()) {
                    store.put("batch/" + input.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
                }
            }
            Path local = work.resolve("out-for-" + scheme);
            assertEquals(65, ScoreJob.run(job(local, ""), sc, QUIET));
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            String out = store.root() + "/scored";
            JobConfig remote = JobConfig.fromString("model.path = \"" + model + "\"\nscore.input = \"" + store.root()
                    + "/batch\"\nscore.output = \"" + out + "\"");
            assertEquals(65, ScoreJob.run(remote, sc, new PrintStream(log, true)));
            SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
            assertEquals(top1ByName(spark.read().parquet(local.toString()).collectAsList()),
                    top1ByName(spark.read().parquet(out).collectAsList()));
            assertFalse(log.toString().contains(io.sparkvision.ingest.Stores.S3_SECRET), "the S3 secret is never logged");
        }
    }

    /**
     * A CSV manifest (read by the executors, ScoreInput.manifestUnits) scores the images it lists exactly as the
     * folder holding them does: the same rows, predictions and errors, with full URIs and relative paths mixed.
     */
    @Test
    void aManifestScoresTheImagesItListsLikeTheirFolder() throws IOException {
        Path dir = work.resolve("manifest-in");
        Files.createDirectories(dir.resolve("img"));
        List<Path> loose;
        try (Stream<Path> s = Files.list(input.resolve("loose"))) {
            loose = s.sorted().toList();
        }
        StringBuilder csv = new StringBuilder("label,path\n");
        for (int i = loose.size() - 1; i >= 0; i--) { // not the listing's order
            Path copy = Files.copy(loose.get(i), dir.resolve("img/" + loose.get(i).getFileName()));
            csv.append("x,").append(i % 2 == 0 ? "img/" + copy.getFileName() : copy.toUri()).append('\n');
        }
        Files.writeString(dir.resolve("list.csv"), csv);
        Path fromFolder = work.resolve("out-folder"), fromManifest = work.resolve("out-manifest");
        ScoreJob.run(JobConfig.fromString("model.path = \"" + model + "\"\nscore.input = \"" + dir.resolve("img")
                + "\"\nscore.output = \"" + fromFolder + "\"\nscore.files-per-task = 4"), sc, QUIET);
        assertEquals(21, ScoreJob.run(JobConfig.fromString("model.path = \"" + model + "\"\nscore.input = \""
                + dir.resolve("list.csv") + "\"\nscore.output = \"" + fromManifest + "\"\nscore.files-per-task = 4"), sc, QUIET));
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        java.util.Map<String, String> expected = top1ByName(spark.read().parquet(fromFolder.toString()).collectAsList());
        assertEquals(21, expected.size());
        assertEquals(expected, top1ByName(spark.read().parquet(fromManifest.toString()).collectAsList()));
    }

    /** entry file name (archive entries keep their folders) -> top-1 name or the error's first words. */
    static java.util.Map<String, String> top1ByName(List<Row> rows) {
        java.util.Map<String, String> m = new java.util.TreeMap<>();
        for (Row r : rows) {
            String entry = r.getAs("entry");
            String key = entry.contains("://") || entry.startsWith("file:") ? entry.substring(entry.lastIndexOf('/') + 1) : entry;
            String error = r.getAs("error");
            m.put(key, error != null ? "error" : String.valueOf(r.getList(r.fieldIndex("top_k_names")).get(0)));
        }
        return m;
    }

    @Test
    void missingKeysFailBeforeSpark() {
        assertThrows(ConfigError.class, () -> ScoreJob.validate(JobConfig.fromString("model.path = x")));
    }

    static void put(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(bytes);
        zip.closeEntry();
    }

    static void put(TarArchiveOutputStream tar, String name, byte[] bytes) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(bytes.length);
        tar.putArchiveEntry(e);
        tar.write(bytes);
        tar.closeArchiveEntry();
    }

    static byte[] colourPng(int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, (x * 2) << 16 | (y * 5) << 8 | 0x80 | 0xff000000);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    static void write(OutputStream out, byte[] bytes) throws IOException {
        out.write(bytes);
    }
}
