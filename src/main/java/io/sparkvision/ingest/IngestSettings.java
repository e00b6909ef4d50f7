package io.sparkvision.ingest;

import io.sparkvision.config.ConfigError;
import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.image.ImagePreparation;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The ingest.* options an executor needs, resolved once on the driver and shipped with each task.
 *
 * @param size        output images are size x size
 * @param resize      {@code shorter-side-crop} or {@code keep-aspect} (letterboxed onto the background)
 * @param channels    1 or 3: colour is converted to luminance, grey replicated
 * @param background  0xRRGGBB that alpha is flattened onto (and keep-aspect pads with)
 * @param maxPixels   images whose header claims more pixels are skipped without being decoded
 * @param maxBytes    files (or archive entries) larger than this are skipped without being read
 * @param splits      folder names that mark a split; the folder below one is the class
 * @param defaultSplit split of images in a class folder with no split folder above it
 * @param splitFractions when not empty, replaces defaultSplit: a share of those images per split (see {@link SplitFractions})
 */
public record IngestSettings(int size, String resize, int channels, int background, long maxPixels, long maxBytes,
                             List<String> splits, String defaultSplit, SplitFractions splitFractions) implements Serializable {
    public static final String SHORTER_SIDE_CROP = ImagePreparation.SHORTER_SIDE_CROP;
    public static final String KEEP_ASPECT = ImagePreparation.KEEP_ASPECT;

    /** Without split fractions: images outside split folders go to {@code defaultSplit}. */
    public IngestSettings(int size, String resize, int channels, int background, long maxPixels, long maxBytes,
                          List<String> splits, String defaultSplit) {
        this(size, resize, channels, background, maxPixels, maxBytes, splits, defaultSplit, SplitFractions.NONE);
    }

    /** The image-preparation parameters among these settings: recorded in dataset.json, applied to every image. */
    public ImagePreparation preparation() {
        return new ImagePreparation(size, resize, channels, background);
    }

    /** The split of an image with no split folder (or manifest split): by fraction when set, else the default. */
    public String splitOf(String relativePath) {
        return splitFractions.isEmpty() ? defaultSplit : splitFractions.splitOf(relativePath);
    }

    public static IngestSettings of(JobConfig cfg) {
        List<String> splits = new ArrayList<>();
        for (String s : cfg.get(Options.INGEST_SPLITS).split(",")) {
            if (!s.isBlank()) splits.add(s.trim());
        }
        cfg.check(!splits.isEmpty(), Options.INGEST_SPLITS, "name at least one split folder, e.g. train,val,test");
        return new IngestSettings(cfg.get(Options.INGEST_IMAGE_SIZE), cfg.get(Options.INGEST_RESIZE),
                cfg.get(Options.INGEST_CHANNELS), parseColour(cfg.get(Options.INGEST_BACKGROUND)),
                cfg.get(Options.INGEST_MAX_PIXELS), cfg.get(Options.INGEST_MAX_FILE_MB) * 1024L * 1024L,
                List.copyOf(splits), cfg.get(Options.INGEST_DEFAULT_SPLIT), SplitFractions.of(cfg, splits));
    }

    /** Defaults for tests and the benchmark. */
    public static IngestSettings defaults(int size, int channels) {
        return new IngestSettings(size, SHORTER_SIDE_CROP, channels, 0xffffff, 100_000_000L, 256L << 20,
                List.of("train", "val", "test"), "train");
    }

    public IngestSettings withResize(String mode) {
        return new IngestSettings(size, mode, channels, background, maxPixels, maxBytes, splits, defaultSplit, splitFractions);
    }

    public IngestSettings withMaxPixels(long max) {
        return new IngestSettings(size, resize, channels, background, max, maxBytes, splits, defaultSplit, splitFractions);
    }

    public IngestSettings withSplitFractions(SplitFractions f) {
        return new IngestSettings(size, resize, channels, background, maxPixels, maxBytes, splits, defaultSplit, f);
    }

    static int parseColour(String s) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        switch (v) {
            case "white": return 0xffffff;
            case "black": return 0x000000;
            case "grey":
            case "gray": return 0x808080;
            default:
        }
        if (v.matches("#[0-9a-f]{6}")) return Integer.parseInt(v.substring(1), 16);
        throw new ConfigError(Options.INGEST_BACKGROUND.key() + " = " + s + ": expected white, black, grey or #rrggbb");
    }
}
