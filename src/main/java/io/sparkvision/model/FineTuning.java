package io.sparkvision.model;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;
import java.util.Locale;

/**
 * What fine-tuning did to a saved model before training it (the "fineTune" part of report.json's and model.json's
 * provenance, and the train job's "fine-tune:" line).
 *
 * @param initModel            the saved model it started from
 * @param replacedHead         the classifier replaced by a new one; null when the model's own head was kept
 * @param classes              the classes the head predicts
 * @param frozen               the frozen layers (graph: layer vertices), in forward order; empty = none
 * @param frozenParameters     parameters in them (BatchNorm statistics included)
 * @param backboneLearningRate the initial learning rate of the trainable layers other than the head
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record FineTuning(String initModel, String replacedHead, int classes, List<String> frozen, long frozenParameters,
                         double backboneLearningRate) {

    /** The fine-tuning a model's provenance records (its "fineTune" part); null when it records none. */
    public static FineTuning recordedIn(java.util.Map<String, Object> provenance) {
        Object ft = provenance == null ? null : provenance.get("fineTune");
        return ft == null ? null : io.sparkvision.util.Json.MAPPER.convertValue(ft, FineTuning.class);
    }

    /** The line the train job prints (and the evaluate job, for a fine-tuned model). */
    public String describe() {
        String head = replacedHead == null ? "head kept for " + classes + " classes" : "head " + replacedHead + " replaced for " + classes + " classes";
        return String.format(Locale.ROOT, "fine-tune: %s; frozen: %s (%,d parameters); backbone learning rate %s",
                head, frozen.isEmpty() ? "none" : String.join(", ", frozen), frozenParameters, backboneLearningRate);
    }
}
