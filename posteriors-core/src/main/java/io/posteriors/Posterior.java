package io.posteriors;

/**
 * A distribution over parameters that can be sampled: what the predictive module consumes, whatever
 * method produced it. {@link GaussianPosterior} is implemented by every Laplace, VI and EKF state;
 * {@link SamplePosterior} holds the samples of a trace, of several chains or of an ensemble.
 */
public interface Posterior {

    /**
     * Returns the posterior mean (for a Gaussian state, its parameters). The tree is owned by the
     * posterior: do not close it.
     *
     * @return the mean
     */
    TensorTree mean();

    /**
     * Draws {@code n} parameter samples, stacked along a new leading dimension of every leaf.
     *
     * @param n the number of samples; at least 1
     * @return a new tree whose leaves have shape {@code (n, *leaf shape)}; the caller closes it
     * @throws IllegalArgumentException when {@code n} is less than 1
     */
    TensorTree sample(int n);
}
