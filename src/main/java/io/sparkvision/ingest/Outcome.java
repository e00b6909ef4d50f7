package io.sparkvision.ingest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.io.Serializable;

/**
 * What became of one source item: a line of {@code sources.jsonl} at the dataset root, the record that makes a
 * re-run skip what it has already seen (same URI, size and modification time).
 *
 * @param source  URI of the file, or {@code <archive URI>!/<entry>} for an archive entry
 * @param archive true for the record of an archive itself (its entries have their own records)
 * @param sha256  of the source bytes (null when they could not be read)
 * @param path    the written image relative to the dataset root; null when skipped
 * @param sums    per-channel sums of v and v^2 (v = pixel / 255) of the written image, for mean and std
 * @param reason  why it was skipped; null when ingested
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Outcome(
        @JsonProperty("source") String source,
        @JsonProperty("size") long size,
        @JsonProperty("mtime") long mtime,
        @JsonProperty("archive") boolean archive,
        @JsonProperty("sha256") String sha256,
        @JsonProperty("path") String path,
        @JsonProperty("label") String label,
        @JsonProperty("split") String split,
        @JsonProperty("pixels") long pixels,
        @JsonProperty("sums") double[] sums,
        @JsonProperty("reason") String reason) implements Serializable {

    public boolean ok() {
        return reason == null && !archive;
    }

    public static Outcome skipped(String source, long size, long mtime, String sha, String label, String split, String reason) {
        return new Outcome(source, size, mtime, false, sha, null, label, split, 0, null, reason);
    }

    public static Outcome archiveRecord(String source, long size, long mtime) {
        return new Outcome(source, size, mtime, true, null, null, null, null, 0, null, null);
    }

    public Outcome asSkipped(String why) {
        return new Outcome(source, size, mtime, archive, sha256, null, label, split, 0, null, why);
    }
}
