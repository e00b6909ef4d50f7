package io.sparkvision.bench;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.SparkContexts;
import io.sparkvision.image.InputShape;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.jobs.ScoreJob;
import io.sparkvision.model.Architectures;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.model.Models;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The score job's images/s against a pure forward pass over the same images already decoded, in one run: the
 * ratio is what reading, decoding, batching and writing Parquet cost on top of the model itself.
 */
public final class ScoreBenchmark {
    private final String modelName;
    private final int images;
    private final int batch;
    private final int workers;
    private final PrintStream out;
    private final InputShape input;

    /** @param input image shape to score at; null = the model's default */
    public ScoreBenchmark(String modelName, InputShape input, int images, int batch, int workers, PrintStream out) {
        this.modelName = modelName;
        this.input = input;
        this.images = images;
        this.batch = batch;
        this.workers = workers;
        this.out = out;
    }

    public void run() throws IOException {
        Path dir = Files.createTempDirectory("sparkvision-bench-score");
        try {
            run(dir);
        } finally {
            org.apache.commons.io.FileUtils.deleteQuietly(dir.toFile()); // archives, model and outputs: ~160 MB a run
        }
    }

    private void run(Path dir) throws IOException {
        InputShape shape = input != null ? input : Architectures.get(modelName).defaultInput();
        Model model = Architectures.get(modelName).build(shape, 10, 1, new Sgd(0.1), 0);
        List<String> classes = new ArrayList<>();
        for (int i = 0; i < 10; i++) classes.add("c" + i);
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("architecture", modelName);
        meta.put("input", shape.toString());
        meta.put("classes", classes);
        meta.put("mean", List.of(0.5));
        meta.put("std", List.of(0.25));
        Path zip = dir.resolve("model.zip");
        ModelFiles.save(model, HadoopFs.path(zip.toString()), meta, new Configuration());
        List<byte[]> pngs = pngs(shape, 200);
        int warmImages = Math.max(workers, Math.min(images / 5, 5_000));
        writeArchives(dir.resolve("warm"), pngs, warmImages);
        writeArchives(dir.resolve("in"), pngs, images);
        out.printf(Locale.ROOT, "bench score: %s on %s, %,d PNG images in %d tar archives, batch %d, local[%d]%n",
                modelName, shape, images, workers, batch, workers);

        // The score job, end to end (read archives, decode, batch, forward, write Parquet), on a started Spark
        // context after a warm-up run: the rate a scheduled job sustains. Start-up is reported on its own line.
        JobConfig base = JobConfig.fromString("spark.master = \"local[" + workers + "]\"\nmodel.path = \"" + zip
                + "\"\nscore.batch-size = " + batch + "\nprogress.interval-seconds = 600");
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        long s0 = System.nanoTime();
        double scoreRate, startup, coldRate;
        try (JavaSparkContext sc = SparkContexts.create(base, "bench-score")) {
            startup = (System.nanoTime() - s0) / 1e9;
            long w0 = System.nanoTime();
            ScoreJob.run(job(base, dir, "warm", "out-warm"), sc, quiet);
            coldRate = warmImages / ((System.nanoTime() - w0) / 1e9);
            long t0 = System.nanoTime();
            ScoreJob.run(job(base, dir, "in", "out"), sc, quiet);
            scoreRate = images / ((System.nanoTime() - t0) / 1e9);
        }

        // Pure forward passes over the same images, decoded beforehand, on the same cores, done the faster of two ways:
        // one model using all threads per batch, or (as the job's tasks do) one model copy per thread.
        double intraOp = forwardRate(List.of(model), images, batch, shape, workers);
        List<Model> copies = new ArrayList<>();
        for (int w = 0; w < workers; w++) copies.add(ModelFiles.load(HadoopFs.path(zip.toString()), new Configuration()));
        double interOp = forwardRate(copies, images, batch, shape, 1);
        double forwardRate = Math.max(intraOp, interOp);
        out.printf(Locale.ROOT, "  Spark start-up    %10.1f s (once per job)%n", startup);
        out.printf(Locale.ROOT, "  score job, first  %,10.0f images/s (%,d images: JIT warm-up, model restore on executors)%n",
                coldRate, warmImages);
        out.printf(Locale.ROOT, "  score job         %,10.0f images/s (archives -> decode -> forward -> Parquet)%n", scoreRate);
        out.printf(Locale.ROOT, "  forward pass only %,10.0f images/s (one model, %d threads: %,.0f; %d models, 1 thread each: %,.0f)%n",
                forwardRate, workers, intraOp, workers, interOp);
        out.printf(Locale.ROOT, "  ratio             %10.2f (target >= 0.9)%n", scoreRate / forwardRate);
    }

    /** Images/s of forward passes over one ready batch: one thread per model, each op on {@code opThreads} threads. */
    private static double forwardRate(List<Model> models, int images, int batch, InputShape shape, int opThreads)
            throws IOException {
        TrainBenchmark.threads(opThreads);
        int perModel = Math.max(batch, images / models.size());
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(models.size());
        try {
            List<java.util.concurrent.Callable<Integer>> work = new ArrayList<>();
            for (Model m : models) {
                work.add(() -> {
                    INDArray in = Nd4j.rand(batch, shape.channels(), shape.height(), shape.width());
                    for (int i = 0; i < 3; i++) Models.output(m, in); // warm-up
                    return 0;
                });
            }
            pool.invokeAll(work);
            work.clear();
            for (Model m : models) {
                work.add(() -> {
                    INDArray in = Nd4j.rand(batch, shape.channels(), shape.height(), shape.width());
                    int done = 0;
                    while (done < perModel) {
                        Models.output(m, in);
                        done += batch;
                    }
                    return done;
                });
            }
            long t0 = System.nanoTime();
            long done = 0;
            for (java.util.concurrent.Future<Integer> f : pool.invokeAll(work)) done += f.get();
            return done / ((System.nanoTime() - t0) / 1e9);
        } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
            throw new IOException("forward-pass benchmark failed: " + e, e);
        } finally {
            pool.shutdownNow();
        }
    }

    private static JobConfig job(JobConfig base, Path dir, String in, String out) {
        return base.with(Map.of("score.input", dir.resolve(in).toString(), "score.output", dir.resolve(out).toString()));
    }

    /** {@code images} PNGs spread over one tar archive per worker (each archive is one task). */
    private void writeArchives(Path to, List<byte[]> pngs, int count) throws IOException {
        Files.createDirectories(to);
        for (int a = 0; a < workers; a++) {
            try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new BufferedOutputStream(Files.newOutputStream(to.resolve("part-" + a + ".tar")), 1 << 16))) {
                for (int i = a; i < count; i += workers) {
                    byte[] png = pngs.get(i % pngs.size());
                    TarArchiveEntry e = new TarArchiveEntry(String.format("img/%07d.png", i));
                    e.setSize(png.length);
                    tar.putArchiveEntry(e);
                    tar.write(png);
                    tar.closeArchiveEntry();
                }
            }
        }
    }

    private static List<byte[]> pngs(InputShape shape, int n) throws IOException {
        Random rnd = new Random(7);
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            BufferedImage img = new BufferedImage(shape.width(), shape.height(),
                    shape.channels() == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < shape.height(); y++) for (int x = 0; x < shape.width(); x++) img.setRGB(x, y, rnd.nextInt());
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            ImageIO.write(img, "png", b);
            out.add(b.toByteArray());
        }
        return out;
    }
}
