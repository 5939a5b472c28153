package io.posteriors.predictive;

import static io.posteriors.Checks.format;

import org.apache.commons.math3.distribution.NormalDistribution;

/**
 * Metrics of a Gaussian predictive for regression, given per input its mean and variance, against
 * the observed targets: Gaussian negative log likelihood, root mean squared error and the coverage
 * of central intervals.
 *
 * <p>Arrays are indexed by input and must have the same, non-zero length; means and targets are
 * finite, variances finite and positive.
 */
public final class RegressionMetrics {

    private static final double LOG_2PI = Math.log(2 * Math.PI);

    private RegressionMetrics() {}

    /**
     * Returns the mean Gaussian negative log likelihood, {@code (1/n) sum_i [log(2 pi var_i) / 2 +
     * (y_i - mean_i)^2 / (2 var_i)]}.
     *
     * @param mean predictive means, one per input
     * @param variance predictive variances, one per input, positive
     * @param y observed targets, one per input
     * @return the negative log likelihood in nats (negative when the variances are small)
     * @throws NullPointerException when an argument is null
     * @throws IllegalArgumentException when an array is empty, the lengths differ, a mean or target
     *     is not finite, or a variance is not positive and finite
     */
    public static double gaussianNll(double[] mean, double[] variance, double[] y) {
        check(mean, variance, y);
        double sum = 0;
        for (int i = 0; i < mean.length; i++) {
            double r = y[i] - mean[i];
            sum += 0.5 * (LOG_2PI + Math.log(variance[i]) + r * r / variance[i]);
        }
        return sum / mean.length;
    }

    /**
     * Returns the root mean squared error {@code sqrt((1/n) sum_i (mean_i - y_i)^2)}.
     *
     * @param mean predictions, one per input
     * @param y observed targets, one per input
     * @return the RMSE, non-negative
     * @throws NullPointerException when an argument is null
     * @throws IllegalArgumentException when an array is empty, the lengths differ, or an entry is
     *     not finite
     */
    public static double rmse(double[] mean, double[] y) {
        ArrayChecks.finite(mean, "mean");
        ArrayChecks.finite(y, "y");
        ArrayChecks.sameLength(y.length, mean.length, "y", "mean");
        double sum = 0;
        for (int i = 0; i < mean.length; i++) {
            double r = y[i] - mean[i];
            sum += r * r;
        }
        return Math.sqrt(sum / mean.length);
    }

    /**
     * Returns the fraction of targets inside the central interval of probability {@code level} of
     * their Gaussian predictive: {@code |y_i - mean_i| <= z sqrt(var_i)} with {@code z} the {@code
     * (1 + level) / 2} quantile of the standard normal (from Commons Math's {@link
     * NormalDistribution}). The interval is closed. A calibrated predictive gives about {@code
     * level}.
     *
     * @param mean predictive means, one per input
     * @param variance predictive variances, one per input, positive
     * @param y observed targets, one per input
     * @param level the interval's probability, in (0, 1)
     * @return the empirical coverage, in [0, 1]
     * @throws NullPointerException when an array is null
     * @throws IllegalArgumentException under the conditions of {@link #gaussianNll} or when {@code
     *     level} is not in (0, 1)
     */
    public static double intervalCoverage(
            double[] mean, double[] variance, double[] y, double level) {
        check(mean, variance, y);
        if (!(level > 0 && level < 1)) {
            throw new IllegalArgumentException(format("level must be in (0, 1), got %s", level));
        }
        double z = new NormalDistribution(null, 0, 1).inverseCumulativeProbability((1 + level) / 2);
        int inside = 0;
        for (int i = 0; i < mean.length; i++) {
            if (Math.abs(y[i] - mean[i]) <= z * Math.sqrt(variance[i])) {
                inside++;
            }
        }
        return (double) inside / mean.length;
    }

    private static void check(double[] mean, double[] variance, double[] y) {
        ArrayChecks.finite(mean, "mean");
        ArrayChecks.positive(variance, "variance");
        ArrayChecks.finite(y, "y");
        ArrayChecks.sameLength(variance.length, mean.length, "variance", "mean");
        ArrayChecks.sameLength(y.length, mean.length, "y", "mean");
    }
}
