package io.sparkvision.jobs;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.util.Provenance;
import org.apache.spark.api.java.JavaSparkContext;

import java.time.Instant;
import java.util.Map;

/**
 * How a job run came about (the "provenance" of report.json, model.json and candidate.json): which code, which
 * resolved configuration, which Spark, when. Every job records the common part; train, evaluate and retrain add
 * theirs. Absent parts are left out of the JSON.
 *
 * @param modelProvenance evaluate: the provenance the evaluated model was trained with
 * @param sizing          train: the memory sizing before the first round ({@code RoundSizing})
 * @param fineTune        train: what fine-tuning the init model did ({@code model.FineTuning}); absent otherwise
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobProvenance(String codeVersion, String configOrigin, Map<String, Object> config, Long seed,
                            String datasetContentHash, String datasetManifestHash, String sparkMaster,
                            String sparkVersion, Integer workers, String javaVersion, String host, Object modelProvenance,
                            String startedAt, String endedAt, Object sizing, Object fineTune) {

    /** The part every job records; ended now. */
    static JobProvenance of(JobConfig cfg, JavaSparkContext sc, String startedAt) {
        return new JobProvenance(Provenance.codeVersion(), cfg.origin(), cfg.resolved(), null, null, null, sc.master(),
                null, null, null, null, null, startedAt, Instant.now().toString(), null, null);
    }

    /** A training run: its seed, dataset, Spark and Java versions, workers and sizing. */
    JobProvenance training(JobConfig cfg, JavaSparkContext sc, DatasetDescriptor d, int workers, Object sizing) {
        return new JobProvenance(codeVersion, configOrigin, config, cfg.get(Options.TRAIN_SEED), d.contentHash(),
                d.manifestHash(), sparkMaster, sc.version(), workers, System.getProperty("java.version"), host,
                modelProvenance, startedAt, endedAt, sizing, fineTune);
    }

    /** A training run that fine-tuned a saved model (null: it did not). */
    JobProvenance fineTuned(Object fineTuning) {
        return new JobProvenance(codeVersion, configOrigin, config, seed, datasetContentHash, datasetManifestHash,
                sparkMaster, sparkVersion, workers, javaVersion, host, modelProvenance, startedAt, endedAt, sizing, fineTuning);
    }

    /** An evaluation: its workers and the evaluated model's own provenance (null if it has none). */
    JobProvenance evaluation(int workers, Object modelProvenance) {
        return new JobProvenance(codeVersion, configOrigin, config, seed, datasetContentHash, datasetManifestHash,
                sparkMaster, sparkVersion, workers, javaVersion, host, modelProvenance, startedAt, endedAt, sizing, fineTune);
    }

    /** A nightly retrain: the host it ran on (the registry lock names hosts too). */
    JobProvenance onHost(String host) {
        return new JobProvenance(codeVersion, configOrigin, config, seed, datasetContentHash, datasetManifestHash,
                sparkMaster, sparkVersion, workers, javaVersion, host, modelProvenance, startedAt, endedAt, sizing, fineTune);
    }
}
