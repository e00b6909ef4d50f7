package io.sparkvision.bench;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A synthetic ImageNet-like image folder for measuring the data path at scale (never committed):
 * {@code <out>/train/cNNNN/imgNNNNNNN.jpg}, JPEG q90, ImageNet's typical 500x375 (every fourth portrait 375x500),
 * made from the given fixtures: a random colour gradient, two to four fixtures at random crops, scales and positions,
 * per-channel colour gains, and sensor-like noise (so that the files compress like photos rather than flat emoji).
 * Image i depends only on (seed, i): the output is the same whatever the thread count, and a second run over the
 * same folder rewrites identical files. Written by {@code threads} threads.
 */
public final class SyntheticImages {
    public static final int WIDTH = 500, HEIGHT = 375;
    private static final int NOISE_SIDE = 1024;

    private SyntheticImages() {
    }

    /** What was written. */
    public record Written(long images, long bytes, int classes, double seconds) {
    }

    public static Written run(Path fixtures, Path out, long images, int classes, int threads, long seed, PrintStream log)
            throws IOException, InterruptedException {
        if (images <= 0 || classes <= 0 || classes > images) {
            throw new IllegalArgumentException("--images " + images + " and --classes " + classes + ": need 0 < classes <= images");
        }
        List<BufferedImage> base = fixtures(fixtures);
        byte[] noise = noiseTile(seed);
        long t0 = System.nanoTime();
        for (int c = 0; c < classes; c++) Files.createDirectories(classDir(out, c));
        AtomicLong bytes = new AtomicLong(), done = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads));
        try {
            List<Future<?>> parts = new ArrayList<>();
            int n = Math.max(1, threads) * 4;
            for (int part = 0; part < n; part++) {
                long from = images * part / n, to = images * (part + 1) / n;
                parts.add(pool.submit(() -> {
                    for (long i = from; i < to; i++) {
                        byte[] jpeg = jpeg(image(base, noise, seed, i), 0.9f);
                        Files.write(file(out, i, classes), jpeg);
                        bytes.addAndGet(jpeg.length);
                        long d = done.incrementAndGet();
                        if (log != null && d % 10_000 == 0) {
                            log.printf(Locale.ROOT, "synth-images: %,d of %,d written (%.0f s)%n", d, images, (System.nanoTime() - t0) / 1e9);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : parts) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
                }
            }
        } finally {
            pool.shutdownNow();
        }
        Written w = new Written(images, bytes.get(), classes, (System.nanoTime() - t0) / 1e9);
        if (log != null) {
            log.printf(Locale.ROOT, "synth-images: %,d JPEGs in %,d class folders under %s: %,.0f MB, %,.0f bytes per image, %.0f s "
                    + "(%,.0f images/s on %d threads)%n", w.images(), classes, out.resolve("train"), w.bytes() / 1e6,
                    (double) w.bytes() / w.images(), w.seconds(), w.images() / w.seconds(), threads);
        }
        return w;
    }

    /** Where image i goes: class i mod classes, so every class gets images/classes of them. */
    static Path file(Path out, long i, int classes) {
        return classDir(out, (int) (i % classes)).resolve(String.format(Locale.ROOT, "img%07d.jpg", i));
    }

    private static Path classDir(Path out, int c) {
        return out.resolve("train").resolve(String.format(Locale.ROOT, "c%04d", c));
    }

    /** Image i: depends on (seed, i) only. */
    static BufferedImage image(List<BufferedImage> base, byte[] noise, long seed, long i) {
        Random r = new Random(seed * 1_000_003L + i);
        boolean portrait = i % 4 == 3;
        int w = portrait ? HEIGHT : WIDTH, h = portrait ? WIDTH : HEIGHT;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setPaint(new GradientPaint(r.nextInt(w), r.nextInt(h), new Color(r.nextInt(0x1000000)),
                r.nextInt(w), r.nextInt(h), new Color(r.nextInt(0x1000000))));
        g.fillRect(0, 0, w, h);
        int objects = 2 + r.nextInt(3);
        for (int k = 0; k < objects; k++) {
            BufferedImage b = base.get(r.nextInt(base.size()));
            // A random crop of at least half the fixture's side, drawn at 0.3..1.0 of the canvas's shorter side.
            int cw = b.getWidth() / 2 + r.nextInt(b.getWidth() / 2 + 1), ch = b.getHeight() / 2 + r.nextInt(b.getHeight() / 2 + 1);
            int cx = r.nextInt(b.getWidth() - cw + 1), cy = r.nextInt(b.getHeight() - ch + 1);
            int side = (int) (Math.min(w, h) * (0.3 + 0.7 * r.nextDouble()));
            int dw = side, dh = Math.max(1, side * ch / cw);
            int x = r.nextInt(Math.max(1, w - dw / 2)) - dw / 4, y = r.nextInt(Math.max(1, h - dh / 2)) - dh / 4;
            boolean flip = r.nextBoolean();
            g.drawImage(b, flip ? x + dw : x, y, flip ? x : x + dw, y + dh, cx, cy, cx + cw, cy + ch, null);
        }
        g.dispose();
        // Per-channel gains, then a window of the noise tile (cheap: no random draw per pixel).
        float[] gain = {0.7f + 0.6f * r.nextFloat(), 0.7f + 0.6f * r.nextFloat(), 0.7f + 0.6f * r.nextFloat()};
        int ox = r.nextInt(NOISE_SIDE - w), oy = r.nextInt(NOISE_SIDE - h);
        byte[] px = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        for (int y = 0; y < h; y++) {
            int row = y * w * 3, nrow = ((oy + y) * NOISE_SIDE + ox) * 3;
            for (int k = 0; k < w * 3; k++) {
                int v = Math.round((px[row + k] & 0xff) * gain[k % 3]) + noise[nrow + k];
                px[row + k] = (byte) Math.max(0, Math.min(255, v));
            }
        }
        return img;
    }

    /** Sensor-like noise, -10..10 per sample, the same for every image of a seed. */
    private static byte[] noiseTile(long seed) {
        Random r = new Random(seed);
        byte[] t = new byte[NOISE_SIDE * NOISE_SIDE * 3];
        for (int i = 0; i < t.length; i++) t[i] = (byte) (r.nextInt(21) - 10);
        return t;
    }

    private static List<BufferedImage> fixtures(Path dir) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.filter(Files::isRegularFile).filter(p -> p.toString().toLowerCase(Locale.ROOT).matches(".*\\.(jpe?g|png)$"))
                    .sorted().collect(Collectors.toList());
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        List<BufferedImage> out = new ArrayList<>();
        for (Path p : files) {
            BufferedImage img = ImageIO.read(p.toFile());
            if (img != null && img.getWidth() >= 2 && img.getHeight() >= 2) out.add(img);
        }
        if (out.isEmpty()) throw new IllegalArgumentException("--from " + dir + " holds no readable .jpg/.png fixtures");
        return out;
    }

    static byte[] jpeg(BufferedImage img, float quality) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 * 1024);
        try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(ios);
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(quality);
            writer.write(null, new IIOImage(img, null, null), param);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }
}
