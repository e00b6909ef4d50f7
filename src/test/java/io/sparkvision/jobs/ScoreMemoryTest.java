package io.sparkvision.jobs;

import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import io.sparkvision.ingest.MnistIdxIngest;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.sparkvision.ingest.ImageIngest.Storage.PNG_FILES;

/**
 * Memory stays flat: a driver + local[2] executor JVM with a 640 MB heap (close to Spark's own minimum) scores two
 * archives of 100,000 images in all, about 1.4 GB of PNG bytes (noisy colour MNIST digits, 80x80: noise does not
 * compress). A job that kept every image's bytes, or its decoded pixels, would run out of heap; one that streams
 * does not. The rows it wrote are read back and counted (scored and error rows), not taken from the job's own summary.
 */
class ScoreMemoryTest {
    static final int IMAGES = 100_000;
    static final int BAD_PER_ARCHIVE = 3;
    static final long HEAP_BYTES = 640L << 20;
    static final int SIDE = 80;

    /**
     * A digit as an 80x80 colour PNG with 6 bits of noise per channel: ~14 KB that PNG cannot compress, so the
     * archives hold more bytes than the scoring JVM's heap (the model's preparation still scales it to 28x28 grey).
     */
    static byte[] noisyColour(byte[] png, java.util.Random noise) throws java.io.IOException {
        java.awt.image.BufferedImage digit = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png));
        java.awt.image.BufferedImage big = new java.awt.image.BufferedImage(SIDE, SIDE, java.awt.image.BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < SIDE; y++) {
            for (int x = 0; x < SIDE; x++) {
                int v = digit.getRaster().getSample(x * digit.getWidth() / SIDE, y * digit.getHeight() / SIDE, 0);
                int rgb = 0;
                for (int c = 0; c < 3; c++) rgb = rgb << 8 | Math.max(0, Math.min(255, v + noise.nextInt(64) - 32));
                big.setRGB(x, y, rgb);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        javax.imageio.ImageIO.write(big, "png", out);
        return out.toByteArray();
    }

    @Test
    void oneHundredThousandImagesInASmallHeap(@TempDir Path work) throws Exception {
        Path data = work.resolve("data"), run = work.resolve("run");
        try (JavaSparkContext sc = TestSpark.local(2)) {
            PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
            MnistIdxIngest.run(sc, TestSpark.mnistTiny(), data.toString(), 2, PNG_FILES, List.of(), quiet);
            TrainJob.run(JobConfig.fromString("data.root = \"" + data + "\"\noutput.dir = \"" + run
                    + "\"\ntrain { epochs = 1, batch-size-per-worker = 32 }"), sc, quiet);
        }
        List<byte[]> digits = new ArrayList<>();
        java.util.Random noise = new java.util.Random(7);
        try (Stream<Path> s = Files.walk(data.resolve("test"))) {
            for (Path p : s.filter(p -> p.toString().endsWith(".png")).limit(50).toList()) {
                digits.add(noisyColour(Files.readAllBytes(p), noise));
            }
        }
        // Two archives, so both local executor threads work, each with 50,000 MNIST digits.
        Files.createDirectories(work.resolve("in"));
        for (int a = 0; a < 2; a++) {
            try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new BufferedOutputStream(
                    Files.newOutputStream(work.resolve("in/part-" + a + ".tar")), 1 << 16))) {
                for (int i = 0; i < IMAGES / 2; i++) {
                    byte[] png = digits.get(i % digits.size());
                    TarArchiveEntry e = new TarArchiveEntry(String.format("img/%06d.png", i));
                    e.setSize(png.length);
                    tar.putArchiveEntry(e);
                    tar.write(png);
                    tar.closeArchiveEntry();
                }
                // A few bad entries per archive, so the error count read back below is not trivially zero.
                for (int i = 0; i < BAD_PER_ARCHIVE; i++) {
                    byte[] bad = i == 0 ? new byte[0] : ("not an image " + i).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    TarArchiveEntry e = new TarArchiveEntry(String.format("bad/%d.png", i));
                    e.setSize(bad.length);
                    tar.putArchiveEntry(e);
                    tar.write(bad);
                    tar.closeArchiveEntry();
                }
            }
        }
        long archiveBytes = Files.size(work.resolve("in/part-0.tar")) + Files.size(work.resolve("in/part-1.tar"));
        assertTrue(archiveBytes > HEAP_BYTES * 3 / 2, "the images must not fit the heap, else keeping them all would pass: "
                + archiveBytes + " bytes");
        String cp = TestSpark.basedir().resolve("target/classes") + File.pathSeparator
                + Files.readString(Paths.get(System.getProperty("test.classpath.file"))).trim();
        List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens") || a.startsWith("-Dorg.eclipse") || a.startsWith("-Dlog4j2") || a.startsWith("-XX:+Ignore"))
                .toList());
        cmd.addAll(List.of("-Xmx" + (HEAP_BYTES >> 20) + "m", "-Dorg.bytedeco.javacpp.maxbytes=1G", "-cp", cp, "io.sparkvision.cli.Main", "score",
                "--model", run.resolve("model.zip").toString(), "--input", work.resolve("in").toString(),
                "--output", work.resolve("out").toString(), "--set", "spark.master=local[2]"));
        Path log = work.resolve("score.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(15, TimeUnit.MINUTES), "score did not finish");
        String output = Files.readString(log);
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.contains("100,006 rows (100,000 scored, 6 errors)"), output);

        // The job's own summary is not the proof: read what it wrote back with Spark SQL and count.
        try (JavaSparkContext sc = TestSpark.local(2)) {
            SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
            Dataset<Row> rows = spark.read().parquet(work.resolve("out").toString());
            Row counts = rows.agg(functions.count(functions.lit(1)),
                    functions.countDistinct(functions.col("source"), functions.col("entry")),
                    functions.count(functions.col("error")),
                    functions.count(functions.col("top_k_ids")),
                    functions.countDistinct(functions.col("source"))).first();
            assertEquals(IMAGES + 2L * BAD_PER_ARCHIVE, counts.getLong(0), "rows");
            assertEquals(counts.getLong(0), counts.getLong(1), "one row per (archive, entry)");
            assertEquals(2L * BAD_PER_ARCHIVE, counts.getLong(2), "rows with an error");
            assertEquals(IMAGES, counts.getLong(3), "rows with predictions");
            assertEquals(2, counts.getLong(4), "both archives");
            assertEquals(0, rows.filter("error is not null and not entry like 'bad/%'").count(), "only the bad entries fail");
            assertEquals(0, rows.filter("error is null and (size(top_k_probs) < 1 or top_k_probs[0] <= 0)").count());
        }
    }
}
