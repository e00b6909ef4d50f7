package io.sparkvision.retrain;

import com.fasterxml.jackson.annotation.JsonValue;

/**
 * What a night of the nightly retrain came to. Only {@link #PROMOTED} and {@link #REJECTED} are decisions (they go
 * into the history and the candidate's record); the others are runs that decided nothing. The label is the JSON and
 * log spelling (Jackson reads and writes it through {@link JsonValue}).
 */
public enum NightOutcome {
    /** The candidate became the current model. */
    PROMOTED("promoted"),
    /** The candidate was worse than the current model (beyond the tolerance) or under retrain.min-top1. */
    REJECTED("rejected"),
    /** The night was decided by an earlier run; nothing was done (--force retrains it). */
    ALREADY_DECIDED("already-decided"),
    /** Every image of the window was in the window the last candidate trained on. */
    NO_NEW_DATA("no-new-data"),
    /** The window holds no images at all. */
    NO_DATA("no-data");

    private final String label;

    NightOutcome(String label) {
        this.label = label;
    }

    @JsonValue
    public String label() {
        return label;
    }

    @Override
    public String toString() {
        return label;
    }
}
