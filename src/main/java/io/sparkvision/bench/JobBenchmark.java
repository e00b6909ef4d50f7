package io.sparkvision.bench;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.config.SparkContexts;
import io.sparkvision.image.InputShape;
import io.sparkvision.jobs.IngestJob;
import io.sparkvision.jobs.TrainJob;
import io.sparkvision.model.Architecture;
import io.sparkvision.model.Architectures;
import io.sparkvision.train.LearningRates;
import io.sparkvision.train.MetricsLine;
import io.sparkvision.train.SparkModel;
import io.sparkvision.train.TrainingMasters;
import io.sparkvision.util.Json;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The train job's own examples/s against {@code bench train}'s parameter-averaging row, side by side in one run and
 * one Spark context: the same model, input, batch per worker, workers, averaging frequency and training master
 * ({@link TrainingMasters#create}, what the job uses), alternating job run, bench rounds, job run, bench rounds...
 * so that a machine shared with other work disturbs both alike.
 *
 * <p>The job side is the whole train job on an image-folder dataset ingested once at the start (evaluation and
 * checkpoint every epoch, the chart, metrics.jsonl); its rate is examples / epoch wall seconds from metrics.jsonl,
 * first epoch excluded (the bench excludes its warm-up round too), and the all-epochs and whole-call rates are printed
 * beside it. The bench side fits one averaging round's minibatches (random pixels of the same shape, cached on the
 * executors) per call and times each round, as {@code bench train} does.
 */
public final class JobBenchmark {
    /** What to compare; {@code copies} times the images of {@code images} (an image-folder tree) make the dataset. */
    public record Settings(String model, Path images, int copies, int size, int batch, int workers, int averagingFrequency,
                           int epochs, int rounds, int repeats, Path work) {
    }

    private final Settings s;
    private final PrintStream out;

    public JobBenchmark(Settings settings, PrintStream out) {
        this.s = settings;
        this.out = out;
    }

    /** One repeat's figures: the job's steady and all-epoch rates, its whole-call rate, the bench's PA rate. */
    record Pair(double jobSteady, double jobAll, double jobCall, double bench) {
    }

    public void run() throws IOException {
        Path data = s.work().resolve("data"), images = s.work().resolve("images");
        int files = replicate(s.images(), images, s.copies());
        String common = String.join("\n",
                "ingest { source = \"" + images + "\", format = image-folder, image-size = " + s.size() + " }",
                "data { root = \"" + data + "\", test-split = val }",
                "model.name = " + s.model(),
                "train { epochs = " + s.epochs() + ", batch-size-per-worker = " + s.batch() + ", workers = " + s.workers()
                        + ", averaging-frequency = " + s.averagingFrequency() + ", master = parameter-averaging }",
                "eval.every-epochs = 1", "checkpoint.every-epochs = 1", "progress.interval-seconds = 3600");
        SparkConf conf = new SparkConf().setMaster("local[" + s.workers() + "]").setAppName("sparkvision-bench-job");
        SparkContexts.applyDefaults(conf);
        // DL4J's training statistics (the bench's per-round split) need no NTP clock: durations in this JVM only.
        System.setProperty(org.deeplearning4j.spark.time.TimeSourceProvider.TIMESOURCE_CLASSNAME_PROPERTY,
                org.deeplearning4j.spark.time.SystemClockTimeSource.class.getName());
        TrainBenchmark.threads(1); // one OpenMP thread per Spark task, as scripts/sparkvision sets it
        List<Pair> pairs = new ArrayList<>();
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            IngestJob.run(JobConfig.fromString(common), sc, new PrintStream(OutputStream.nullOutputStream()));
            JobConfig base = JobConfig.fromString(common);
            Architecture arch = Architectures.get(s.model());
            InputShape shape = new InputShape(3, s.size(), s.size());
            int classes = countClasses(images.resolve("train"));
            out.printf(Locale.ROOT, "bench job: %s on %d fixture images x %d copies at %s (%d classes), batch %d per worker, %d workers,"
                            + " averaging every %d, %d epochs per job run (evaluation + checkpoint every epoch), %d bench rounds, %d repeats, local[%d]%n",
                    s.model(), files, s.copies(), shape, classes, s.batch(), s.workers(), s.averagingFrequency(), s.epochs(),
                    s.rounds(), s.repeats(), s.workers());
            for (int r = 1; r <= s.repeats(); r++) {
                double[] job = job(sc, common, r);
                double bench = bench(sc, base, arch, shape, classes, r);
                pairs.add(new Pair(job[0], job[1], job[2], bench));
            }
        }
        summary(pairs);
    }

    /** One train job run; returns {steady examples/s (epochs 2..), all epochs, whole call}. */
    private double[] job(JavaSparkContext sc, String common, int repeat) throws IOException {
        Path run = s.work().resolve("run-" + repeat);
        JobConfig cfg = JobConfig.fromString(common + "\noutput.dir = \"" + run + "\"");
        long t0 = System.nanoTime();
        TrainJob.run(cfg, sc, new PrintStream(OutputStream.nullOutputStream()));
        double call = (System.nanoTime() - t0) / 1e9;
        List<MetricsLine> lines = new ArrayList<>();
        for (String l : Files.readAllLines(run.resolve(TrainJob.METRICS))) if (!l.isBlank()) lines.add(Json.read(l, MetricsLine.class));
        long all = 0, steady = 0;
        double allSecs = 0, steadySecs = 0;
        for (MetricsLine m : lines) {
            all += m.examples();
            allSecs += m.wallSeconds();
            if (m.epoch() > 1) {
                steady += m.examples();
                steadySecs += m.wallSeconds();
            }
            out.printf(Locale.ROOT, "  job %d epoch %d: %d examples in %.2f s wall = %.2f ex/s (fit %.2f s: workers %.2f s, %d Spark jobs;"
                            + " eval %.2f s, checkpoint %.2f s, report %.2f s), top-1 %.1f%%%n", repeat, m.epoch(), m.examples(),
                    m.wallSeconds(), m.examples() / m.wallSeconds(), m.fitSeconds(), m.workerSeconds(), m.sparkJobs(),
                    m.evaluationSeconds(), m.checkpointSeconds(), m.reportSeconds(), 100 * m.top1Accuracy());
        }
        double[] rates = {steady > 0 ? steady / steadySecs : all / allSecs, all / allSecs, all / call};
        out.printf(Locale.ROOT, "  job %d: %.2f ex/s over epochs 2-%d, %.2f ex/s over all epochs, %.2f ex/s over the whole call (%.1f s:"
                + " sizing, decode, model save, report included)%n", repeat, rates[0], s.epochs(), rates[1], rates[2], call);
        return rates;
    }

    /** {@code bench train}'s PA row: the job's master on one round of cached minibatches, one warm-up round. */
    private double bench(JavaSparkContext sc, JobConfig cfg, Architecture arch, InputShape shape, int classes, int repeat) {
        int batch = s.batch(), per = s.averagingFrequency();
        List<Integer> parts = new ArrayList<>();
        for (int p = 0; p < s.workers(); p++) parts.add(p);
        JavaRDD<DataSet> round = sc.parallelize(parts, s.workers())
                .flatMap(p -> TrainBenchmark.batches(shape, batch, per, classes, p).iterator())
                .persist(StorageLevel.MEMORY_ONLY());
        round.count();
        SparkModel model = SparkModel.of(sc, arch.build(shape, classes, cfg.get(Options.TRAIN_SEED), LearningRates.updater(cfg),
                cfg.get(Options.TRAIN_WEIGHT_DECAY)), TrainingMasters.create(cfg, s.workers()));
        model.fit(round); // warm-up
        long t0 = System.nanoTime();
        for (int i = 0; i < s.rounds(); i++) model.fit(round);
        double secs = (System.nanoTime() - t0) / 1e9;
        round.unpersist(false);
        double rate = s.rounds() * (double) s.workers() * per * batch / secs;
        out.printf(Locale.ROOT, "  bench %d: parameter averaging, %d rounds of %d x %d minibatches of %d in %.2f s = %.2f ex/s%n",
                repeat, s.rounds(), s.workers(), per, batch, secs, rate);
        return rate;
    }

    private void summary(List<Pair> pairs) {
        out.println();
        out.printf(Locale.ROOT, "  %-7s %14s %14s %14s %14s %12s%n", "repeat", "job ex/s", "job all ep.", "job call", "bench PA ex/s", "job / bench");
        for (int i = 0; i < pairs.size(); i++) {
            Pair p = pairs.get(i);
            out.printf(Locale.ROOT, "  %-7d %14.2f %14.2f %14.2f %14.2f %11.2fx%n", i + 1, p.jobSteady(), p.jobAll(), p.jobCall(), p.bench(),
                    p.jobSteady() / p.bench());
        }
        double job = median(pairs.stream().mapToDouble(Pair::jobSteady).toArray());
        double all = median(pairs.stream().mapToDouble(Pair::jobAll).toArray());
        double bench = median(pairs.stream().mapToDouble(Pair::bench).toArray());
        out.printf(Locale.ROOT, "  median: job %.2f ex/s (epochs 2-%d), bench %.2f ex/s: job / bench = %.2fx (all epochs: %.2fx)%n",
                job, s.epochs(), bench, job / bench, all / bench);
    }

    static double median(double[] v) {
        double[] c = v.clone();
        java.util.Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
    }

    /**
     * Copies an image-folder tree ({@code split/class/file}) {@code copies} times under new names, so a handful of
     * fixture images makes an epoch of several averaging rounds. Returns the number of source images.
     */
    static int replicate(Path from, Path to, int copies) throws IOException {
        if (!Files.isDirectory(from)) throw new IllegalArgumentException("--images: " + from + " is not a folder of <split>/<class>/<image> files");
        List<Path> files;
        try (Stream<Path> walk = Files.walk(from)) {
            files = walk.filter(Files::isRegularFile).filter(p -> p.getFileName().toString().matches("(?i).*\\.(png|jpe?g|gif|bmp)"))
                    .sorted(Comparator.naturalOrder()).toList();
        }
        if (files.isEmpty()) throw new IllegalArgumentException("--images: no .png/.jpg/.gif/.bmp files under " + from);
        for (Path f : files) {
            Path rel = from.relativize(f);
            String name = rel.getFileName().toString();
            int dot = name.lastIndexOf('.');
            for (int c = 0; c < copies; c++) {
                Path target = to.resolve(rel).resolveSibling(name.substring(0, dot) + "-" + c + name.substring(dot));
                Files.createDirectories(target.getParent());
                Files.copy(f, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return files.size();
    }

    private static int countClasses(Path trainDir) throws IOException {
        try (Stream<Path> l = Files.list(trainDir)) {
            return (int) l.filter(Files::isDirectory).count();
        }
    }
}
