package io.sparkvision.ingest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;

/**
 * {@code ingest-report.json} at the dataset root: what one ingest run read and what it did with each item.
 * {@code read = ingested + skipped}; every skipped item is listed with its reason. Items already ingested by an
 * earlier run (same URI, size, modification time) are counted in {@code unchanged} and not read again.
 * In a Parquet-sharded dataset the executors write every skipped item as a JSON line under {@code skippedItemsDir};
 * {@code skippedItems} then holds the first {@link #LISTED} of them by path, so the report stays small.
 * Schema: data-schemas/ingest-report.schema.json.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record IngestReport(
        @JsonProperty("formatVersion") int formatVersion,
        @JsonProperty("format") String format,
        @JsonProperty("source") String source,
        @JsonProperty("dataRoot") String dataRoot,
        @JsonProperty("startedAt") String startedAt,
        @JsonProperty("finishedAt") String finishedAt,
        @JsonProperty("seconds") double seconds,
        @JsonProperty("listed") long listed,
        @JsonProperty("unchanged") long unchanged,
        @JsonProperty("read") long read,
        @JsonProperty("ingested") long ingested,
        @JsonProperty("skipped") long skipped,
        @JsonProperty("skippedItems") List<Skip> skippedItems,
        @JsonProperty("warnings") List<String> warnings,
        @JsonProperty("skippedItemsDir") String skippedItemsDir) {

    public static final String FILE_NAME = "ingest-report.json";
    /** Folder of the JSON-lines files of every skipped item of the last run (sharded datasets). */
    public static final String SKIPPED_DIR = "ingest-report-skipped";
    /** Skipped items listed in the report itself when the full list is in {@link #SKIPPED_DIR}. */
    public static final int LISTED = 1000;

    public record Skip(@JsonProperty("path") String path, @JsonProperty("reason") String reason) {
    }
}
