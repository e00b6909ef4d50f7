package io.sparkvision.jobs;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.ingest.DatasetConverter;
import io.sparkvision.ingest.DatasetStorage;
import io.sparkvision.ingest.MnistIdxIngest;
import io.sparkvision.ingest.ImageIngest;
import io.sparkvision.ingest.IngestSettings;
import io.sparkvision.config.SparkContexts;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.IOException;
import java.io.PrintStream;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The ingest job: source data in -> a dataset at data.root: Parquet shards (ingest.layout = parquet) or the class-folder
 * image tree with manifest.csv (png-files), with dataset.json; the same for every ingest.format, mnist-idx included.
 */
public final class IngestJob {
    private IngestJob() {
    }

    public static void validate(JobConfig cfg) {
        cfg.require(Options.INGEST_SOURCE, "the ingest job reads from there");
        cfg.require(Options.DATA_ROOT, "the ingest job writes the dataset there");
        cfg.check(cfg.get(Options.INGEST_CHANNELS) != 2, Options.INGEST_CHANNELS, "must be 1 (grey) or 3 (RGB)");
        cfg.check(cfg.get(Options.INGEST_MAX_PIXELS) > 0, Options.INGEST_MAX_PIXELS, "must be positive");
        if (!cfg.get(Options.INGEST_FORMAT).equals("mnist-idx")) IngestSettings.of(cfg); // colour, splits, fractions
        validateClassNames(cfg);
    }

    public static MnistIdxIngest.Result run(JobConfig cfg, PrintStream out) throws IOException {
        validate(cfg);
        try (JavaSparkContext sc = SparkContexts.create(cfg, "ingest")) {
            return run(cfg, sc, out);
        }
    }

    public static MnistIdxIngest.Result run(JobConfig cfg, JavaSparkContext sc, PrintStream out) throws IOException {
        validate(cfg);
        String format = cfg.get(Options.INGEST_FORMAT);
        if (!format.equals("mnist-idx")) {
            ImageIngest.Result r = ImageIngest.run(sc, format, cfg.get(Options.INGEST_SOURCE), cfg.get(Options.DATA_ROOT),
                    IngestSettings.of(cfg), storage(cfg), cfg.get(Options.INGEST_CLASS_INDEX), cfg.get(Options.INGEST_PARTITIONS), out);
            return new MnistIdxIngest.Result(r.descriptor(), r.nothingNew(), r.report() == null ? 0 : r.report().ingested(),
                    r.seconds());
        }
        return MnistIdxIngest.run(sc, cfg.get(Options.INGEST_SOURCE), cfg.get(Options.DATA_ROOT),
                cfg.get(Options.INGEST_PARTITIONS), storage(cfg), cfg.get(Options.INGEST_CLASS_NAMES), out);
    }

    /** The png-files dataset at {@code from} as Parquet shards at {@code to} (ingest.encoding, ingest.shard-mb). */
    public static void convert(JobConfig cfg, String from, String to, PrintStream out) throws IOException {
        ImageIngest.rejectCredentialsIn(from, "--data");
        ImageIngest.rejectCredentialsIn(to, "--to");
        try (JavaSparkContext sc = SparkContexts.create(cfg, "convert-dataset")) {
            DatasetConverter.convert(sc, from, to, cfg.get(Options.INGEST_ENCODING), cfg.get(Options.INGEST_SHARD_MB), out);
        }
    }

    /** ingest.layout, ingest.encoding and ingest.shard-mb. */
    static ImageIngest.Storage storage(JobConfig cfg) {
        String layout = cfg.get(Options.INGEST_LAYOUT);
        return layout.equals(DatasetStorage.PNG_FILES) ? ImageIngest.Storage.PNG_FILES
                : new ImageIngest.Storage(layout, cfg.get(Options.INGEST_ENCODING), cfg.get(Options.INGEST_SHARD_MB));
    }

    /** Names go into manifest.csv (comma-separated, no quoting) and the class index (position = label id). */
    static void validateClassNames(JobConfig cfg) {
        List<String> names = cfg.get(Options.INGEST_CLASS_NAMES);
        if (names.isEmpty()) return;
        cfg.check(cfg.get(Options.INGEST_FORMAT).equals("mnist-idx"), Options.INGEST_CLASS_NAMES,
                "only ingest.format = mnist-idx takes class names from here; image-folder and manifest name classes by "
                        + "their folders or labels (ingest.class-index fixes their order)");
        Set<String> seen = new HashSet<>();
        for (String n : names) {
            cfg.check(!n.contains(",") && !n.contains("\n") && !n.contains("\r"), Options.INGEST_CLASS_NAMES,
                    "'" + n + "' contains a comma or line break, which manifest.csv cannot hold; rename the class");
            cfg.check(seen.add(n), Options.INGEST_CLASS_NAMES, "'" + n + "' is listed twice; each class once, in label order");
        }
    }
}
