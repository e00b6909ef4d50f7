package io.sparkvision.evaluate;

import org.nd4j.evaluation.classification.ConfusionMatrix;
import org.nd4j.evaluation.classification.Evaluation;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The numbers of one evaluation, read off DL4J's {@link Evaluation} (plus the mean cross-entropy loss). */
public record EvalResult(long examples, double top1Accuracy, double topKAccuracy, int topK, double loss,
                         List<String> classes, long[][] confusion) {

    public static EvalResult of(Evaluation ev, double loss, List<String> classes) {
        ConfusionMatrix<Integer> cm = ev.getConfusionMatrix();
        int n = classes.size();
        long[][] m = new long[n][n];
        for (int a = 0; a < n; a++) for (int p = 0; p < n; p++) m[a][p] = cm.getCount(a, p);
        return new EvalResult(ev.getNumRowCounter() > 0 ? (long) ev.getNumRowCounter() : total(m), ev.accuracy(),
                ev.topNAccuracy(), ev.getTopN(), loss, classes, m);
    }

    private static long total(long[][] m) {
        long t = 0;
        for (long[] r : m) for (long v : r) t += v;
        return t;
    }

    public double top1Error() {
        return 1 - top1Accuracy;
    }

    public double topKError() {
        return 1 - topKAccuracy;
    }

    /** Per class: its examples and the fraction classified correctly (recall). */
    public List<Map<String, Object>> perClass() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            long row = 0;
            for (long v : confusion[c]) row += v;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", c);
            m.put("class", classes.get(c));
            m.put("examples", row);
            m.put("accuracy", row == 0 ? null : confusion[c][c] / (double) row);
            out.add(m);
        }
        return out;
    }
}
