package io.posteriors.predictive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotsTest {

    @TempDir Path dir;

    @Test
    void reliabilityDiagram_bothBinnings_writesDecodablePngOfExpectedSize() throws IOException {
        Random rng = new Random(3);
        double[][] probs = ClassificationMetricsTest.randomProbs(rng, 200, 3);
        int[] labels = new int[200];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = rng.nextInt(3);
        }
        for (Binning binning : Binning.values()) {
            Calibration c = ClassificationMetrics.calibration(probs, labels, 10, binning);
            Path png = dir.resolve("nested/folder/reliability-" + binning + ".png");
            assertEquals(png, Plots.reliabilityDiagram(c, png, "reliability " + binning));
            assertImage(png);
        }
    }

    @Test
    void histograms_twoSeries_writesDecodablePngOfExpectedSize() throws IOException {
        Random rng = new Random(4);
        Map<String, double[]> series = new LinkedHashMap<>();
        series.put("in distribution", rng.doubles(300).toArray());
        series.put("out of distribution", rng.doubles(100).map(v -> 0.5 + v).toArray());
        Path png = dir.resolve("histograms.png");
        assertEquals(png, Plots.histograms(series, 20, png, "epistemic", "mutual information"));
        assertImage(png);
        // A constant series still draws, and overwriting the same file works.
        Plots.histograms(Map.of("constant", new double[] {1, 1, 1}), 5, png, "c", "x");
        assertImage(png);
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
    }

    @Test
    void curves_accuracyCoverage_writesDecodablePngOfExpectedSize() throws IOException {
        RiskCoverage rc =
                SelectivePrediction.curve(
                        new double[] {0.9, 0.8, 0.7, 0.6}, new boolean[] {true, true, false, true});
        Map<String, double[][]> xy = new LinkedHashMap<>();
        xy.put("max probability", new double[][] {rc.coverage(), rc.accuracy()});
        xy.put("oracle", new double[][] {{0.25, 1}, {1, 0.75}});
        Path png = dir.resolve("curves.png");
        assertEquals(png, Plots.curves(xy, png, "selective prediction", "coverage", "accuracy"));
        assertImage(png);
    }

    @Test
    void curvesAndHistograms_badArguments_areRejected() {
        Path png = dir.resolve("x.png");
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Plots.curves(Map.of(), png, "t", "x", "y"));
        assertEquals("xy must not be empty, got 0 curves", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                Plots.curves(
                                        Map.of("a", new double[][] {{1, 2}, {1}}),
                                        png,
                                        "t",
                                        "x",
                                        "y"));
        assertEquals("xy[a][1] must have the length of xy[a][0] (2), got length 1", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Plots.histograms(Map.of("a", new double[] {1}), 0, png, "t", "x"));
        assertEquals("bins must be at least 1, got 0", e.getMessage());
        assertTrue(Files.notExists(png));
    }

    private static void assertImage(Path png) throws IOException {
        BufferedImage image = ImageIO.read(png.toFile());
        assertNotNull(image, "decodes as an image");
        assertEquals(Plots.WIDTH, image.getWidth());
        assertEquals(Plots.HEIGHT, image.getHeight());
    }
}
