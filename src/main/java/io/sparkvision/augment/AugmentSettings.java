package io.sparkvision.augment;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.data.PixelAugmentation;
import io.sparkvision.image.InputShape;

import java.util.Random;

/**
 * The augment.* options, as the train job hands them to {@link io.sparkvision.data.ImageDataset#load} for its
 * training split (the test split is loaded with {@link #OFF}); {@link Augmenter} applies them.
 */
public record AugmentSettings(int cropPadding, boolean randomResizedCrop, double rrcMinScale, boolean flip,
                              double brightness, double contrast, double saturation, double pcaLighting,
                              double blurProbability, double blurSigmaMax) implements PixelAugmentation {
    public static final AugmentSettings OFF = new AugmentSettings(0, false, 0.08, false, 0, 0, 0, 0, 0, 2.0);

    @Override
    public boolean enabled() {
        return cropPadding > 0 || randomResizedCrop || flip || brightness > 0 || contrast > 0 || saturation > 0
                || pcaLighting > 0 || blurProbability > 0;
    }

    public static AugmentSettings of(JobConfig cfg) {
        return new AugmentSettings(cfg.get(Options.AUGMENT_CROP_PADDING), cfg.get(Options.AUGMENT_RRC),
                cfg.get(Options.AUGMENT_RRC_MIN_SCALE), cfg.get(Options.AUGMENT_FLIP), cfg.get(Options.AUGMENT_BRIGHTNESS),
                cfg.get(Options.AUGMENT_CONTRAST), cfg.get(Options.AUGMENT_SATURATION), cfg.get(Options.AUGMENT_PCA_LIGHTING),
                cfg.get(Options.AUGMENT_BLUR_PROBABILITY), cfg.get(Options.AUGMENT_BLUR_SIGMA_MAX));
    }

    @Override
    public float[] train(byte[] pixels, int sh, int sw, InputShape out, Random rnd) {
        return Augmenter.train(pixels, out.channels(), sh, sw, out.height(), out.width(), this, rnd);
    }

    @Override
    public float[] apply(float[] pixels, InputShape shape, Random rnd) {
        return Augmenter.apply(pixels, shape.channels(), shape.height(), shape.width(), this, rnd);
    }
}
