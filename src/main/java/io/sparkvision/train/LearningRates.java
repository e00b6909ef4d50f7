package io.sparkvision.train;

import io.sparkvision.config.Choices;
import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.MapSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

/**
 * The optimiser and the per-epoch learning rate. The driver sets the rate before each epoch, so a schedule
 * behaves the same however many workers share an epoch (DL4J's iteration counters differ per worker).
 */
public final class LearningRates {
    private final Choices.LrSchedule schedule;
    private final double initial;
    private final int epochs;
    private final int stepEpochs;
    private final double gamma;
    private final double minFraction;
    private final double power;
    private final int warmup;

    /** @param workers training workers, for the linear scaling rule */
    public LearningRates(JobConfig c, int workers) {
        this.schedule = c.get(Options.TRAIN_LR_SCHEDULE);
        this.initial = scaled(c, workers);
        this.epochs = c.get(Options.TRAIN_EPOCHS);
        this.stepEpochs = c.get(Options.TRAIN_LR_STEP_EPOCHS);
        this.gamma = c.get(Options.TRAIN_LR_STEP_GAMMA);
        this.minFraction = c.get(Options.TRAIN_LR_MIN_FRACTION);
        this.power = c.get(Options.TRAIN_LR_POWER);
        this.warmup = c.get(Options.TRAIN_WARMUP_EPOCHS);
    }

    /** Goyal et al.'s linear scaling rule: the rate grows with the total batch over all workers. */
    static double scaled(JobConfig c, int workers) {
        int reference = c.get(Options.TRAIN_LR_REFERENCE_BATCH);
        double lr = c.get(Options.TRAIN_LR);
        return reference > 0 ? lr * workers * c.get(Options.TRAIN_BATCH) / (double) reference : lr;
    }

    /** Learning rate for epoch {@code e} (1-based). */
    public double at(int e) {
        if (e <= warmup) return initial * e / (warmup + 1.0);
        double progress = epochs - warmup <= 1 ? 0 : (e - warmup - 1) / (double) (epochs - warmup - 1);
        double min = initial * minFraction;
        switch (schedule) {
            case STEP:
                return initial * Math.pow(gamma, (e - warmup - 1) / stepEpochs);
            case POLYNOMIAL:
                return Math.max(min, initial * Math.pow(1 - progress, power));
            case COSINE:
                return min + 0.5 * (initial - min) * (1 + Math.cos(Math.PI * progress));
            default:
                return initial;
        }
    }

    /**
     * The whole schedule as DL4J's per-iteration schedule, for gradient sharing's workers. They keep the network they
     * were first sent for the whole run, so a rate set on the driver between epochs never reaches them; a schedule
     * inside the network's configuration does. It is keyed by each worker's own iteration count (epoch e starts at
     * (e-1) x batchesPerWorker, every worker taking as many steps per epoch): the iteration count is what DL4J passes
     * to both the schedule and the encoding threshold, while a worker's epoch count only counts the fit calls
     * SharedTrainingWrapper made on that executor (one per partition it was given).
     */
    public ISchedule iterationSchedule(int batchesPerWorker) {
        MapSchedule.Builder b = new MapSchedule.Builder(ScheduleType.ITERATION);
        for (int e = 1; e <= epochs; e++) b.add((e - 1) * batchesPerWorker, at(e));
        return b.build();
    }

    /** The 1-based epoch a worker is in at its iteration count {@code iteration} (see {@link #iterationSchedule}). */
    public int epochAtIteration(long iteration, int batchesPerWorker) {
        return (int) Math.min(epochs, iteration / Math.max(1, batchesPerWorker) + 1);
    }

    /** The updater; its rate is overwritten each epoch by {@link #at}. */
    public static IUpdater updater(JobConfig c) {
        double lr = c.get(Options.TRAIN_LR);
        switch (c.get(Options.TRAIN_UPDATER)) {
            case SGD:
                return new Sgd(lr);
            case NESTEROVS:
                return new Nesterovs(lr, c.get(Options.TRAIN_MOMENTUM));
            default:
                // adamw = Adam here plus train.weight-decay, which DL4J applies decoupled from the gradient
                // (WeightDecay regularisation, Loshchilov & Hutter); see TrainJob's validation.
                return new Adam(lr);
        }
    }
}
