package io.sparkvision.train;

import java.util.Map;

/** Stops training when the chosen evaluation metric has not improved for {@code patience} evaluations. */
public final class EarlyStopping {
    private final String metric;
    private final int patience;
    private Double best;
    private int sinceBest;

    public EarlyStopping(String metric, int patience) {
        this.metric = metric;
        this.patience = patience;
    }

    /** Feed one metrics line that has evaluation results; true once training should stop. */
    public boolean shouldStop(Map<String, Object> line) {
        if ("none".equals(metric)) return false;
        double v = ((Number) line.get(metric)).doubleValue();
        boolean better = best == null || (metric.endsWith("Loss") ? v < best : v > best);
        if (better) {
            best = v;
            sinceBest = 0;
        } else {
            sinceBest++;
        }
        return sinceBest >= patience;
    }
}
