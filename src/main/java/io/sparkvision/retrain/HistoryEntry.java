package io.sparkvision.retrain;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * One decided night: a line of the registry's {@code history.jsonl} (schema data-schemas/registry-history.schema.json).
 * {@code currentTop1} and {@code currentCandidate} are null (and written as null) on a night with no current model.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record HistoryEntry(String night, String candidate, NightOutcome outcome, String reason, double candidateTop1,
                           Double currentTop1, String currentCandidate, double tolerance, String model, long windowImages,
                           long newImages, String windowContentHash, String decidedAt) {
}
