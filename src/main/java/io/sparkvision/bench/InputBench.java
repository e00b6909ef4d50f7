package io.sparkvision.bench;

import io.sparkvision.augment.AugmentSettings;
import io.sparkvision.data.Batches;
import io.sparkvision.data.Example;
import io.sparkvision.data.PixelAugmentation;
import io.sparkvision.image.Crops;
import io.sparkvision.image.ImagePreparation;
import io.sparkvision.image.ImagePreparer;
import io.sparkvision.image.InputShape;
import io.sparkvision.image.Pixels;
import io.sparkvision.image.Resizer;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The training input path alone, on one thread (so: per core), without Spark or a model: examples/s from the uint8
 * training cache (crop + augment + normalise + minibatch assembly, as {@code ImageDataset.epochBatches} does per
 * example) and from encoded bytes (decode first: PNG as today's layout stores images, JPEG as a shard of encoded images
 * would), with the ResNet recipe (random-resized crop 0.08..1 + horizontal flip) and the AlexNet one (random crop +
 * flip). The images are the given fixtures resized to the stored size with noise added, so that they compress like
 * photos rather than flat emoji. Not a test: timings depend on the host; the load average is printed beside them.
 */
public final class InputBench {
    static final AugmentSettings RESNET = new AugmentSettings(0, true, 0.08, true, 0, 0, 0, 0, 0, 2.0);
    static final AugmentSettings ALEXNET = new AugmentSettings(0, false, 0.08, true, 0, 0, 0, 0, 0, 2.0);
    static final double[] MEAN = {0.485, 0.456, 0.406}, STD = {0.229, 0.224, 0.225};

    private InputBench() {
    }

    /** One stored image in the three forms the bench reads. */
    record Stored(byte[] chw, int height, int width, byte[] png, byte[] jpeg) {
    }

    /** Examples per wall-clock second, and per second of this thread's CPU time (what a core would do unshared). */
    public record Row(String name, double examplesPerSec, double examplesPerCpuSec, long bytesPerImage) {
    }

