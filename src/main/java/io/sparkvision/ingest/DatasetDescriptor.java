package io.sparkvision.ingest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.sparkvision.image.ImagePreparation;

import java.util.List;
import java.util.Map;

/**
 * {@code dataset.json}, written last by an ingest (so its presence means the dataset is complete) and read by
 * every later job: the class index (position = label id), image geometry, counts, normalisation statistics and
 * where the data came from. Schema: data-schemas/dataset-descriptor.schema.json.
 * sources and ingestReport are absent in datasets written before image ingest (read back as null); splitFractions
 * is present only when ingest.split-fractions decided splits; preparation (the {@link ImagePreparation} every image
 * went through) only in datasets written by image ingest since it was recorded; storage (how the images are
 * stored, {@link DatasetStorage}) only in Parquet-sharded datasets: without it, images are files listed in manifest.
 * height and width are the stored size; with resize = shorter-side, the shorter side (each image keeps its aspect).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DatasetDescriptor(
        @JsonProperty("formatVersion") int formatVersion,
        @JsonProperty("name") String name,
        @JsonProperty("classes") List<String> classes,
        @JsonProperty("channels") int channels,
        @JsonProperty("height") int height,
        @JsonProperty("width") int width,
        @JsonProperty("splits") Map<String, Long> splits,
        @JsonProperty("classCounts") Map<String, Map<String, Long>> classCounts,
        @JsonProperty("mean") double[] mean,
        @JsonProperty("std") double[] std,
        @JsonProperty("source") String source,
        @JsonProperty("contentHash") String contentHash,
        @JsonProperty("manifest") String manifest,
        @JsonProperty("manifestHash") String manifestHash,
        @JsonProperty("ingestedAt") String ingestedAt,
        @JsonProperty("ingestFormat") String ingestFormat,
        @JsonProperty("sources") String sources,
        @JsonProperty("ingestReport") String ingestReport,
        @JsonProperty("splitFractions") Map<String, Double> splitFractions,
        @JsonProperty("preparation") ImagePreparation preparation,
        @JsonProperty("storage") DatasetStorage storage) {

    public static final String FILE_NAME = "dataset.json";
    public static final String MANIFEST = "manifest.csv";

    /** A dataset whose splits all come from folders or manifest columns (no ingest.split-fractions). */
    public DatasetDescriptor(int formatVersion, String name, List<String> classes, int channels, int height, int width,
                             Map<String, Long> splits, Map<String, Map<String, Long>> classCounts, double[] mean, double[] std,
                             String source, String contentHash, String manifest, String manifestHash, String ingestedAt,
                             String ingestFormat, String sources, String ingestReport) {
        this(formatVersion, name, classes, channels, height, width, splits, classCounts, mean, std, source, contentHash,
                manifest, manifestHash, ingestedAt, ingestFormat, sources, ingestReport, null, null);
    }

    /** A dataset without a recorded image preparation: {@link ImagePreparation#of} takes the defaults for it. */
    public DatasetDescriptor(int formatVersion, String name, List<String> classes, int channels, int height, int width,
                             Map<String, Long> splits, Map<String, Map<String, Long>> classCounts, double[] mean, double[] std,
                             String source, String contentHash, String manifest, String manifestHash, String ingestedAt,
                             String ingestFormat, String sources, String ingestReport, Map<String, Double> splitFractions) {
        this(formatVersion, name, classes, channels, height, width, splits, classCounts, mean, std, source, contentHash,
                manifest, manifestHash, ingestedAt, ingestFormat, sources, ingestReport, splitFractions, null, null);
    }

    /** A dataset of the file layout (images listed in manifest.csv), as written before Parquet shards. */
    public DatasetDescriptor(int formatVersion, String name, List<String> classes, int channels, int height, int width,
                             Map<String, Long> splits, Map<String, Map<String, Long>> classCounts, double[] mean, double[] std,
                             String source, String contentHash, String manifest, String manifestHash, String ingestedAt,
                             String ingestFormat, String sources, String ingestReport, Map<String, Double> splitFractions,
                             ImagePreparation preparation) {
        this(formatVersion, name, classes, channels, height, width, splits, classCounts, mean, std, source, contentHash,
                manifest, manifestHash, ingestedAt, ingestFormat, sources, ingestReport, splitFractions, preparation, null);
    }

    /** True when the images are Parquet shards ({@link #storage()}), false for one file per image in the manifest. */
    public boolean sharded() {
        return storage != null;
    }

    /** This dataset with the image preparation its images went through. */
    public DatasetDescriptor withPreparation(ImagePreparation p) {
        return new DatasetDescriptor(formatVersion, name, classes, channels, height, width, splits, classCounts, mean, std,
                source, contentHash, manifest, manifestHash, ingestedAt, ingestFormat, sources, ingestReport, splitFractions, p, storage);
    }

    /** This dataset as a model trained with other statistics must see it: normalised with the model's mean and std. */
    public DatasetDescriptor withNormalisation(double[] mean, double[] std) {
        return new DatasetDescriptor(formatVersion, name, classes, channels, height, width, splits, classCounts, mean, std,
                source, contentHash, manifest, manifestHash, ingestedAt, ingestFormat, sources, ingestReport, splitFractions,
                preparation, storage);
    }

    public int classIndex(String className) {
        return classes.indexOf(className);
    }

    public long count(String split) {
        Long n = splits.get(split);
        return n == null ? 0 : n;
    }

    /**
     * The recorded preparation, or the defaults for this geometry (IDX datasets, datasets ingested before it was
     * recorded); null for a non-square dataset that records none, which has no default.
     */
    public ImagePreparation preparationOrDefaults() {
        if (preparation() != null) return preparation();
        return width() == height() ? ImagePreparation.defaults(width(), channels()) : null;
    }
}
