package io.sparkvision.jobs;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.data.MnistIdxIngest;
import io.sparkvision.util.SparkContexts;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.IOException;
import java.io.PrintStream;

/** The ingest job: source data in -> class-folder image tree, manifest.csv and dataset.json out (at data.root). */
public final class IngestJob {
    private IngestJob() {
    }

    public static void validate(JobConfig cfg) {
        cfg.require(Options.INGEST_SOURCE, "the ingest job reads from there");
        cfg.require(Options.DATA_ROOT, "the ingest job writes the dataset there");
    }

    public static MnistIdxIngest.Result run(JobConfig cfg, PrintStream out) throws IOException {
        validate(cfg);
        try (JavaSparkContext sc = SparkContexts.create(cfg, "ingest")) {
            return run(cfg, sc, out);
        }
    }

    public static MnistIdxIngest.Result run(JobConfig cfg, JavaSparkContext sc, PrintStream out) throws IOException {
        validate(cfg);
        // ingest.format has one value so far (mnist-idx); image folders and manifests come with the ingest work.
        return MnistIdxIngest.run(sc, cfg.get(Options.INGEST_SOURCE), cfg.get(Options.DATA_ROOT),
                cfg.get(Options.INGEST_PARTITIONS), out);
    }
}
