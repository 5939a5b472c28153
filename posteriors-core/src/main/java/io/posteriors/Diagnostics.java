package io.posteriors;

import java.util.Arrays;
import org.apache.commons.math3.complex.Complex;
import org.apache.commons.math3.stat.descriptive.moment.Mean;
import org.apache.commons.math3.stat.descriptive.moment.Variance;
import org.apache.commons.math3.transform.DftNormalization;
import org.apache.commons.math3.transform.FastFourierTransformer;
import org.apache.commons.math3.transform.TransformType;

/**
 * Convergence diagnostics of scalar traces from one or more chains: effective sample size and split
 * R-hat, with the definitions of Gelman, Carlin, Stern, Dunson, Vehtari and Rubin, "Bayesian Data
 * Analysis" (3rd ed., 2013, §11.4–11.5), as Stan computes them.
 *
 * <p>A trace is {@code double[chains][draws]}, every chain of the same length. Both diagnostics
 * split each chain into halves first (dropping the middle draw of an odd length), so that a single
 * chain that drifts is caught as two chains that disagree. These are the estimators behind Stan's
 * and ArviZ's reports ({@code method="identity"} in ArviZ), without rank normalisation.
 *
 * <p>With {@code M} (split) chains of {@code n} draws, within-chain variance {@code W} (the mean of
 * the chains' unbiased variances) and {@code B / n} the variance of the chain means:
 *
 * <pre>
 * var⁺ = (n − 1) / n · W + B / n,        R̂ = sqrt(var⁺ / W)
 * ρ̂_t  = 1 − (W − mean over chains of the lag-t autocovariance) / var⁺   (ρ̂_0 = 1)
 * ESS  = M n / (1 + 2 Σ_{t ≥ 1} ρ̂_t)
 * </pre>
 *
 * where the autocovariances are the biased (divisor {@code n}) estimates, computed by FFT, and the
 * sum stops at Geyer's initial positive sequence (pairs {@code ρ̂_{2k} + ρ̂_{2k+1}} while positive)
 * with the pairs made monotone non-increasing (Geyer, "Practical Markov Chain Monte Carlo", 1992).
 */
public final class Diagnostics {

    private Diagnostics() {}

    /**
     * Returns the effective sample size of a scalar traced over one or more chains.
     *
     * @param chains {@code [chain][draw]}; at least one chain, every chain of the same length, at
     *     least 4 draws, all finite
     * @return the effective number of independent draws across all chains; may exceed the number of
     *     draws for antithetic chains (by at most a factor {@code log10} of the draws)
     * @throws IllegalArgumentException when the shape or values are invalid, or every draw of a
     *     chain half is the same (the variance is zero)
     */
    public static double ess(double[][] chains) {
        double[][] split = split(validate(chains, "chains"));
        int m = split.length;
        int n = split[0].length;
        double[][] acov = new double[m][];
        double[] means = new double[m];
        double w = 0;
        for (int j = 0; j < m; j++) {
            acov[j] = autocovariance(split[j]);
            means[j] = new Mean().evaluate(split[j]);
            w += acov[j][0] * n / (n - 1.0);
        }
        w /= m;
        requirePositiveVariance(w);
        double varPlus = w * (n - 1.0) / n + new Variance(true).evaluate(means);
        double[] rho = new double[n];
        for (int t = 0; t < n; t++) {
            double c = 0;
            for (int j = 0; j < m; j++) {
                c += acov[j][t];
            }
            rho[t] = 1 - (w - c / m) / varPlus;
        }
        rho[0] = 1;
        // Geyer's initial positive sequence of pair sums, made monotone.
        double sum = 0;
        double previous = Double.POSITIVE_INFINITY;
        for (int k = 0; 2 * k + 1 < n; k++) {
            double pair = rho[2 * k] + rho[2 * k + 1];
            if (pair < 0) {
                break;
            }
            pair = Math.min(pair, previous);
            previous = pair;
            sum += pair;
        }
        double tau = -1 + 2 * sum;
        // as Stan and ArviZ do, bound tau away from 0 for antithetic chains
        double draws = (double) m * n;
        return draws / Math.max(tau, 1.0 / Math.log10(draws));
    }

