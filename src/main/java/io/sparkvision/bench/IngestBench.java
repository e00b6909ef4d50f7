package io.sparkvision.bench;

import io.sparkvision.config.SparkContexts;
import io.sparkvision.ingest.Decoder;
import io.sparkvision.ingest.IngestSettings;
import io.sparkvision.ingest.SkippedImage;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import javax.imageio.ImageIO;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Decodes and resizes the same files three ways in one JVM and prints images/s: the product's decoder, a plain
 * {@code ImageIO.read} + Graphics2D bilinear scale loop (both single-threaded, from bytes already in memory, so
 * the numbers are per core and exclude file reads), and Spark's {@code image} data source on local[threads]
 * (decode only: it cannot resize; its number includes reading the files). Not a test: timings depend on the host.
 */
public final class IngestBench {
    private IngestBench() {
    }

    public record Numbers(int images, double productPerSec, double imageIoPerSec, double sparkPerSec, int sparkThreads) {
    }

    public static Numbers run(Path input, int size, int limit, int threads, boolean spark, PrintStream out) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(input)) {
            files = walk.filter(Files::isRegularFile)
                    .filter(p -> p.toString().toLowerCase(Locale.ROOT).matches(".*\\.(jpe?g|png|gif|bmp)$"))
                    .sorted().limit(limit > 0 ? limit : Long.MAX_VALUE).collect(Collectors.toList());
        }
        if (files.isEmpty()) throw new IllegalArgumentException("--input " + input + " holds no .jpg/.png/.gif/.bmp files");
        List<byte[]> bytes = new ArrayList<>();
        long total = 0;
        for (Path p : files) {
            byte[] b = Files.readAllBytes(p);
            bytes.add(b);
            total += b.length;
        }
        out.printf(Locale.ROOT, "bench ingest: %,d files (%,.1f MB) from %s, output %dx%d RGB%n", files.size(), total / 1e6,
                input, size, size);
        IngestSettings s = IngestSettings.defaults(size, 3);

        // The plain loop at its best: no temp-file cache behind ImageIO.read(InputStream).
        ImageIO.setUseCache(false);
        // Alternating full passes, best of each: the first rounds warm the JIT, and on a shared host the best
        // pass is the least disturbed one.
        double productRate = 0, imageIoRate = 0;
        for (int round = 0; round < 4; round++) {
            productRate = Math.max(productRate, rate(bytes.size(), () -> product(bytes, s)));
            imageIoRate = Math.max(imageIoRate, rate(bytes.size(), () -> imageIo(bytes, size)));
        }
        out.printf(Locale.ROOT, "  product decoder (1 thread)        %,9.0f images/s%n", productRate);
        out.printf(Locale.ROOT, "  plain ImageIO.read + scale (1 th) %,9.0f images/s%n", imageIoRate);
        out.printf(Locale.ROOT, "  product / ImageIO per core        %9.2fx%n", productRate / imageIoRate);
        double sparkRate = Double.NaN;
        if (spark) {
            sparkRate = sparkImageSource(input, files.size(), threads);
            out.printf(Locale.ROOT, "  Spark image source (local[%d])    %,9.0f images/s (%,.0f per core, decode only)%n",
                    threads, sparkRate, sparkRate / threads);
            out.printf(Locale.ROOT, "  product / Spark image per core    %9.2fx%n", productRate / (sparkRate / threads));
        }
        return new Numbers(files.size(), productRate, imageIoRate, sparkRate, threads);
    }

    private interface Pass {
        void run() throws IOException;
    }

    private static double rate(int n, Pass pass) throws IOException {
        long t0 = System.nanoTime();
        pass.run();
        return n / ((System.nanoTime() - t0) / 1e9);
    }

    static long product(List<byte[]> bytes, IngestSettings s) {
        long sink = 0;
        for (byte[] b : bytes) {
            try {
                sink += Decoder.decode(b, s).data()[0];
            } catch (SkippedImage e) {
                sink--;
            }
        }
        return sink;
    }

    /** What a hand-written loop would do: ImageIO.read, then one bilinear drawImage of the centre square. */
    static long imageIo(List<byte[]> bytes, int size) throws IOException {
        long sink = 0;
        for (byte[] b : bytes) {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(b));
            if (img == null) continue;
            int side = Math.min(img.getWidth(), img.getHeight());
            BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_3BYTE_BGR);
            Graphics2D g = out.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            int x0 = (img.getWidth() - side) / 2, y0 = (img.getHeight() - side) / 2;
            g.drawImage(img, 0, 0, size, size, x0, y0, x0 + side, y0 + side, null);
            g.dispose();
            sink += out.getRGB(0, 0);
        }
        return sink;
    }

    static double sparkImageSource(Path input, int n, int threads) {
        SparkConf conf = new SparkConf().setMaster("local[" + threads + "]").setAppName("sparkvision-bench");
        SparkContexts.applyDefaults(conf);
        SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
        try {
            String glob = input.toAbsolutePath().toUri().toString();
            // Warm-up on the same files, then the timed pass; sum(length(data)) forces every image to be decoded.
            spark.read().format("image").option("recursiveFileLookup", "true").load(glob).selectExpr("sum(length(image.data))").collect();
            long t0 = System.nanoTime();
            Row r = spark.read().format("image").option("recursiveFileLookup", "true").load(glob)
                    .selectExpr("sum(length(image.data))", "count(*)").collectAsList().get(0);
            double secs = (System.nanoTime() - t0) / 1e9;
            return r.getLong(1) / secs;
        } finally {
            spark.stop();
        }
    }
}
