package io.sparkvision.jobs;

import io.sparkvision.ingest.ManifestCsv;
import io.sparkvision.config.Choices;
import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.io.ArchiveReader;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.model.ModelMetadata;
import io.sparkvision.io.SerializableHadoopConf;
import io.sparkvision.image.ImagePreparation;
import io.sparkvision.image.InputShape;
import io.sparkvision.model.Models;
import io.sparkvision.score.Scorer;
import io.sparkvision.util.Json;
import io.sparkvision.util.Hashing;
import io.sparkvision.config.SparkContexts;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import org.deeplearning4j.nn.api.Model;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.apache.spark.sql.functions.array_join;
import static org.apache.spark.sql.functions.col;

/**
 * The score job: batch-scores images in directories, archives or manifests on any Hadoop URI and writes one row
 * per image (data-schemas/score-output.md). Corrupt or non-image entries become rows with an error.
 */
public final class ScoreJob {
    public static final StructType SCHEMA = new StructType()
            .add("source", DataTypes.StringType, false)
            .add("entry", DataTypes.StringType, false)
            .add("top_k_ids", DataTypes.createArrayType(DataTypes.IntegerType, false), true)
            .add("top_k_names", DataTypes.createArrayType(DataTypes.StringType, false), true)
            .add("top_k_probs", DataTypes.createArrayType(DataTypes.FloatType, false), true)
            .add("model_id", DataTypes.StringType, false)
            .add("model_version", DataTypes.StringType, false)
            .add("scored_at", DataTypes.TimestampType, false)
            .add("error", DataTypes.StringType, true);

    private ScoreJob() {
    }

    public static void validate(JobConfig cfg) {
        cfg.require(Options.MODEL_PATH, "the score job needs a saved model (a run's model.zip or a checkpoint)");
        cfg.require(Options.SCORE_INPUT, "the score job needs images to score");
        cfg.require(Options.SCORE_OUTPUT, "the score job writes its rows there");
    }

    public static long run(JobConfig cfg, PrintStream out) throws IOException {
        validate(cfg);
        try (JavaSparkContext sc = SparkContexts.create(cfg, "score")) {
            return run(cfg, sc, out);
        }
    }