    /**
     * Returns the split R-hat of a scalar traced over one or more chains: about 1 when the chains
     * agree; values above 1.01 suggest running longer.
     *
     * @param chains {@code [chain][draw]}; at least one chain, every chain of the same length, at
     *     least 4 draws, all finite
     * @return the potential scale reduction factor
     * @throws IllegalArgumentException when the shape or values are invalid, or the within-chain
     *     variance is zero
     */
    public static double splitRhat(double[][] chains) {
        double[][] split = split(validate(chains, "chains"));
        int m = split.length;
        int n = split[0].length;
        double[] means = new double[m];
        double w = 0;
        Variance variance = new Variance(true);
        for (int j = 0; j < m; j++) {
            means[j] = new Mean().evaluate(split[j]);
            w += variance.evaluate(split[j]);
        }
        w /= m;
        requirePositiveVariance(w);
        double bOverN = variance.evaluate(means);
        double varPlus = w * (n - 1.0) / n + bOverN;
        return Math.sqrt(varPlus / w);
    }

    /**
     * Returns the biased autocovariance {@code c_t = (1/n) Σ_{i < n − t} (x_i − x̄)(x_{i+t} − x̄)}
     * for every lag {@code t} from 0 to {@code n − 1}, computed with a zero-padded FFT in {@code
     * O(n log n)}.
     *
     * @param x the draws; at least 2, all finite
     * @return the autocovariances, {@code n} entries
     * @throws IllegalArgumentException when {@code x} has fewer than 2 draws or a non-finite value
     */
    public static double[] autocovariance(double[] x) {
        Checks.notNull(x, "x");
        if (x.length < 2) {
            throw new IllegalArgumentException(
                    Checks.format("x must have at least 2 draws, got %d", x.length));
        }
        requireFinite(x, "x");
        int n = x.length;
        int size = Integer.highestOneBit(2 * n - 1);
        if (size < 2 * n - 1) {
            size <<= 1;
        }
        double mean = new Mean().evaluate(x);
        double[] padded = new double[size];
        for (int i = 0; i < n; i++) {
            padded[i] = x[i] - mean;
        }
        FastFourierTransformer fft = new FastFourierTransformer(DftNormalization.STANDARD);
        Complex[] f = fft.transform(padded, TransformType.FORWARD);
        double[] power = new double[size];
        for (int i = 0; i < size; i++) {
            power[i] = f[i].getReal() * f[i].getReal() + f[i].getImaginary() * f[i].getImaginary();
        }
        Complex[] back = fft.transform(power, TransformType.INVERSE);
        double[] acov = new double[n];
        for (int t = 0; t < n; t++) {
            acov[t] = back[t].getReal() / n;
        }
        return acov;
    }

    private static double[][] validate(double[][] chains, String name) {
        Checks.notNull(chains, name);
        if (chains.length == 0) {
            throw new IllegalArgumentException(name + " must hold at least one chain, got none");
        }
        int n = Checks.notNull(chains[0], name + "[0]").length;
        for (int j = 0; j < chains.length; j++) {
            double[] c = Checks.notNull(chains[j], name + "[" + j + "]");
            if (c.length != n) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "%s must have chains of equal length: chain 0 has %d draws,"
                                        + " chain %d has %d",
                                name, n, j, c.length));
            }
            requireFinite(c, name + "[" + j + "]");
        }
        if (n < 4) {
            throw new IllegalArgumentException(
                    Checks.format("%s must have at least 4 draws per chain, got %d", name, n));
        }
        return chains;
    }

    private static void requireFinite(double[] x, String name) {
        for (int i = 0; i < x.length; i++) {
            if (!Double.isFinite(x[i])) {
                throw new IllegalArgumentException(
                        Checks.format("%s must be finite, got %s at draw %d", name, x[i], i));
            }
        }
    }

    private static void requirePositiveVariance(double w) {
        if (!(w > 0)) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "chains must vary: the within-chain variance is %s (a constant trace"
                                    + " has no effective sample size)",
                            w));
        }
    }

    /** Splits every chain into its first and second half, dropping the middle draw if odd. */
    private static double[][] split(double[][] chains) {
        int n = chains[0].length;
        int half = n / 2;
        double[][] out = new double[2 * chains.length][];
        for (int j = 0; j < chains.length; j++) {
            out[2 * j] = Arrays.copyOfRange(chains[j], 0, half);
            out[2 * j + 1] = Arrays.copyOfRange(chains[j], n - half, n);
        }
        return out;
    }
}
