package io.posteriors.predictive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RegressionMetricsTest {

    private static final double[] MEAN = {0.0, 1.0, -2.0};
    private static final double[] VARIANCE = {1.0, 4.0, 0.25};
    private static final double[] Y = {0.5, 4.0, -2.0};

    @Test
    void gaussianNll_handFixture_matchesClosedForm() {
        // -log N(y; m, v) = 0.5 log(2 pi) + 0.5 log v + (y - m)^2 / (2 v)
        double c = 0.5 * Math.log(2 * Math.PI);
        double n0 = c + 0 + 0.25 / 2;
        double n1 = c + 0.5 * Math.log(4) + 9.0 / 8;
        double n2 = c + 0.5 * Math.log(0.25) + 0;
        assertEquals((n0 + n1 + n2) / 3, RegressionMetrics.gaussianNll(MEAN, VARIANCE, Y), 1e-15);
    }

    @Test
    void rmse_handFixture_isRootMeanSquare() {
        assertEquals(Math.sqrt((0.25 + 9 + 0) / 3), RegressionMetrics.rmse(MEAN, Y), 1e-15);
    }

    @Test
    void intervalCoverage_handFixture_countsTargetsInsideCentralInterval() {
        // z_{0.975} = 1.959963984540054; standardised residuals 0.5, 1.5, 0 -> all inside at 95%.
        assertEquals(1.0, RegressionMetrics.intervalCoverage(MEAN, VARIANCE, Y, 0.95), 0);
        // At 50% (z = 0.6744897501960817): 0.5 and 0 inside, 1.5 outside.
        assertEquals(2.0 / 3, RegressionMetrics.intervalCoverage(MEAN, VARIANCE, Y, 0.5), 0);
        // At 80% (z = 1.2815515655446004): 1.5 still outside.
        assertEquals(2.0 / 3, RegressionMetrics.intervalCoverage(MEAN, VARIANCE, Y, 0.8), 0);
        // At 90% (z = 1.6448536269514722): 1.5 inside.
        assertEquals(1.0, RegressionMetrics.intervalCoverage(MEAN, VARIANCE, Y, 0.9), 0);
    }

    @Test
    void intervalCoverage_calibratedGaussianSamples_coversLevelWithinMonteCarloError() {
        Random rng = new Random(5);
        int n = 20_000;
        double[] mean = new double[n];
        double[] variance = new double[n];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            mean[i] = rng.nextGaussian();
            variance[i] = 0.1 + rng.nextDouble();
            y[i] = mean[i] + Math.sqrt(variance[i]) * rng.nextGaussian();
        }
        double level = 0.9;
        double se = Math.sqrt(level * (1 - level) / n);
        assertEquals(level, RegressionMetrics.intervalCoverage(mean, variance, y, level), 4 * se);
    }

    @Test
    void intervalCoverage_levelOutsideOpenUnitInterval_isRejected() {
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> RegressionMetrics.intervalCoverage(MEAN, VARIANCE, Y, 1.0));
        assertEquals("level must be in (0, 1), got 1.0", e.getMessage());
    }

    @Test
    void gaussianNll_badVarianceOrLengths_isRejected() {
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> RegressionMetrics.gaussianNll(MEAN, new double[] {1, 0, 1}, Y));
        assertEquals("variance[1] must be positive and finite, got 0.0", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> RegressionMetrics.rmse(MEAN, new double[] {1, 2}));
        assertEquals("y must have the length of mean (3), got length 2", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> RegressionMetrics.rmse(new double[0], new double[0]));
        assertEquals("mean must not be empty, got length 0", e.getMessage());
    }
}
