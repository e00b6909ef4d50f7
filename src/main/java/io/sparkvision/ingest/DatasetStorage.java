package io.sparkvision.ingest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.io.Serializable;
import java.util.List;

/**
 * How a dataset stores its images: {@code dataset.json}'s "storage" (docs/dataset-format.md). Absent in datasets
 * of the earlier layout (one PNG per image listed in manifest.csv), which every reader still accepts.
 *
 * @param layout     {@link #PARQUET}: each split as Parquet shards under {@code images/split=<split>/run=<run>/}
 * @param images     folder of the shards, relative to the dataset root
 * @param encoding   {@link #RAW} (uint8 channel-major, channels x height x width) or {@link #PNG} (lossless file bytes)
 * @param shardRows  the most rows a shard holds: floor(shardMb MiB / stored bytes per image)
 * @param shardMb    the target shard size the rows-per-shard rule was computed from
 * @param state      folder of the ingest state (one Parquet table of every source's outcome per run)
 * @param superseded folder of (source, split, run) rows whose images a later run replaced; null when none
 * @param runs       the committed ingest runs (ids in increasing order): readers take only their shards and state
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DatasetStorage(@JsonProperty("layout") String layout, @JsonProperty("images") String images,
                             @JsonProperty("encoding") String encoding, @JsonProperty("shardRows") int shardRows,
                             @JsonProperty("shardMb") int shardMb, @JsonProperty("state") String state,
                             @JsonProperty("superseded") String superseded,
                             @JsonProperty("runs") List<Long> runs) implements Serializable {
    public static final String PARQUET = "parquet";
    public static final String PNG_FILES = "png-files";
    public static final String RAW = "raw";
    public static final String PNG = "png";
    public static final String IMAGES = "images";
    public static final String STATE = "ingest-state";
    public static final String SUPERSEDED = "ingest-state-superseded";

    public DatasetStorage {
        if (!PARQUET.equals(layout)) throw new IllegalArgumentException("dataset storage layout " + layout + ", expected " + PARQUET);
        if (!RAW.equals(encoding) && !PNG.equals(encoding)) {
            throw new IllegalArgumentException("dataset storage encoding " + encoding + ", expected " + RAW + " or " + PNG);
        }
        runs = runs == null ? List.of() : List.copyOf(runs);
    }

    public DatasetStorage withSuperseded(String dir) {
        return new DatasetStorage(layout, images, encoding, shardRows, shardMb, state, dir, runs);
    }

    /**
     * The rows-per-shard rule: as many images as fit in {@code shardMb} MiB at {@code bytesPerImage} each (at least 1).
     * 128 MiB is HDFS's default block size and the middle of Parquet's advised 128 MiB-1 GiB row groups: one shard is
     * one block and one read task, a few thousand shards for ImageNet-1k, each large enough for sequential reads on S3.
     */
    public static int rowsPerShard(int shardMb, long bytesPerImage) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, ((long) shardMb << 20) / Math.max(1, bytesPerImage)));
    }
}
