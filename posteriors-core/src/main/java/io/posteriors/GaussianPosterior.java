package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * A Gaussian over the parameters, {@code N(mean, T Σ)} at temperature {@code T}: Laplace, VI and
 * EKF states implement it, so a caller samples, scores and propagates any of them the same way.
 *
 * <p>Temperature scales the covariance: {@code T = 1} is the posterior the state describes, {@code
 * T = 0} a point mass at the mean. {@link DiagGaussianPosterior} and {@link DenseGaussianPosterior}
 * give every method from one accessor (the variances, or a Cholesky factor of the covariance).
 */
public interface GaussianPosterior extends Posterior {

    /**
     * Draws {@code n} samples from {@code N(mean, T Σ)} with the engine's generator.
     *
     * @param n the number of samples; at least 1
     * @param temperature the temperature {@code T}; non-negative and finite ({@code 0} repeats the
     *     mean)
     * @return a new tree whose leaves have shape {@code (n, *leaf shape)}
     * @throws IllegalArgumentException when {@code n < 1} or the temperature is out of range
     */
    TensorTree sample(int n, double temperature);

    /**
     * Draws {@code n} samples at temperature 1.
     *
     * @param n the number of samples; at least 1
     * @return a new tree whose leaves have shape {@code (n, *leaf shape)}
     * @throws IllegalArgumentException when {@code n < 1}
     */
    @Override
    default TensorTree sample(int n) {
        return sample(n, 1.0);
    }

    /**
     * Returns the normalised log density of {@code N(mean, T Σ)} at one point (a scalar) or at
     * {@code m} points stacked along a leading dimension of every leaf (a vector of {@code m}).
     *
     * @param x the point or points
     * @param temperature the temperature {@code T}; positive and finite
     * @return a new array
     * @throws IllegalArgumentException when {@code x} is neither one point nor a stack of points,
     *     or the temperature is out of range
     */
    NDArray logProb(TensorTree x, double temperature);

    /**
     * Returns the log density at temperature 1.
     *
     * @param x the point or points
     * @return a new array
     * @throws IllegalArgumentException when {@code x} is neither one point nor a stack of points
     */
    default NDArray logProb(TensorTree x) {
        return logProb(x, 1.0);
    }

    /**
     * Returns the marginal variances {@code diag(Σ)} at temperature 1, shaped like the mean.
     *
     * @return a new tree
     */
    TensorTree varianceDiag();

    /**
     * Returns {@code J Σ Jᵀ} at temperature 1 for a matrix {@code J} over the flattened parameters
     * (in {@link TensorTree#ravel()} order): the covariance of {@code J θ}, which the linearised
     * predictive needs without forming {@code Σ} when the structure allows. A stack of matrices
     * {@code (n, m, P)} gives a stack {@code (n, m, m)}, one per input.
     *
     * @param jacobian an {@code (m, P)} or {@code (n, m, P)} array
     * @return a new {@code (m, m)} or {@code (n, m, m)} array
     * @throws IllegalArgumentException when {@code jacobian} is not {@code (m, P)} or {@code (n, m,
     *     P)}
     */
    NDArray projectCovariance(NDArray jacobian);

    /**
     * Returns the number of points in {@code x}: {@code -1} when {@code x} is one point (the
     * structure of {@code mean}), {@code m} when every leaf has an extra leading dimension {@code
     * m}.
     *
     * @param mean the mean whose structure a point has
     * @param x the point or points
     * @return {@code -1} or {@code m}
     * @throws IllegalArgumentException naming the leaf when {@code x} is neither
     */
    static long pointCount(TensorTree mean, TensorTree x) {
        Checks.notNull(x, "x");
        if (x.sameStructure(mean)) {
            return -1;
        }
        if (!x.names().equals(mean.names())) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "x must have the leaves of the mean %s, got %s",
                            mean.names(), x.names()));
        }
        long m = -1;
        for (String k : mean.names()) {
            Shape ps = mean.get(k).getShape();
            Shape xs = x.get(k).getShape();
            boolean ok =
                    xs.dimension() == ps.dimension() + 1
                            && xs.slice(1).equals(ps)
                            && (m < 0 || xs.get(0) == m);
            if (!ok) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "x leaf '%s' must have shape %s for one point or that shape after"
                                        + " a leading dimension m for m points%s, got %s",
                                k, ps, m < 0 ? "" : Checks.format(" (m = %d here)", m), xs));
            }
            m = xs.get(0);
        }
        return m;
    }

    /**
     * Returns {@code n} copies of every leaf of {@code mean} stacked along a new dimension 0: the
     * samples at temperature 0.
     *
     * @param mean the mean
     * @param n the number of copies; at least 1
     * @return a new tree on the mean's manager
     */
    static TensorTree repeat(TensorTree mean, int n) {
        Checks.atLeast(n, 1, "n");
        return Scopes.call(
                mean.manager(),
                () -> mean.map(m -> m.expandDims(0).repeat(0, n)),
                TensorTree::leaves);
    }

    /**
     * Checks the jacobian's shape against {@code p} flattened parameters and returns the axes that
     * transpose its last two dimensions.
     *
     * @param jacobian the matrix or stack of matrices
     * @param p the number of parameters
     * @return the axes permutation that transposes the last two dimensions
     * @throws IllegalArgumentException when it is not {@code (m, p)} or {@code (n, m, p)}
     */
    static int[] requireJacobian(NDArray jacobian, long p) {
        Checks.open(jacobian, "jacobian");
        Shape s = jacobian.getShape();
        if ((s.dimension() != 2 && s.dimension() != 3) || s.get(s.dimension() - 1) != p) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "jacobian must have shape (m, %d) or (n, m, %d) over the %d flattened"
                                    + " parameters, got %s",
                            p, p, p, s));
        }
        return s.dimension() == 2 ? new int[] {1, 0} : new int[] {0, 2, 1};
    }
}
