package io.sparkvision.train;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * The optimiser and the per-epoch learning rate. The driver sets the rate before each epoch, so a schedule
 * behaves the same however many workers share an epoch (DL4J's iteration counters differ per worker).
 */
public final class LearningRates {
    private final String schedule;
    private final double initial;
    private final int epochs;
    private final int stepEpochs;
    private final double gamma;
    private final double minFraction;

    public LearningRates(JobConfig c) {
        this.schedule = c.get(Options.TRAIN_LR_SCHEDULE);
        this.initial = c.get(Options.TRAIN_LR);
        this.epochs = c.get(Options.TRAIN_EPOCHS);
        this.stepEpochs = c.get(Options.TRAIN_LR_STEP_EPOCHS);
        this.gamma = c.get(Options.TRAIN_LR_STEP_GAMMA);
        this.minFraction = c.get(Options.TRAIN_LR_MIN_FRACTION);
    }

    /** Learning rate for epoch {@code e} (1-based). */
    public double at(int e) {
        switch (schedule) {
            case "step":
                return initial * Math.pow(gamma, (e - 1) / stepEpochs);
            case "cosine": {
                double progress = epochs <= 1 ? 0 : (e - 1) / (double) (epochs - 1);
                double min = initial * minFraction;
                return min + 0.5 * (initial - min) * (1 + Math.cos(Math.PI * progress));
            }
            default:
                return initial;
        }
    }

    public static IUpdater updater(JobConfig c) {
        double lr = c.get(Options.TRAIN_LR);
        switch (c.get(Options.TRAIN_UPDATER)) {
            case "sgd":
                return new Sgd(lr);
            case "nesterovs":
                return new Nesterovs(lr, c.get(Options.TRAIN_MOMENTUM));
            default:
                return new Adam(lr);
        }
    }
}
