package io.sparkvision.report;

import io.sparkvision.evaluate.EvalResult;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.train.MetricsLine;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The files a run leaves for people and for machines: {@code report.json} (a {@link Report}, schema
 * data-schemas/report.schema.json), {@code report.html} with the training curve and confusion matrix as PNGs,
 * and those PNGs next to it.
 */
public final class RunReport {
    public static final String JSON = "report.json";
    public static final String HTML = "report.html";
    public static final String CURVE_PNG = "training-curve.png";
    public static final String CONFUSION_PNG = "confusion-matrix.png";
    public static final String CONFUSION_CSV = "confusion.csv";

    private RunReport() {
    }

    /** report.json, report.html and their pictures; {@code metrics} null or empty for a run without epochs. */
    public static void write(String runDir, Report report, List<MetricsLine> metrics,
                             EvalResult r, String title, Configuration conf) throws IOException {
        Path dir = HadoopFs.path(runDir);
        HadoopFs.writeStringAtomically(new Path(dir, JSON), Json.pretty(report), conf);
        boolean curve = metrics != null && !metrics.isEmpty();
        if (curve) {
            byte[] png = TrainingCurveChart.png(metrics, 900, 620);
            HadoopFs.writeAtomically(new Path(dir, CURVE_PNG), conf, o -> o.write(png));
        }
        byte[] cm = ConfusionMatrixImage.png(r.confusion(), r.classes());
        HadoopFs.writeAtomically(new Path(dir, CONFUSION_PNG), conf, o -> o.write(cm));
        HadoopFs.writeStringAtomically(new Path(dir, CONFUSION_CSV), confusionCsv(r), conf);
        HadoopFs.writeStringAtomically(new Path(dir, HTML), html(report, metrics, r, title, curve), conf);
    }

    static String html(Report report, List<MetricsLine> metrics, EvalResult r, String title, boolean curve) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>").append(esc(title)).append("</title>\n")
                .append("<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse}"
                        + "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}"
                        + ".big{font-size:1.6em}.l{text-align:left}</style></head><body>\n");
        h.append("<h1>").append(esc(title)).append("</h1>\n");
        h.append(String.format(Locale.ROOT, "<p class=\"big\">top-1 accuracy <b>%.2f%%</b> &middot; top-%d accuracy <b>%.2f%%</b>"
                        + " &middot; %,d test images</p>\n", 100 * r.top1Accuracy(), r.topK(), 100 * r.topKAccuracy(), r.examples()));
        h.append("<p>model <code>").append(esc(String.valueOf(report.model().name()))).append("</code>, ")
                .append(String.format(Locale.ROOT, "%,d", report.model().parameters())).append(" parameters; dataset <code>")
                .append(esc(String.valueOf(report.dataset().root()))).append("</code></p>\n");
        if (curve) {
            h.append("<h2>Training curve</h2>\n<img src=\"").append(CURVE_PNG).append("\" alt=\"training curve\">\n");
            h.append("<table><tr><th>epoch</th><th>learning rate</th><th>train loss</th><th>test loss</th><th>top-1 error</th>"
                    + "<th>top-5 error</th><th>examples/s</th></tr>\n");
            for (MetricsLine m : metrics) {
                h.append("<tr><td>").append(m.epoch()).append("</td><td>").append(num(m.learningRate(), "%.2e"))
                        .append("</td><td>").append(num(m.trainLoss(), "%.4f")).append("</td><td>")
                        .append(num(m.testLoss(), "%.4f")).append("</td><td>").append(pct(m.top1Error()))
                        .append("</td><td>").append(pct(m.top5Error())).append("</td><td>")
                        .append(num(m.examplesPerSecond(), "%,.0f")).append("</td></tr>\n");
            }
            h.append("</table>\n");
        }
        h.append("<h2>Confusion matrix</h2>\n<img src=\"").append(CONFUSION_PNG).append("\" alt=\"confusion matrix\">\n");
        h.append("<h2>Most confused</h2>\n<table><tr><th class=\"l\">true class</th><th class=\"l\">predicted as</th><th>count</th></tr>\n");
        for (Report.Confusion m : report.mostConfused()) {
            h.append("<tr><td class=\"l\">").append(esc(m.trueClass())).append("</td><td class=\"l\">")
                    .append(esc(m.predictedClass())).append("</td><td>").append(m.count()).append("</td></tr>\n");
        }
        h.append("</table>\n<h2>Per class</h2>\n<table><tr><th class=\"l\">class</th><th>examples</th><th>accuracy</th></tr>\n");
        for (Map<String, Object> m : r.perClass()) {
            h.append("<tr><td class=\"l\">").append(esc(String.valueOf(m.get("class")))).append("</td><td>")
                    .append(m.get("examples")).append("</td><td>").append(pct(m.get("accuracy"))).append("</td></tr>\n");
        }
        h.append("</table>\n<h2>Provenance</h2>\n<pre>").append(esc(Json.pretty(report.provenance()))).append("</pre>\n");
        h.append("</body></html>\n");
        return h.toString();
    }

    /** Long form, one row per non-zero cell: true_class,predicted_class,count (readable at 1,000 classes too). */
    static String confusionCsv(EvalResult r) {
        StringBuilder sb = new StringBuilder("true_class,predicted_class,count\n");
        long[][] c = r.confusion();
        for (int a = 0; a < c.length; a++) {
            for (int p = 0; p < c.length; p++) {
                if (c[a][p] > 0) sb.append(csv(r.classes().get(a))).append(',').append(csv(r.classes().get(p))).append(',').append(c[a][p]).append('\n');
            }
        }
        return sb.toString();
    }

    private static String csv(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    private static String num(Object o, String fmt) {
        return o instanceof Number ? String.format(Locale.ROOT, fmt, ((Number) o).doubleValue()) : "";
    }

    private static String pct(Object o) {
        return o instanceof Number ? String.format(Locale.ROOT, "%.2f%%", 100 * ((Number) o).doubleValue()) : "";
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
