package io.sparkvision.jobs;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;

/** The train.fine-tune.* keys: checked before any Spark work, read by {@link TrainStart}. */
final class FineTuneKeys {
    private FineTuneKeys() {
    }

    /** Whether the job asks for fine-tuning rather than a plain warm start. */
    static boolean any(JobConfig cfg) {
        return cfg.get(Options.TRAIN_FT_REPLACE_HEAD) || !cfg.get(Options.TRAIN_FT_FREEZE_UP_TO).isBlank()
                || !cfg.get(Options.TRAIN_FT_BACKBONE_LR).isBlank();
    }

    static void validate(JobConfig cfg) {
        cfg.check(!any(cfg) || !cfg.get(Options.TRAIN_INIT_MODEL).isBlank(), Options.TRAIN_INIT_MODEL,
                "train.fine-tune.* fine-tunes a saved model: set train.init-model to its model.zip or to an .onnx file "
                        + "exported from torchvision (docs/onnx-import.md)");
        backboneRate(cfg);
    }

    /** The backbone's learning rate; NaN = the run's (train.learning-rate). */
    static double backboneRate(JobConfig cfg) {
        String v = cfg.get(Options.TRAIN_FT_BACKBONE_LR).trim();
        if (v.isEmpty()) return Double.NaN;
        double rate;
        try {
            rate = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            rate = Double.NaN;
        }
        cfg.check(!Double.isNaN(rate), Options.TRAIN_FT_BACKBONE_LR, "not a number (e.g. 1e-4)");
        cfg.check(rate != 0, Options.TRAIN_FT_BACKBONE_LR,
                "0 would stop the backbone from learning: freeze it with train.fine-tune.freeze-up-to instead");
        cfg.check(rate > 0 && rate <= 10, Options.TRAIN_FT_BACKBONE_LR, "must be > 0 and at most 10");
        return rate;
    }
}
