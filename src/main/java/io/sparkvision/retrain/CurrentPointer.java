package io.sparkvision.retrain;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * The registry's {@code current} file: which candidate is in production (schema
 * data-schemas/registry-current.schema.json). {@code previous} is null for the first promoted model. {@code model} is
 * the field {@link io.sparkvision.model.ModelFiles#resolve} follows ({@code ModelFiles.POINTER_MODEL}), so jobs
 * given the registry as model.path use the production model.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CurrentPointer(int formatVersion, String candidate, String model, String night, double holdoutTop1,
                             String promotedAt, String previous) {

    public static CurrentPointer promote(String candidate, String model, String night, double holdoutTop1,
                                         String promotedAt, String previous) {
        return new CurrentPointer(1, candidate, model, night, holdoutTop1, promotedAt, previous);
    }
}