    public static List<Row> run(Path input, int storedHeight, int storedWidth, int inputSize, int images, int batch, double seconds,
                                PrintStream out) throws IOException {
        List<Stored> stored = stored(input, storedHeight, storedWidth, images);
        InputShape in = new InputShape(3, inputSize, inputSize);
        long chw = 3L * storedHeight * storedWidth;
        long png = stored.stream().mapToLong(s -> s.png().length).sum() / stored.size();
        long jpeg = stored.stream().mapToLong(s -> s.jpeg().length).sum() / stored.size();
        out.printf(Locale.ROOT, "bench input: %d distinct images stored at %dx%d RGB (uint8 %,d bytes, PNG ~%,d, JPEG q90 ~%,d), "
                        + "output %s, minibatch %d, one thread, %.0f s per row; %d cores, load average %.2f before%n",
                stored.size(), storedWidth, storedHeight, chw, png, jpeg, in, batch, seconds, Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        List<Row> rows = new ArrayList<>();
        rows.add(measure("cache uint8, ResNet recipe (RRC + flip)", chw, i -> stored.get(i).chw(), stored, RESNET, in, batch, seconds, out));
        rows.add(measure("cache uint8, AlexNet recipe (crop + flip)", chw, i -> stored.get(i).chw(), stored, ALEXNET, in, batch, seconds, out));
        rows.add(measure("cache uint8, centre crop (evaluation)", chw, i -> stored.get(i).chw(), stored, null, in, batch, seconds, out));
        rows.add(measure("encoded PNG -> decode, ResNet recipe", png, i -> decode(stored.get(i).png()), stored, RESNET, in, batch, seconds, out));
        rows.add(measure("encoded JPEG q90 -> decode, ResNet recipe", jpeg, i -> decode(stored.get(i).jpeg()), stored, RESNET, in, batch, seconds, out));
        out.printf(Locale.ROOT, "bench input: load average %.2f after%n", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        return rows;
    }

    /**
     * The product's own preparation ({@code data.TrainingExamples}, what a training task runs) on the uint8 cache with
     * the ResNet recipe, at each {@code train.input-threads} value given: examples per wall-clock second, and the
     * speed-up over one thread. This is the row that says how many cores keep one GPU task fed.
     */
    public static List<Row> threads(Path input, int storedHeight, int storedWidth, int inputSize, int images, int batch, double seconds,
                                    int[] threadCounts, PrintStream out) throws IOException {
        List<Stored> stored = stored(input, storedHeight, storedWidth, images);
        InputShape in = new InputShape(3, inputSize, inputSize);
        List<io.sparkvision.data.CachedImage> cache = new ArrayList<>();
        for (int i = 0; i < stored.size(); i++) {
            cache.add(new io.sparkvision.data.CachedImage(stored.get(i).chw(), 3, storedHeight, storedWidth, i % 10));
        }
        out.printf(Locale.ROOT, "bench input --threads: the product's TrainingExamples (train.input-threads), ResNet recipe, %d images "
                        + "stored at %dx%d, output %s, minibatch %d, %.0f s per row; %d cores, load average %.2f before%n",
                stored.size(), storedWidth, storedHeight, in, batch, seconds, Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        List<Row> rows = new ArrayList<>();
        double one = 0;
        for (int t : threadCounts) {
            double perSec = 0;
            for (int pass = 0; pass < 2; pass++) {
                java.util.Iterator<io.sparkvision.data.CachedImage> endless = new java.util.Iterator<>() {
                    private int i;

                    @Override
                    public boolean hasNext() {
                        return true;
                    }

                    @Override
                    public io.sparkvision.data.CachedImage next() {
                        return cache.get(i++ % cache.size());
                    }
                };
                java.util.Iterator<Example> examples = io.sparkvision.data.TrainingExamples.of(endless, 7, RESNET, in, MEAN, STD, t);
                long t0 = System.nanoTime(), n = 0, sink = 0;
                long end = t0 + (long) (seconds * 1e9);
                while (System.nanoTime() < end) {
                    List<Example> buf = new ArrayList<>(batch);
                    for (int b = 0; b < batch; b++, n++) buf.add(examples.next());
                    sink += Batches.toDataSet(buf, in, 10).numExamples();
                }
                perSec = sink / ((System.nanoTime() - t0) / 1e9);
            }
            if (t == threadCounts[0]) one = perSec / t;
            out.printf(Locale.ROOT, "  train.input-threads = %-3d %,8.0f examples/s wall (%.2fx of %d x the first row's per-thread rate)%n",
                    t, perSec, perSec / (one * t), t);
            rows.add(new Row("input-threads " + t, perSec, Double.NaN, 3L * storedHeight * storedWidth));
        }
        out.printf(Locale.ROOT, "bench input --threads: load average %.2f after%n", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        return rows;
    }

    /**
     * The same rows on a real sharded dataset (ingest.layout = parquet, raw): "from the cache" on the first
     * {@code images} stored train images held as the training cache holds them (uint8, each its own stored size),
     * and "from the shards" reading the train shards row by row (Parquet + zstd decode on one Spark local[1] task
     * thread, then the same recipe) for the same length of time, per CPU-second of the whole JVM (both threads).
     */
    public static List<Row> runOnDataset(String dataRoot, int inputSize, int images, int batch, double seconds, PrintStream out) {
        org.apache.spark.SparkConf conf = new org.apache.spark.SparkConf().setMaster("local[1]").setAppName("sparkvision-bench-input")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1");
        try (org.apache.spark.sql.SparkSession spark = org.apache.spark.sql.SparkSession.builder().config(conf).getOrCreate()) {
            org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> shards = spark.read()
                    .parquet(new org.apache.hadoop.fs.Path(io.sparkvision.io.HadoopFs.path(dataRoot), "images").toString())
                    .filter("split = 'train'").select("image", "height", "width");
            List<Stored> stored = new ArrayList<>();
            long bytes = 0;
            for (org.apache.spark.sql.Row r : shards.limit(images).collectAsList()) {
                byte[] chw = r.getAs(0);
                stored.add(new Stored(chw, r.getInt(1), r.getInt(2), null, null));
                bytes += chw.length;
            }
            if (stored.isEmpty()) throw new IllegalArgumentException("--data " + dataRoot + " has no train images in Parquet shards");
            InputShape in = new InputShape(3, inputSize, inputSize);
            out.printf(Locale.ROOT, "bench input: %s: %d stored train images (e.g. %dx%d, %,d bytes each on average), output %s, "
                            + "minibatch %d, %.0f s per row; %d cores, load average %.2f before%n", dataRoot, stored.size(),
                    stored.get(0).width(), stored.get(0).height(), bytes / stored.size(), in, batch, seconds,
                    Runtime.getRuntime().availableProcessors(), ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
            List<Row> rows = new ArrayList<>();
            rows.add(measure("cache uint8, ResNet recipe (RRC + flip)", bytes / stored.size(), i -> stored.get(i).chw(), stored, RESNET, in, batch, seconds, out));
            rows.add(measure("cache uint8, centre crop (evaluation)", bytes / stored.size(), i -> stored.get(i).chw(), stored, null, in, batch, seconds, out));
            rows.add(fromShards(shards, in, batch, seconds, out));
            out.printf(Locale.ROOT, "bench input: load average %.2f after%n", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
            return rows;
        }
    }

    /** Reads the shards again and again; examples per wall second and per CPU-second of the process (reader + recipe). */
    private static Row fromShards(org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> shards, InputShape in, int batch, double seconds,
                                  PrintStream out) {
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long sink = 0;
        for (int pass = 0; pass < 2; pass++) {
            long t0 = System.nanoTime(), c0 = os.getProcessCpuTime(), n = 0, bytes = 0;
            long end = t0 + (long) (seconds * 1e9);
            while (System.nanoTime() < end) {
                java.util.Iterator<org.apache.spark.sql.Row> it = shards.toLocalIterator();
                List<Example> buf = new ArrayList<>(batch);
                while (it.hasNext() && System.nanoTime() < end) {
                    org.apache.spark.sql.Row r = it.next();
                    byte[] px = r.getAs(0);
                    bytes += px.length;
                    float[] x = RESNET.train(px, r.getInt(1), r.getInt(2), in, new Random(n));
                    ImagePreparer.normaliseInPlace(x, 3, in.height() * in.width(), MEAN, STD);
                    buf.add(new Example(x, (int) (n++ % 10)));
                    if (buf.size() == batch) {
                        sink += Batches.toDataSet(buf, in, 10).numExamples();
                        buf = new ArrayList<>(batch);
                    }
                }
            }
            double perSec = n / ((System.nanoTime() - t0) / 1e9);
            double perCpuSec = n / ((os.getProcessCpuTime() - c0) / 1e9);
            if (pass == 1) {
                String name = "shards (Parquet+zstd read), ResNet recipe";
                out.printf(Locale.ROOT, "  %-45s %,8.0f examples/s wall, %,8.0f per CPU-second of the process (%,d bytes per image in)%n",
                        name, perSec, perCpuSec, n == 0 ? 0 : bytes / n);
                return new Row(name, perSec, perCpuSec, n == 0 ? 0 : bytes / n);
            }
        }
        throw new IllegalStateException("unreachable " + sink);
    }

    private static byte[] decode(byte[] encoded) {
        try {
            return Crops.channelMajor(ImagePreparer.stored(encoded, 3, 256));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Examples/s over minibatches, one warm-up pass of the same length first (JIT). */
    static Row measure(String name, long bytesPerImage, IntFunction<byte[]> pixels, List<Stored> stored, PixelAugmentation recipe,
                       InputShape in, int batch, double seconds, PrintStream out) {
        long[] sink = new long[1];
        java.lang.management.ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        for (int pass = 0; pass < 2; pass++) {
            long t0 = System.nanoTime(), c0 = cpu.getCurrentThreadCpuTime(), n = 0;
            long end = t0 + (long) (seconds * 1e9);
            while (System.nanoTime() < end) {
                List<Example> buf = new ArrayList<>(batch);
                for (int b = 0; b < batch; b++, n++) {
                    Stored s = stored.get((int) (n % stored.size()));
                    byte[] px = pixels.apply((int) (n % stored.size()));
                    float[] x = recipe == null
                            ? Crops.centre(px, 3, s.height(), s.width(), in.height(), in.width())
                            : recipe.train(px, s.height(), s.width(), in, new Random(n));
                    ImagePreparer.normaliseInPlace(x, 3, in.height() * in.width(), MEAN, STD);
                    buf.add(new Example(x, (int) (n % 10)));
                }
                sink[0] += Batches.toDataSet(buf, in, 10).numExamples();
            }
            double perSec = n / ((System.nanoTime() - t0) / 1e9);
            double perCpuSec = n / ((cpu.getCurrentThreadCpuTime() - c0) / 1e9);
            if (pass == 1) {
                out.printf(Locale.ROOT, "  %-45s %,8.0f examples/s wall, %,8.0f per CPU-second of the thread (%,d bytes per image in)%n",
                        name, perSec, perCpuSec, bytesPerImage);
                return new Row(name, perSec, perCpuSec, bytesPerImage);
            }
        }
        throw new IllegalStateException("unreachable " + sink[0]);
    }

    /** The fixtures resized (shorter side, centre crop) to the stored size with noise, then encoded both ways. */
    static List<Stored> stored(Path input, int h, int w, int images) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(input)) {
            files = walk.filter(Files::isRegularFile).filter(p -> p.toString().toLowerCase(Locale.ROOT).matches(".*\\.(jpe?g|png)$"))
                    .sorted().collect(Collectors.toList());
        }
        if (files.isEmpty()) throw new IllegalArgumentException("--input " + input + " holds no .jpg/.png files");
        Random noise = new Random(7);
        List<Stored> out = new ArrayList<>();
        for (int i = 0; out.size() < images; i++) {
            Pixels p = ImagePreparer.pixels(Files.readAllBytes(files.get(i % files.size())), ImagePreparation.defaults(Math.max(h, w), 3),
                    Long.MAX_VALUE, "no limit");
            p = Crops.centre(Resizer.shorterSideCrop(p, Math.max(h, w)), w, h);
            byte[] d = p.data().clone();
            for (int j = 0; j < d.length; j++) d[j] = (byte) Math.max(0, Math.min(255, (d[j] & 0xff) + noise.nextInt(17) - 8));
            p = new Pixels(w, h, 3, d);
            out.add(new Stored(Crops.channelMajor(p), h, w, p.png(), jpeg(p)));
        }
        return out;
    }

    static byte[] jpeg(Pixels p) throws IOException {
        BufferedImage img = new BufferedImage(p.width(), p.height(), BufferedImage.TYPE_3BYTE_BGR);
        byte[] raster = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        byte[] d = p.data();
        for (int i = 0; i < d.length; i += 3) {
            raster[i] = d[i + 2];
            raster[i + 1] = d[i + 1];
            raster[i + 2] = d[i];
        }
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(ios);
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(0.9f);
            writer.write(null, new IIOImage(img, null, null), param);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }
}
