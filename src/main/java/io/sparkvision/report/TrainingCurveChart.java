package io.sparkvision.report;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/** Loss and accuracy per epoch, drawn with JFreeChart from the lines of metrics.jsonl. */
public final class TrainingCurveChart {
    private TrainingCurveChart() {
    }

    public static byte[] png(List<Map<String, Object>> metrics, int width, int height) throws IOException {
        XYSeries trainLoss = new XYSeries("train loss");
        XYSeries testLoss = new XYSeries("test loss");
        XYSeries top1 = new XYSeries("test top-1 error %");
        XYSeries topK = new XYSeries("test top-5 error %");
        for (Map<String, Object> m : metrics) {
            double epoch = ((Number) m.get("epoch")).doubleValue();
            add(trainLoss, epoch, m.get("trainLoss"), 1);
            add(testLoss, epoch, m.get("testLoss"), 1);
            add(top1, epoch, m.get("top1Error"), 100);
            add(topK, epoch, m.get("top5Error"), 100);
        }
        XYPlot loss = plot(new NumberAxis("loss (cross-entropy)"), trainLoss, testLoss);
        XYPlot err = plot(new NumberAxis("error %"), top1, topK);
        NumberAxis epochAxis = new NumberAxis("epoch");
        epochAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        CombinedDomainXYPlot combined = new CombinedDomainXYPlot(epochAxis);
        combined.add(loss, 1);
        combined.add(err, 1);
        JFreeChart chart = new JFreeChart("Training curve", JFreeChart.DEFAULT_TITLE_FONT, combined, true);
        chart.setBackgroundPaint(java.awt.Color.WHITE);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(out, chart, width, height);
        return out.toByteArray();
    }

    private static void add(XYSeries s, double x, Object y, double scale) {
        if (y instanceof Number) s.add(x, ((Number) y).doubleValue() * scale);
    }

    private static XYPlot plot(NumberAxis axis, XYSeries... series) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (XYSeries s : series) data.addSeries(s);
        axis.setAutoRangeIncludesZero(false);
        XYPlot p = new XYPlot(data, null, axis, new XYLineAndShapeRenderer(true, true));
        p.setBackgroundPaint(java.awt.Color.WHITE);
        p.setRangeGridlinePaint(java.awt.Color.LIGHT_GRAY);
        p.setDomainGridlinePaint(java.awt.Color.LIGHT_GRAY);
        return p;
    }
}
