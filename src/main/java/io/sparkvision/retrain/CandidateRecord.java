package io.sparkvision.retrain;

import java.util.Map;

/**
 * A candidate's own record, {@code candidates/<id>/candidate.json} (schema data-schemas/retrain-candidate.schema.json):
 * what it trained on, what it started from, how it and the current model did on the holdout, and the decision.
 *
 * @param provenance the retrain run's provenance (the jobs layer's record)
 */
public record CandidateRecord(int formatVersion, String candidate, String night, String model, Map<String, Object> window,
                              Holdout holdout, WarmStart warmStart, Ingest ingest, Evaluations evaluation,
                              Decision decision, Object provenance) {

    public CandidateRecord(String candidate, String night, String model, TrainingWindow.Summary window, Holdout holdout,
                           WarmStart warmStart, Ingest ingest, Evaluations evaluation, Decision decision, Object provenance) {
        this(1, candidate, night, model, window.json(), holdout, warmStart, ingest, evaluation, decision, provenance);
    }

    /** The fixed holdout both models were evaluated on. */
    public record Holdout(String root, String split, long images, String contentHash) {
    }

    /** The model the candidate continued from; both null when it trained from scratch. */
    public record WarmStart(String candidate, String model) {
    }

    /** What tonight's ingest added to the nightly dataset. */
    public record Ingest(long newImages, long skipped, String dataset) {
    }

    /** One model's holdout evaluation, as its evaluate report has it. */
    public record Evaluation(double top1Accuracy, double top5Accuracy, double loss, long examples, String model) {
    }

    /** The candidate's and the current model's evaluations; {@code current} is null with no current model. */
    public record Evaluations(Evaluation candidate, Evaluation current) {
    }

    /** The promotion decision with the rule's settings. */
    public record Decision(NightOutcome outcome, String reason, double tolerance, double minTop1, String decidedAt) {
    }
}
