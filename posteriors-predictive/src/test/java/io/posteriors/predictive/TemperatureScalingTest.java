package io.posteriors.predictive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class TemperatureScalingTest {

    private static final int N = 20_000;
    private static final int CLASSES = 5;
    private static final double TRUE_T = 2.0;

    @Test
    void fit_labelsSampledAtTemperatureTwo_recoversItWithinMonteCarloError() {
        Random rng = new Random(2024);
        double[][] logits = new double[N][CLASSES];
        int[] labels = new int[N];
        for (int i = 0; i < N; i++) {
            for (int k = 0; k < CLASSES; k++) {
                logits[i][k] = 3 * rng.nextGaussian();
            }
            labels[i] = sample(rng, softmax(logits[i], TRUE_T));
        }
        double t = TemperatureScaling.fit(logits, labels);
        // Asymptotic standard error of the MLE of beta = 1/T is 1 / sqrt(n I), with I the mean
        // variance of the logits under softmax(beta z); by the delta method se(T) = T^2 se(beta).
        double info = 0;
        for (double[] z : logits) {
            double[] p = softmax(z, TRUE_T);
            double mean = 0;
            double second = 0;
            for (int k = 0; k < CLASSES; k++) {
                mean += p[k] * z[k];
                second += p[k] * z[k] * z[k];
            }
            info += (second - mean * mean) / N;
        }
        double se = TRUE_T * TRUE_T / Math.sqrt(N * info);
        assertTrue(se < 0.05, "the fixture should pin T down, se " + se);
        assertEquals(TRUE_T, t, 4 * se);
    }

    @Test
    void fit_optimum_hasZeroDerivativeByFiniteDifferences() {
        Random rng = new Random(99);
        int n = 500;
        double[][] logits = new double[n][3];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 3; k++) {
                logits[i][k] = 2 * rng.nextGaussian();
            }
            labels[i] = sample(rng, softmax(logits[i], 0.7));
        }
        double t = TemperatureScaling.fit(logits, labels);
        double h = 1e-4 * t;
        double derivative = (nll(logits, labels, t + h) - nll(logits, labels, t - h)) / (2 * h);
        assertEquals(0, derivative, 1e-7);
        // And it is a minimum, not a maximum: the NLL is larger on both sides.
        double at = nll(logits, labels, t);
        assertTrue(nll(logits, labels, 1.05 * t) > at);
        assertTrue(nll(logits, labels, 0.95 * t) > at);
        // The derivative 10% away is clearly not zero, so the check above is not vacuous.
        double away =
                (nll(logits, labels, 1.1 * t + h) - nll(logits, labels, 1.1 * t - h)) / (2 * h);
        assertTrue(Math.abs(away) > 1e-3, "derivative away from the optimum " + away);
    }

    @Test
    void apply_handFixture_isStableSoftmaxOfScaledLogits() {
        double[][] probs = TemperatureScaling.apply(new double[][] {{1, 2, 3}}, 2);
        double a = Math.exp(0.5);
        double b = Math.exp(1.0);
        double c = Math.exp(1.5);
        double s = a + b + c;
        assertArrayEquals(new double[] {a / s, b / s, c / s}, probs[0], 1e-15);
        double[][] extreme = TemperatureScaling.apply(new double[][] {{1000, 0}, {0, -1000}}, 2);
        assertArrayEquals(new double[] {1.0, Math.exp(-500)}, extreme[0], 1e-300);
        assertArrayEquals(new double[] {1.0, Math.exp(-500)}, extreme[1], 1e-300);
    }

    @Test
    void apply_tinyTemperature_givesOneHotWithoutNaN() {
        double[][] probs = TemperatureScaling.apply(new double[][] {{0.1, 0.3, 0.2}}, 1e-320);
        assertArrayEquals(new double[] {0, 1, 0}, probs[0], 0);
    }

    @Test
    void fit_everyLabelIsArgmax_isRejectedAsNoFiniteOptimum() {
        double[][] logits = {{2, 0}, {0, 3}};
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> TemperatureScaling.fit(logits, new int[] {0, 1}));
        assertTrue(e.getMessage().startsWith("labels must not all be a largest logit"));
    }

    @Test
    void fit_worseThanUniform_isRejectedAsNoFiniteOptimum() {
        double[][] logits = {{2, 0}, {0, 3}};
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> TemperatureScaling.fit(logits, new int[] {1, 0}));
        assertEquals(
                "logits must predict the labels better than a uniform distribution for a finite"
                        + " temperature to exist: the mean label logit minus the mean logit must be"
                        + " positive, got -1.25",
                e.getMessage());
    }

    @Test
    void applyAndFit_badArguments_areRejected() {
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> TemperatureScaling.apply(new double[][] {{1, 2}}, 0));
        assertEquals("t must be positive and finite, got 0.0", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                TemperatureScaling.apply(
                                        new double[][] {{1, Double.POSITIVE_INFINITY}}, 1));
        assertEquals("logits[0][1] must be finite, got Infinity", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> TemperatureScaling.fit(new double[][] {{1, 2}}, new int[] {2}));
        assertEquals("labels[0] must be in [0, 2), got 2", e.getMessage());
    }

    /** Mean NLL of softmax(z / t), written out independently of the class under test. */
    private static double nll(double[][] logits, int[] labels, double t) {
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (double z : logits[i]) {
                max = Math.max(max, z / t);
            }
            double lse = 0;
            for (double z : logits[i]) {
                lse += Math.exp(z / t - max);
            }
            sum += max + Math.log(lse) - logits[i][labels[i]] / t;
        }
        return sum / logits.length;
    }

    private static double[] softmax(double[] z, double t) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double[] p = new double[z.length];
        double sum = 0;
        for (int k = 0; k < z.length; k++) {
            p[k] = Math.exp((z[k] - max) / t);
            sum += p[k];
        }
        for (int k = 0; k < z.length; k++) {
            p[k] /= sum;
        }
        return p;
    }

    private static int sample(Random rng, double[] p) {
        double u = rng.nextDouble();
        for (int k = 0; k < p.length - 1; k++) {
            u -= p[k];
            if (u < 0) {
                return k;
            }
        }
        return p.length - 1;
    }
}
