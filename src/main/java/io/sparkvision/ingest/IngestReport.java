package io.sparkvision.ingest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;

/**
 * {@code ingest-report.json} at the dataset root: what one ingest run read and what it did with each item.
 * {@code read = ingested + skipped}; every skipped item is listed with its reason. Items already ingested by an
 * earlier run (same URI, size, modification time) are counted in {@code unchanged} and not read again.
 * Schema: data-schemas/ingest-report.schema.json.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
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
        @JsonProperty("warnings") List<String> warnings) {

    public static final String FILE_NAME = "ingest-report.json";

    public record Skip(@JsonProperty("path") String path, @JsonProperty("reason") String reason) {
    }
}
