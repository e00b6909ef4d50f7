package io.sparkvision.train;

import io.sparkvision.config.Choices.EarlyStopMetric;

/** Stops training when the chosen evaluation metric has not improved for {@code patience} evaluations. */
public final class EarlyStopping {
    private final EarlyStopMetric metric;
    private final int patience;
    private Double best;
    private int sinceBest;

    public EarlyStopping(EarlyStopMetric metric, int patience) {
        this.metric = metric;
        this.patience = patience;
    }

    /** Feed one metrics line; lines without an evaluation are ignored. True once training should stop. */
    public boolean shouldStop(MetricsLine line) {
        if (metric.metric() == null || !line.evaluated()) return false;
        double v = line.value(metric.metric());
        if (metric.metric().better(v, best)) {
            best = v;
            sinceBest = 0;
        } else {
            sinceBest++;
        }
        return sinceBest >= patience;
    }

    /** The metric and patience, for the console line that says why training stopped. */
    public String describe() {
        return metric.label() + " has not improved for " + patience + " evaluations";
    }
}
