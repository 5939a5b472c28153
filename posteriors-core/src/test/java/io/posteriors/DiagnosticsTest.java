package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.commons.math3.random.RandomGenerator;
import org.apache.commons.math3.random.Well19937c;
import org.junit.jupiter.api.Test;

/**
 * Effective sample size and split R-hat against closed forms (AR(1) chains), a hand computation and
 * a brute-force autocovariance.
 */
class DiagnosticsTest {

    private static double[][] ar1(int chains, int n, double phi, double offsetStep, long seed) {
        RandomGenerator rng = new Well19937c(seed);
        double sd = Math.sqrt(1 - phi * phi);
        double[][] out = new double[chains][n];
        for (int c = 0; c < chains; c++) {
            double x = rng.nextGaussian();
            for (int i = 0; i < n; i++) {
                x = phi * x + sd * rng.nextGaussian();
                out[c][i] = x + c * offsetStep;
            }
        }
        return out;
    }

    @Test
    void autocovariance_fft_equalsBruteForce() {
        RandomGenerator rng = new Well19937c(1);
        double[] x = new double[777];
        for (int i = 0; i < x.length; i++) {
            x[i] = rng.nextGaussian() + (i % 7) * 0.3;
        }
        double mean = 0;
        for (double v : x) {
            mean += v;
        }
        mean /= x.length;
        double[] acov = Diagnostics.autocovariance(x);
        for (int t = 0; t < x.length; t++) {
            double s = 0;
            for (int i = 0; i + t < x.length; i++) {
                s += (x[i] - mean) * (x[i + t] - mean);
            }
            assertEquals(s / x.length, acov[t], 1e-10, "lag " + t);
        }
    }

    /**
     * An AR(1) chain x' = φ x + sqrt(1 − φ²) z has ρ_t = φ^t and integrated autocorrelation time τ
     * = (1 + φ) / (1 − φ) = 19 for φ = 0.9, so ESS = 4 · 50,000 / 19 = 10,526. By Sokal's estimate
     * the relative standard error of τ̂ summed to a window of W lags is sqrt(2 (2W + 1) / N);
     * Geyer's truncation stops near W = 100 here, so it is about 4.5% with N = 200,000, and 25% is
     * more than 5 of them.
     */
    @Test
    void ess_ar1Chains_matchesTheClosedForm() {
        double[][] chains = ar1(4, 50_000, 0.9, 0, 2);
        double expected = 4 * 50_000 / 19.0;
        double ess = Diagnostics.ess(chains);
        assertEquals(expected, ess, 0.25 * expected, "ess " + ess);
    }

    /** Independent draws: τ = 1, ESS close to the number of draws (same error estimate, W ≈ 2). */
    @Test
    void ess_independentDraws_isCloseToTheDrawCount() {
        double[][] chains = ar1(4, 10_000, 0.0, 0, 3);
        double ess = Diagnostics.ess(chains);
        assertEquals(40_000, ess, 0.1 * 40_000, "ess " + ess);
    }

    @Test
    void splitRhat_handExample() {
        // halves [1,2] [3,4] [5,6] [7,8]: W = 0.5, B/n = var(1.5, 3.5, 5.5, 7.5) = 20/3,
        // var+ = (1/2) 0.5 + 20/3, R = sqrt(var+ / W)
        double[][] chains = {{1, 2, 3, 4}, {5, 6, 7, 8}};
        double expected = Math.sqrt((0.25 + 20.0 / 3) / 0.5);
        assertEquals(expected, Diagnostics.splitRhat(chains), 1e-12);
    }

    /**
     * Chains that agree: the chain means differ by about sqrt(τ / n), so R̂² − 1 is of order τ / n
     * = 3 / 10,000; 1.01 leaves a wide margin.
     */
    @Test
    void splitRhat_agreeingChains_isNearOne() {
        double rhat = Diagnostics.splitRhat(ar1(4, 20_000, 0.5, 0, 4));
        assertTrue(Math.abs(rhat - 1) < 0.01, "rhat " + rhat);
    }

    @Test
    void splitRhat_chainsAtDifferentLevelsOrDrifting_isLarge() {
        assertTrue(Diagnostics.splitRhat(ar1(4, 2_000, 0.5, 1.0, 5)) > 1.1);
        double[][] drifting = new double[1][2_000];
        RandomGenerator rng = new Well19937c(6);
        for (int i = 0; i < 2_000; i++) {
            drifting[0][i] = i * 0.002 + rng.nextGaussian();
        }
        // one chain: only the split reveals that its halves disagree
        assertTrue(Diagnostics.splitRhat(drifting) > 1.1);
    }

    @Test
    void diagnostics_badInput_throw() {
        assertThrows(IllegalArgumentException.class, () -> Diagnostics.ess(new double[0][]));
        assertThrows(
                IllegalArgumentException.class,
                () -> Diagnostics.ess(new double[][] {{1, 2, 3, 4}, {1, 2, 3}}));
        assertThrows(
                IllegalArgumentException.class,
                () -> Diagnostics.splitRhat(new double[][] {{1, 2, 3}}));
        assertThrows(
                IllegalArgumentException.class,
                () -> Diagnostics.ess(new double[][] {{1, Double.NaN, 3, 4}}));
        IllegalArgumentException constant =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Diagnostics.ess(new double[][] {{2, 2, 2, 2, 2}}));
        assertTrue(constant.getMessage().contains("variance"), constant.getMessage());
    }
}
