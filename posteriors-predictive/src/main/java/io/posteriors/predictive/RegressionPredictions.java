package io.posteriors.predictive;

import io.posteriors.Checks;

/**
 * Regression predictions for a whole dataset as Java arrays, one row per input.
 *
 * @param mean the predictive means, {@code (n, d)}
 * @param aleatoric the mean observation variances, {@code (n, d)}
 * @param epistemic the variances of the mean over the posterior, {@code (n, d)}
 */
public record RegressionPredictions(double[][] mean, double[][] aleatoric, double[][] epistemic) {

    /**
     * Checks that the arrays have one row per input.
     *
     * @throws IllegalArgumentException when the lengths differ
     */
    public RegressionPredictions {
        Checks.notNull(mean, "mean");
        if (aleatoric.length != mean.length || epistemic.length != mean.length) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "every array must have one row per input (%d), got aleatoric %d,"
                                    + " epistemic %d",
                            mean.length, aleatoric.length, epistemic.length));
        }
    }

    /**
     * Returns the total predictive variance of output {@code j} for every input.
     *
     * @param j the output index
     * @return aleatoric plus epistemic variance
     */
    public double[] variance(int j) {
        double[] out = new double[mean.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = aleatoric[i][j] + epistemic[i][j];
        }
        return out;
    }

    /**
     * Returns output {@code j}'s mean for every input.
     *
     * @param j the output index
     * @return the means
     */
    public double[] mean(int j) {
        double[] out = new double[mean.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = mean[i][j];
        }
        return out;
    }
}
