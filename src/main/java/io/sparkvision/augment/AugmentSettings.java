package io.sparkvision.augment;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Option;
import io.sparkvision.config.Options;
import org.apache.spark.SparkConf;

import java.io.Serializable;
import java.util.List;

/**
 * The augment.* options. They reach {@link io.sparkvision.data.ImageDataset} through the Spark configuration
 * ({@code spark.sparkvision.augment.*}, set by {@link io.sparkvision.util.SparkContexts#create}) because the
 * train job's call to ImageDataset.load carries no job configuration.
 */
public record AugmentSettings(int cropPadding, boolean randomResizedCrop, double rrcMinScale, boolean flip,
                              double brightness, double contrast, double saturation, double pcaLighting,
                              double blurProbability, double blurSigmaMax) implements Serializable {
    public static final String CONF_PREFIX = "spark.sparkvision.";
    public static final AugmentSettings OFF = new AugmentSettings(0, false, 0.08, false, 0, 0, 0, 0, 0, 2.0);

    static final List<Option<?>> KEYS = List.of(Options.AUGMENT_CROP_PADDING, Options.AUGMENT_RRC,
            Options.AUGMENT_RRC_MIN_SCALE, Options.AUGMENT_FLIP, Options.AUGMENT_BRIGHTNESS, Options.AUGMENT_CONTRAST,
            Options.AUGMENT_SATURATION, Options.AUGMENT_PCA_LIGHTING, Options.AUGMENT_BLUR_PROBABILITY,
            Options.AUGMENT_BLUR_SIGMA_MAX);

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

    /** Copies the job's augment.* values into the Spark configuration. */
    public static void toSparkConf(JobConfig cfg, SparkConf conf) {
        for (Option<?> o : KEYS) conf.set(CONF_PREFIX + o.key(), String.valueOf(cfg.get(o)));
    }

    public static AugmentSettings of(SparkConf c) {
        String p = CONF_PREFIX + "augment.";
        return new AugmentSettings(c.getInt(p + "random-crop-padding", 0), c.getBoolean(p + "random-resized-crop", false),
                c.getDouble(p + "random-resized-crop-min-scale", 0.08), c.getBoolean(p + "horizontal-flip", false),
                c.getDouble(p + "brightness", 0), c.getDouble(p + "contrast", 0), c.getDouble(p + "saturation", 0),
                c.getDouble(p + "pca-lighting", 0), c.getDouble(p + "blur-probability", 0), c.getDouble(p + "blur-sigma-max", 2.0));
    }
}
