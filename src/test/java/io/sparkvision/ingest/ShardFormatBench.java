package io.sparkvision.ingest;

import io.sparkvision.TestSpark;
import io.sparkvision.data.StoredImage;
import io.sparkvision.data.StoredSplit;
import io.sparkvision.image.ImagePreparer;
import io.sparkvision.image.Pixels;
import io.sparkvision.util.Json;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Measures the stored-image choices side by side in one JVM (not a test; run with
 * {@code scripts/test -Dtest=ShardFormatBench -Dsparkvision.bench.photos=DIR [-Dsparkvision.bench.images=1000]}):
 * photo-like JPEGs of ImageNet's typical 500x375 are made from the photos in DIR (random crops, flips, colour
 * changes; never committed), then ingested at 256 (shorter-side-crop) as png-files, Parquet+PNG and Parquet+raw.
 * Prints per layout: objects written per 1,000 images, stored bytes per image, ingest images/s (local[2]), and the
 * single-thread cost per image of turning a stored image into the uint8 CHW pixels training needs.
 */
@EnabledIfSystemProperty(named = "sparkvision.bench.photos", matches = ".+")
class ShardFormatBench {
    @TempDir
    Path work;

    @Test
    void measure() throws Exception {
        Path photos = Path.of(System.getProperty("sparkvision.bench.photos"));
        int n = Integer.getInteger("sparkvision.bench.images", 1000);
        PrintStream out = System.out;
        Path src = work.resolve("src");
        long jpegBytes = makePhotos(photos, src, n);
        out.printf(Locale.ROOT, "bench shards: %,d JPEGs 500x375 (%,.0f bytes each) from %s%n", n, (double) jpegBytes / n, photos);
        JavaSparkContext sc = TestSpark.local(2);
        try {
            IngestSettings s = IngestSettings.defaults(256, 3);
            PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
            ImageIngest.Storage[] layouts = {ImageIngest.Storage.PNG_FILES, new ImageIngest.Storage(DatasetStorage.PARQUET, DatasetStorage.PNG, 128),
                    new ImageIngest.Storage(DatasetStorage.PARQUET, DatasetStorage.RAW, 128)};
            // Warm-up (JIT, Spark's first jobs), then each layout twice, alternating; the best time of each is kept.
            ImageIngest.run(sc, "image-folder", src.toString(), work.resolve("warm").toString(), s, layouts[2], "", 0, quiet);
            double[] best = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < layouts.length; i++) {
                    Path root = work.resolve("out-" + i + "-" + round);
                    long t0 = System.nanoTime();
                    ImageIngest.run(sc, "image-folder", src.toString(), root.toString(), s, layouts[i], "", 0, quiet);
                    best[i] = Math.min(best[i], (System.nanoTime() - t0) / 1e9);
                }
            }
            String[] names = {"png-files", "parquet+png", "parquet+raw"};
            for (int i = 0; i < layouts.length; i++) {
                Path root = work.resolve("out-" + i + "-1");
                long[] files = count(root, false), images = count(root, true);
                out.printf(Locale.ROOT, "bench shards: %-12s objects %,6d (%,.0f per 1,000 images), image bytes %,.0f per image, "
                                + "largest file %,d bytes, ingest %.1f s = %,.0f images/s (local[2])%n", names[i], files[0],
                        1000.0 * files[0] / n, (double) images[1] / n, images[2], best[i], n / best[i]);
            }
            // Stored image -> uint8 CHW, one thread, from bytes already in memory (what a training task does per image).
            for (int i = 0; i < layouts.length; i++) {
                Path root = work.resolve("out-" + i + "-1");
                DatasetDescriptor d = Json.read(Files.readString(root.resolve("dataset.json")), DatasetDescriptor.class);
                List<StoredImage> imgs = StoredSplit.read(sc, root.toString(), d, "train", 2, 300).collect();
                double bestUs = Double.MAX_VALUE;
                long sink = 0;
                for (int r = 0; r < 5; r++) {
                    long t0 = System.nanoTime();
                    for (StoredImage img : imgs) sink += toChw(img)[7];
                    bestUs = Math.min(bestUs, (System.nanoTime() - t0) / 1e3 / imgs.size());
                }
                out.printf(Locale.ROOT, "bench shards: %-12s stored -> uint8 CHW %.1f us per image (%,.0f images/s per core; %d)%n",
                        names[i], bestUs, 1e6 / bestUs, sink & 1);
            }
        } finally {
            sc.stop();
        }
    }

    private static byte[] toChw(StoredImage img) throws IOException {
        if (img.isRaw()) return img.bytes().clone(); // already CHW uint8: a copy is all a reader does
        Pixels p = ImagePreparer.asStored(img.bytes(), 3);
        return IngestTask.channelMajor(p);
    }

    /** {files, bytes of image files (PNG files or Parquet shards), largest image file} under root. */
    private static long[] count(Path root, boolean imagesOnly) throws IOException {
        long[] c = new long[3];
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
                String name = p.getFileName().toString();
                if (name.endsWith(".crc")) continue; // Hadoop's local checksum files: not on HDFS/S3
                boolean image = name.endsWith(".png") || (name.endsWith(".parquet") && p.toString().contains("/images/"));
                if (imagesOnly && !image) continue;
                c[0]++;
                long size = Files.size(p);
                c[1] += size;
                c[2] = Math.max(c[2], size);
            }
        }
        return c;
    }

    /** n JPEGs of 500x375 (a quarter portrait) in 10 class folders, from random crops of the photos, flipped and recoloured. */
    static long makePhotos(Path photos, Path src, int n) throws IOException {
        List<BufferedImage> base = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(photos)) {
            for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
                BufferedImage img = ImageIO.read(p.toFile());
                if (img != null) base.add(img);
            }
        }
        if (base.isEmpty()) throw new IllegalArgumentException(photos + " holds no readable photos");
        Random rnd = new Random(42);
        long total = 0;
        for (int i = 0; i < n; i++) {
            BufferedImage b = base.get(i % base.size());
            boolean portrait = i % 4 == 3;
            int w = portrait ? 375 : 500, h = portrait ? 500 : 375;
            double area = 0.5 + 0.5 * rnd.nextDouble();
            int cw = (int) Math.min(b.getWidth(), Math.sqrt(area) * b.getWidth()), ch = (int) Math.min(b.getHeight(), (double) cw * h / w);
            int x = rnd.nextInt(Math.max(1, b.getWidth() - cw + 1)), y = rnd.nextInt(Math.max(1, b.getHeight() - ch + 1));
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
            Graphics2D g = img.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            boolean flip = rnd.nextBoolean();
            g.drawImage(b, flip ? w : 0, 0, flip ? 0 : w, h, x, y, x + cw, y + ch, null);
            g.dispose();
            float[] gain = {0.8f + 0.4f * rnd.nextFloat(), 0.8f + 0.4f * rnd.nextFloat(), 0.8f + 0.4f * rnd.nextFloat()};
            byte[] px = ((java.awt.image.DataBufferByte) img.getRaster().getDataBuffer()).getData();
            for (int k = 0; k < px.length; k++) px[k] = (byte) Math.min(255, Math.round((px[k] & 0xff) * gain[k % 3]));
            byte[] jpeg = jpeg(img, 0.9f);
            Path f = src.resolve("train/c" + (i % 10) + "/img" + i + ".jpg");
            Files.createDirectories(f.getParent());
            Files.write(f, jpeg);
            total += jpeg.length;
        }
        return total;
    }

    private static byte[] jpeg(BufferedImage img, float quality) throws IOException {
        ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(buf)) {
            w.setOutput(ios);
            ImageWriteParam p = w.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(quality);
            w.write(null, new IIOImage(img, null, null), p);
        } finally {
            w.dispose();
        }
        return buf.toByteArray();
    }
}
