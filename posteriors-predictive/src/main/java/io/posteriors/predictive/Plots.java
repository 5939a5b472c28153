package io.posteriors.predictive;

import static io.posteriors.Checks.format;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * PNG plots of calibration and uncertainty, drawn with XChart: a reliability diagram, overlaid
 * histograms (for example the epistemic uncertainty in and out of distribution) and line curves
 * (for example accuracy against coverage).
 *
 * <p>Every image is {@value #WIDTH} by {@value #HEIGHT} pixels. Rendering is headless: unless the
 * system property {@code java.awt.headless} is already set, loading this class sets it to {@code
 * true}, so plots work on servers without a display. Each method creates the parent folders,
 * renders the whole image in memory, writes it to a temporary file in the target folder and moves
 * that over {@code png} (atomically where the file system allows), so a reader never sees half an
 * image. The file name is used as given; no extension is added.
 */
public final class Plots {

    /** Width of every image, in pixels. */
    public static final int WIDTH = 800;

    /** Height of every image, in pixels. */
    public static final int HEIGHT = 600;

    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private Plots() {}

    /**
     * Draws a reliability diagram: for each non-empty bin a bar from its lower to its upper bound
     * whose height is the bin's accuracy, a marker at (mean confidence, accuracy) for each bin, and
     * the diagonal of perfect calibration. The legend gives the ECE and MCE.
     *
     * @param calibration the bins and errors, from {@link ClassificationMetrics#calibration}
     * @param png the file to write
     * @param title the chart title
     * @return {@code png}
     * @throws NullPointerException when an argument is null
     * @throws IOException when the file cannot be written
     */
    public static Path reliabilityDiagram(Calibration calibration, Path png, String title)
            throws IOException {
        Objects.requireNonNull(calibration, "calibration");
        Objects.requireNonNull(png, "png");
        Objects.requireNonNull(title, "title");
        XYChart chart = chart(title, "confidence", "accuracy");
        List<Double> barX = new ArrayList<>();
        List<Double> barY = new ArrayList<>();
        List<Double> meanX = new ArrayList<>();
        List<Double> meanY = new ArrayList<>();
        for (Calibration.Bin bin : calibration.bins()) {
            if (bin.isEmpty()) {
                continue;
            }
            barX.addAll(List.of(bin.lower(), bin.lower(), bin.upper(), bin.upper()));
            barY.addAll(List.of(0.0, bin.accuracy(), bin.accuracy(), 0.0));
            meanX.add(bin.meanConfidence());
            meanY.add(bin.accuracy());
        }
        XYSeries bars =
                chart.addSeries(
                        format(
                                "accuracy per bin (%s, ECE %.4f, MCE %.4f)",
                                calibration.binning().name().toLowerCase(Locale.ROOT),
                                calibration.ece(),
                                calibration.mce()),
                        barX,
                        barY);
        bars.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Area);
        bars.setMarker(SeriesMarkers.NONE);
        XYSeries means = chart.addSeries("mean confidence of bin", meanX, meanY);
        means.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        XYSeries diagonal =
                chart.addSeries("perfect calibration", new double[] {0, 1}, new double[] {0, 1});
        diagonal.setMarker(SeriesMarkers.NONE);
        diagonal.setLineColor(Color.DARK_GRAY);
        diagonal.setLineStyle(
                new BasicStroke(
                        1.5f,
                        BasicStroke.CAP_BUTT,
                        BasicStroke.JOIN_MITER,
                        10,
                        new float[] {6, 6},
                        0));
        chart.getStyler().setXAxisMin(0.0).setXAxisMax(1.0);
        chart.getStyler().setYAxisMin(0.0).setYAxisMax(1.0);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        return write(chart, png);
    }

    /**
     * Draws overlaid histograms of several series on common bins: {@code bins} equal-width bins
     * spanning the smallest to the largest value over all series (the last bin closed), each series
     * drawn as the outline of the fraction of its own values per bin, so series of different sizes
     * compare directly.
     *
     * @param series the values to histogram, by legend name, in legend order; each non-empty and
     *     finite
     * @param bins the number of bins, at least 1
     * @param png the file to write
     * @param title the chart title
     * @param xLabel the label of the value axis
     * @return {@code png}
     * @throws NullPointerException when an argument, a name or a series is null
     * @throws IllegalArgumentException when {@code series} is empty, a series is empty or not
     *     finite, or {@code bins < 1}
     * @throws IOException when the file cannot be written
     */
    public static Path histograms(
            Map<String, double[]> series, int bins, Path png, String title, String xLabel)
            throws IOException {
        Objects.requireNonNull(series, "series");
        Objects.requireNonNull(png, "png");
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(xLabel, "xLabel");
        if (series.isEmpty()) {
            throw new IllegalArgumentException("series must not be empty, got 0 series");
        }
        if (bins < 1) {
            throw new IllegalArgumentException(format("bins must be at least 1, got %d", bins));
        }
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            Objects.requireNonNull(e.getKey(), "series name");
            double[] values = ArrayChecks.finite(e.getValue(), "series[" + e.getKey() + "]");
            for (double v : values) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        if (min == max) {
            // One value everywhere: give the single bar a unit width around it.
            min -= 0.5;
            max += 0.5;
        }
        double width = (max - min) / bins;
        XYChart chart = chart(title, xLabel, "fraction of values");
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            double[] values = e.getValue();
            double[] fraction = new double[bins];
            for (double v : values) {
                int b = (int) Math.floor((v - min) / width);
                fraction[Math.min(bins - 1, Math.max(0, b))] += 1.0 / values.length;
            }
            double[] x = new double[2 * bins + 2];
            double[] y = new double[2 * bins + 2];
            x[0] = min;
            for (int b = 0; b < bins; b++) {
                double left = min + b * width;
                double right = b == bins - 1 ? max : min + (b + 1) * width;
                x[2 * b + 1] = left;
                y[2 * b + 1] = fraction[b];
                x[2 * b + 2] = right;
                y[2 * b + 2] = fraction[b];
            }
            x[2 * bins + 1] = max;
            XYSeries s = chart.addSeries(e.getKey(), x, y);
            s.setMarker(SeriesMarkers.NONE);
            s.setLineStyle(new BasicStroke(2f));
        }
        niceXAxis(chart, min, max);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        return write(chart, png);
    }

    /**
     * Draws line curves, for example accuracy against coverage for several confidence scores.
     *
     * @param xy the curves by legend name, in legend order; each value is {@code {x, y}}, two
     *     arrays of the same non-zero length with finite entries
     * @param png the file to write
     * @param title the chart title
     * @param xLabel the label of the x axis
     * @param yLabel the label of the y axis
     * @return {@code png}
     * @throws NullPointerException when an argument, a name or a curve is null
     * @throws IllegalArgumentException when {@code xy} is empty, a curve does not have exactly two
     *     arrays, or its arrays are empty, not finite or differ in length
     * @throws IOException when the file cannot be written
     */
    public static Path curves(
            Map<String, double[][]> xy, Path png, String title, String xLabel, String yLabel)
            throws IOException {
        Objects.requireNonNull(xy, "xy");
        Objects.requireNonNull(png, "png");
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(xLabel, "xLabel");
        Objects.requireNonNull(yLabel, "yLabel");
        if (xy.isEmpty()) {
            throw new IllegalArgumentException("xy must not be empty, got 0 curves");
        }
        XYChart chart = chart(title, xLabel, yLabel);
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (Map.Entry<String, double[][]> e : xy.entrySet()) {
            String name = Objects.requireNonNull(e.getKey(), "curve name");
            double[][] curve = Objects.requireNonNull(e.getValue(), "xy[" + name + "]");
            if (curve.length != 2) {
                throw new IllegalArgumentException(
                        format(
                                "xy[%s] must hold two arrays {x, y}, got %d arrays",
                                name, curve.length));
            }
            double[] x = ArrayChecks.finite(curve[0], "xy[" + name + "][0]");
            double[] y = ArrayChecks.finite(curve[1], "xy[" + name + "][1]");
            ArrayChecks.sameLength(
                    y.length, x.length, "xy[" + name + "][1]", "xy[" + name + "][0]");
            for (double v : x) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            XYSeries s = chart.addSeries(name, x, y);
            s.setMarker(x.length > 50 ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
        }
        niceXAxis(chart, min, max);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        return write(chart, png);
    }

    private static XYChart chart(String title, String xLabel, String yLabel) {
        XYChart chart =
                new XYChartBuilder()
                        .width(WIDTH)
                        .height(HEIGHT)
                        .title(title)
                        .xAxisTitle(xLabel)
                        .yAxisTitle(yLabel)
                        .build();
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setMarkerSize(6);
        chart.getStyler().setYAxisDecimalPattern("0.###");
        return chart;
    }

    /**
     * Widens the x axis to round numbers around [min, max]: XChart starts its ticks at the axis
     * minimum, which is otherwise the smallest data value.
     */
    private static void niceXAxis(XYChart chart, double min, double max) {
        if (min == max) {
            return;
        }
        double step = Math.pow(10, Math.floor(Math.log10(max - min)) - 1);
        chart.getStyler().setXAxisMin(Math.floor(min / step) * step);
        chart.getStyler().setXAxisMax(Math.ceil(max / step) * step);
        chart.getStyler().setXAxisDecimalPattern("0.###");
    }

    private static Path write(XYChart chart, Path png) throws IOException {
        byte[] bytes = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        Path target = png.toAbsolutePath();
        Path parent = target.getParent();
        Files.createDirectories(parent);
        // Not Files.createTempFile: its owner-only permissions would carry over to the image.
        Path temp = parent.resolve(format(".%s.%s.tmp", target.getFileName(), UUID.randomUUID()));
        try {
            Files.write(temp, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            try {
                Files.move(
                        temp,
                        target,
                        StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
        return png;
    }
}
