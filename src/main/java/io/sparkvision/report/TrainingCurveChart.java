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
import io.sparkvision.train.MetricsLine;

/** Loss and accuracy per epoch, drawn with JFreeChart from the lines of metrics.jsonl. */
public final class TrainingCurveChart {
    private TrainingCurveChart() {
    }

    public static byte[] png(List<MetricsLine> metrics, int width, int height) throws IOException {
        XYSeries trainLoss = new XYSeries("train loss");
        XYSeries testLoss = new XYSeries("test loss");
        XYSeries top1 = new XYSeries("test top-1 error %");
        XYSeries topK = new XYSeries("test top-5 error %");
        for (MetricsLine m : metrics) {
            add(trainLoss, m.epoch(), m.trainLoss(), 1);
            add(testLoss, m.epoch(), m.testLoss(), 1);
            add(top1, m.epoch(), m.top1Error(), 100);
            add(topK, m.epoch(), m.top5Error(), 100);
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

    private static void add(XYSeries s, double x, Double y, double scale) {
        if (y != null) s.add(x, y * scale);
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
