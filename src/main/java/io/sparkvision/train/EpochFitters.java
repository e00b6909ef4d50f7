package io.sparkvision.train;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.data.ImageDataset;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;

/**
 * Picks the {@link EpochFitter} of train.master: {@link AveragingEpochFitter} or {@link SharingEpochFitter} (kept apart
 * from the fitters' base so that the base does not name its implementations).
 */
public final class EpochFitters {
    private EpochFitters() {
    }

    /**
     * The fitter of train.master.
     *
     * @param firstEpoch  the epoch this run starts with (after a resume, the one after the checkpoint)
     * @param sharedSteps gradient sharing: the minibatches fitted before this run (from the resumed metrics)
     */
    public static EpochFitter of(JobConfig cfg, JavaSparkContext sc, Model net, ImageDataset train, int workers,
                                 int firstEpoch, long sharedSteps) {
        return cfg.get(Options.TRAIN_MASTER).perEpoch()
                ? new AveragingEpochFitter(cfg, sc, net, train, workers, firstEpoch)
                : new SharingEpochFitter(cfg, sc, net, train, workers, firstEpoch, sharedSteps);
    }
}