    /** Returns the number of rows written. */
    @SuppressWarnings("unchecked")
    public static long run(JobConfig cfg, JavaSparkContext sc, PrintStream out) throws IOException {
        validate(cfg);
        Configuration hadoop = sc.hadoopConfiguration();
        Path output = HadoopFs.path(cfg.get(Options.SCORE_OUTPUT));
        boolean overwrite = cfg.get(Options.SCORE_OVERWRITE);
        if (HadoopFs.exists(output, hadoop) && !overwrite) {
            throw new IllegalArgumentException("score output " + output + " already exists; pass --overwrite "
                    + "(score.overwrite = true) to replace it, or choose another score.output");
        }
        // A model registry directory means its current production model, resolved once for the whole job.
        Path modelPath = ModelFiles.resolve(HadoopFs.path(cfg.get(Options.MODEL_PATH)), hadoop);
        Model model = ModelFiles.load(modelPath, hadoop);
        ModelMetadata meta = ModelFiles.readMetadata(modelPath, hadoop);
        if (meta == null || meta.classes() == null) {
            throw new IllegalArgumentException(modelPath + " has no " + ModelFiles.metadataPath(modelPath).getName()
                    + " beside it (class names, input shape, normalisation); score models saved by sparkvision's train job");
        }
        List<String> classes = meta.classes();
        ModelMetadata.requireCompatible(meta, model, "cannot score with " + modelPath, "its metadata", null, null, classes,
                null, "score models saved by sparkvision's train job");
        byte[] modelBytes = HadoopFs.readAll(modelPath, hadoop);
        InputShape shape = meta.inputShape();
        // Raw images are prepared as the model's training images were; models that record no preparation predate
        // it and get today's defaults (shorter-side-crop, area averaging, white background, the input's channels).
        ImagePreparation preparation = ImagePreparation.ofModel(meta.preparation(), shape, ModelFiles.metadataPath(modelPath).toString());
        Scorer scorer = new Scorer(String.valueOf(meta.architecture()), Hashing.sha256(modelBytes), preparation,
                meta.mean(), meta.std(), classes, cfg.get(Options.SCORE_TOP_K), cfg.get(Options.SCORE_BATCH));

        List<Scorer.Unit> units = units(HadoopFs.path(cfg.get(Options.SCORE_INPUT)), hadoop, cfg.get(Options.SCORE_FILES_PER_TASK));
        out.printf("score: %d task(s) from %s with %s (%s)%n", units.size(), cfg.get(Options.SCORE_INPUT), modelPath.getName(),
                scorer.getClass().getSimpleName());
        Broadcast<byte[]> model64 = sc.broadcast(modelBytes);
        SerializableHadoopConf conf = new SerializableHadoopConf(hadoop);
        LongAccumulator scored = sc.sc().longAccumulator("sparkvision.scored");
        JavaRDD<Row> rows = sc.parallelize(units, Math.max(1, units.size()))
                .mapPartitions(it -> {
                    List<java.util.Iterator<Row>> parts = new ArrayList<>();
                    while (it.hasNext()) parts.add(scorer.score(it.next(), model64.value(), conf.get(), scored));
                    return parts.stream().flatMap(i -> {
                        Iterable<Row> iterable = () -> i;
                        return java.util.stream.StreamSupport.stream(iterable.spliterator(), false);
                    }).iterator();
                });
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        Dataset<Row> df = spark.createDataFrame(rows, SCHEMA);
        long t0 = System.nanoTime();
        ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sparkvision-score-progress");
            t.setDaemon(true);
            return t;
        });
        progress.scheduleAtFixedRate(() -> out.printf(Locale.ROOT, "  scored %,d images, %,.0f images/s%n", scored.value(),
                scored.value() / ((System.nanoTime() - t0) / 1e9)), 10, 10, TimeUnit.SECONDS);
        try {
            SaveMode mode = overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists;
            if (cfg.get(Options.SCORE_FORMAT) == Choices.ScoreFormat.CSV) {
                df.withColumn("top_k_ids", array_join(col("top_k_ids").cast("array<string>"), "|"))
                        .withColumn("top_k_names", array_join(col("top_k_names"), "|"))
                        .withColumn("top_k_probs", array_join(col("top_k_probs").cast("array<string>"), "|"))
                        .write().mode(mode).option("header", "true").csv(output.toString());
            } else {
                df.write().mode(mode).parquet(output.toString());
            }
        } finally {
            progress.shutdownNow();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        Dataset<Row> written = cfg.get(Options.SCORE_FORMAT) == Choices.ScoreFormat.CSV
                ? spark.read().option("header", "true").csv(output.toString()) : spark.read().parquet(output.toString());
        long total = written.count();
        long errors = written.filter(col("error").isNotNull()).count();
        out.printf(Locale.ROOT, "score: %,d rows (%,d scored, %,d errors) in %.1f s, %,.0f images/s -> %s%n",
                total, total - errors, errors, secs, scored.value() / secs, output);
        return total;
    }

    /** Work units: each archive alone (archives are not splittable), loose files in groups. */
    static List<Scorer.Unit> units(Path input, Configuration conf, int filesPerTask) throws IOException {
        FileSystem fs = HadoopFs.fs(input, conf);
        if (!fs.exists(input)) throw new IllegalArgumentException("score input " + input + " does not exist");
        List<Scorer.Unit> units = new ArrayList<>();
        List<String> loose = new ArrayList<>();
        if (fs.getFileStatus(input).isFile()) {
            String name = input.getName().toLowerCase(Locale.ROOT);
            if (ArchiveReader.isArchive(name)) units.add(new Scorer.Unit(input.toString(), null));
            else if (name.endsWith(".csv")) loose.addAll(manifestPaths(input, conf));
            else loose.add(input.toString());
        } else {
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(input, true);
            while (it.hasNext()) {
                Path p = it.next().getPath();
                if (p.getName().startsWith(".") || p.getName().startsWith("_")) continue; // hidden / marker files
                if (ArchiveReader.isArchive(p.getName())) units.add(new Scorer.Unit(p.toString(), null));
                else loose.add(p.toString());
            }
        }
        for (int i = 0; i < loose.size(); i += filesPerTask) {
            units.add(new Scorer.Unit(null, new ArrayList<>(loose.subList(i, Math.min(loose.size(), i + filesPerTask)))));
        }
        if (units.isEmpty()) throw new IllegalArgumentException("score input " + input + " holds no files");
        return units;
    }

    static List<String> manifestPaths(Path manifest, Configuration conf) throws IOException {
        List<String> lines = ManifestCsv.lines(HadoopFs.readString(manifest, conf));
        int col = lines.isEmpty() ? -1 : ManifestCsv.column(lines.get(0), "path");
        if (col < 0) throw new IllegalArgumentException(manifest + " has no 'path' column in its header: "
                + (lines.isEmpty() ? "(empty file)" : lines.get(0)));
        List<String> out = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) continue;
            String rel = ManifestCsv.fields(line)[col];
            out.add(rel.contains("://") ? rel : new Path(manifest.getParent(), rel).toString());
        }
        return out;
    }

}
