package io.sparkvision.retrain;

import java.util.Locale;

/**
 * The promotion rule. Both models are evaluated on the same holdout in the same run, so the comparison does not
 * depend on numbers recorded on other nights (or on how the holdout changed since).
 */
public final class Promotion {
    /** The decision and a sentence an operator can read in the history. */
    public record Decision(NightOutcome outcome, String reason) {
        public boolean promoted() {
            return outcome == NightOutcome.PROMOTED;
        }
    }

    private Promotion() {
    }

    /**
     * @param currentTop1 the production model's top-1 on the holdout now, or null if there is none
     * @param tolerance   how far below the current model a candidate may be and still be promoted
     * @param minTop1     a floor no promoted model may be under
     */
    public static Decision decide(double candidateTop1, Double currentTop1, double tolerance, double minTop1) {
        if (candidateTop1 < minTop1) {
            return new Decision(NightOutcome.REJECTED, String.format(Locale.ROOT, "holdout top-1 %.4f is below retrain.min-top1 %.4f",
                    candidateTop1, minTop1));
        }
        if (currentTop1 == null) {
            return new Decision(NightOutcome.PROMOTED, String.format(Locale.ROOT, "first model: holdout top-1 %.4f", candidateTop1));
        }
        double delta = candidateTop1 - currentTop1;
        // A hair of slack for float noise in the subtraction: exactly "tolerance worse" is still acceptable.
        if (delta >= -tolerance - 1e-12) {
            return new Decision(NightOutcome.PROMOTED, String.format(Locale.ROOT, "holdout top-1 %.4f vs current %.4f (%+.4f, tolerance %.4f)",
                    candidateTop1, currentTop1, delta, tolerance));
        }
        return new Decision(NightOutcome.REJECTED, String.format(Locale.ROOT, "holdout top-1 %.4f is %.4f below current %.4f (tolerance %.4f)",
                candidateTop1, -delta, currentTop1, tolerance));
    }
}
