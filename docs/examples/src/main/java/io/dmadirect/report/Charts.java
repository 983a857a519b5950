package io.dmadirect.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BitmapEncoder.BitmapFormat;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler.LegendPosition;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The report's plots, drawn with XChart and written as PNG. */
final class Charts {
    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b)};

    /** One line of a plot: x values, medians, and the error of each median. */
    record Line(String name, double[] x, double[] y, double[] error) {
    }

    private Charts() {
    }

    static void save(Path file, String title, String xTitle, String yTitle, boolean logX, boolean logY,
            List<Line> lines) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(520).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(LegendPosition.InsideNW);
        chart.getStyler().setXAxisLogarithmic(logX);
        chart.getStyler().setYAxisLogarithmic(logY);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotGridLinesVisible(true);
        chart.getStyler().setErrorBarsColorSeriesColor(true);
        chart.getStyler().setMarkerSize(7);
        chart.getStyler().setAntiAlias(true);
        chart.getStyler().setXAxisDecimalPattern("#,###");
        if (!logY) {
            chart.getStyler().setYAxisMin(0.0);     // error bars of a noisy run must not suggest negative rates
        }
        int i = 0;
        for (Line line : lines) {
            if (line.x().length == 0) {
                continue;       // not in this run
            }
            double[] error = line.error().clone();
            for (int k = 0; k < error.length; k++) {
                // On a log axis a bar may not reach zero or below.
                error[k] = logY ? Math.min(error[k], 0.9 * line.y()[k]) : error[k];
            }
            XYSeries series = chart.addSeries(line.name(), line.x(), line.y(), error);
            series.setMarker(SeriesMarkers.CIRCLE);
            series.setLineColor(COLORS[i % COLORS.length]);
            series.setMarkerColor(COLORS[i % COLORS.length]);
            series.setLineStyle(new BasicStroke(2f));
            i++;
        }
        String name = file.toString();
        BitmapEncoder.saveBitmap(chart, name.endsWith(".png") ? name.substring(0, name.length() - 4) : name,
                BitmapFormat.PNG);
    }
}
