package io.sparkvision.bench;

import io.sparkvision.config.JobConfig;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.io.ModelFiles;
import io.sparkvision.jobs.ScoreJob;
import io.sparkvision.model.InputShape;
import io.sparkvision.model.ModelRegistry;
import io.sparkvision.model.Models;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.hadoop.conf.Configuration;
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

    public ScoreBenchmark(String modelName, int images, int batch, int workers, PrintStream out) {
        this.modelName = modelName;
        this.images = images;
        this.batch = batch;
        this.workers = workers;
        this.out = out;
    }

    public void run() throws IOException {
        Path dir = Files.createTempDirectory("sparkvision-bench-score");
        InputShape shape = ModelRegistry.get(modelName).defaultInput();
        Model model = ModelRegistry.get(modelName).build(shape, 10, 1, new Sgd(0.1), 0);
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
        Files.createDirectories(dir.resolve("in"));
        for (int a = 0; a < workers; a++) {
            try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new BufferedOutputStream(Files.newOutputStream(dir.resolve("in/part-" + a + ".tar")), 1 << 16))) {
                for (int i = a; i < images; i += workers) {
                    byte[] png = pngs.get(i % pngs.size());
                    TarArchiveEntry e = new TarArchiveEntry(String.format("img/%07d.png", i));
                    e.setSize(png.length);
                    tar.putArchiveEntry(e);
                    tar.write(png);
                    tar.closeArchiveEntry();
                }
            }
        }
        out.printf(Locale.ROOT, "bench score: %s on %s, %,d PNG images in %d tar archives, batch %d, local[%d]%n",
                modelName, shape, images, workers, batch, workers);

        // The score job, end to end: read archives, decode, batch, forward, write Parquet.
        JobConfig cfg = JobConfig.fromString("spark.master = \"local[" + workers + "]\"\nmodel.path = \"" + zip + "\"\nscore.input = \""
                + dir.resolve("in") + "\"\nscore.output = \"" + dir.resolve("out") + "\"\nscore.batch-size = " + batch
                + "\nprogress.interval-seconds = 60");
        long t0 = System.nanoTime();
        ScoreJob.run(cfg, new PrintStream(new ByteArrayOutputStream()));
        double scoreRate = images / ((System.nanoTime() - t0) / 1e9);

        // Pure forward passes over the same images, decoded beforehand, with the same number of threads.
        TrainBenchmark.threads(workers);
        INDArray in = Nd4j.rand(batch, shape.channels(), shape.height(), shape.width());
        for (int i = 0; i < 20; i++) Models.output(model, in);
        long t1 = System.nanoTime();
        int done = 0;
        while (done < images) {
            Models.output(model, in);
            done += batch;
        }
        double forwardRate = done / ((System.nanoTime() - t1) / 1e9);
        out.printf(Locale.ROOT, "  score job         %,10.0f images/s (includes Spark start-up and the Parquet write)%n", scoreRate);
        out.printf(Locale.ROOT, "  forward pass only %,10.0f images/s%n", forwardRate);
        out.printf(Locale.ROOT, "  ratio             %10.2f (target >= 0.9)%n", scoreRate / forwardRate);
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
