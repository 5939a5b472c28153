package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.posteriors.Checks;
import io.posteriors.DiagGaussianPosterior;
import io.posteriors.InitialValue;
import io.posteriors.Scalars;
import io.posteriors.Scopes;
import io.posteriors.State;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.List;

/**
 * The state of the diagonal Laplace approximations ({@link DiagFisher}, {@link DiagGgn}): the
 * Gaussian {@code N(params, T diag(1 / precDiag))} over the parameters, posteriors' {@code
 * DiagLaplaceState}.
 *
 * <p>As a {@link DiagGaussianPosterior} it samples and scores at a temperature T that scales the
 * covariance (T = 1 the Laplace posterior, T = 0 the mean exactly). A precision entry that is zero
 * or negative has no finite variance: sampling at T &gt; 0 and the log density then throw, naming
 * the leaf.
 *
 * @param params the mean (the MAP the approximation is built around)
 * @param precDiag the diagonal of the precision, with the structure of {@code params}
 * @param step the number of batches accumulated so far
 */
public record DiagLaplaceState(TensorTree params, TensorTree precDiag, long step)
        implements State, DiagGaussianPosterior {

    /**
     * Checks the components.
     *
     * @throws NullPointerException when a component is null
     * @throws IllegalArgumentException when {@code precDiag} does not have the structure of {@code
     *     params} or {@code step < 0}
     */
    public DiagLaplaceState {
        Checks.notNull(params, "params");
        Checks.notNull(precDiag, "precDiag");
        params.requireSameStructure(precDiag, "precDiag");
        Checks.atLeast(step, 0L, "step");
    }

    /** Builds the state at step 0 around a copy of {@code params}. */
    static DiagLaplaceState init(TensorTree params, InitialValue initPrecDiag) {
        Checks.openTree(params, "params");
        Checks.finite(params, "params", 0);
        TensorTree p = params.copy();
        try {
            return new DiagLaplaceState(p, initPrecDiag.tree(p, "initPrecDiag"), 0);
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /**
     * Adds a batch's curvature to the precision in place, after checking that it is finite (so a
     * bad batch leaves the state as it was), and returns the state one step on.
     */
    DiagLaplaceState add(TensorTree increment, String what) {
        Checks.finite(increment, what, step);
        precDiag.forEachZip(increment, NDArray::addi);
        return new DiagLaplaceState(params, precDiag, step + 1);
    }

    /**
     * Returns a deep copy: new arrays with the same values.
     *
     * @return the copy
     */
    @Override
    public DiagLaplaceState copy() {
        return new DiagLaplaceState(params.copy(), precDiag.copy(), step);
    }

    /**
     * Returns the parameters' leaves followed by the precision's leaves, in the tree order.
     *
     * @return the arrays
     */
    @Override
    public List<NDArray> arrays() {
        List<NDArray> all = new ArrayList<>(params.leaves());
        all.addAll(precDiag.leaves());
        return all;
    }

    /**
     * Returns the mean, {@code params} (owned by the state).
     *
     * @return the parameters
     */
    @Override
    public TensorTree mean() {
        return params;
    }

    /**
     * Returns the variances {@code 1 / precDiag} (infinite where a precision entry is 0).
     *
     * @return a new tree
     */
    @Override
    public TensorTree varianceDiag() {
        return Scopes.call(
                params.manager(),
                () -> precDiag.map(p -> Scalars.like(p, 1.0).div(p)),
                TensorTree::leaves);
    }

    /**
     * Draws {@code n} samples from {@code N(params, T / precDiag)}: T = 1 is the Laplace posterior,
     * T = 0 returns {@code n} exact copies of the mean.
     *
     * @param n the number of samples; at least 1
     * @param temperature T, scaling the covariance; finite and non-negative
     * @return a new tree whose leaves have shape {@code (n, *leaf shape)}
     * @throws IllegalArgumentException when {@code n < 1}, T is negative or not finite, or T &gt; 0
     *     and a precision entry is not positive (its variance would be infinite); the message names
     *     the leaf
     */
    @Override
    public TensorTree sample(int n, double temperature) {
        Checks.atLeast(n, 1, "n");
        Checks.nonNegative(temperature, "temperature");
        if (temperature > 0) {
            requirePositive(Checks.format("sample at temperature %s", temperature));
        }
        return DiagGaussianPosterior.super.sample(n, temperature);
    }

    /**
     * Draws one sample at temperature 1, with the parameters' shapes (no sample dimension).
     *
     * @return a new tree with the structure of {@code params}
     * @throws IllegalArgumentException when a precision entry is not positive
     */
    public TensorTree sample() {
        try (TensorTree one = sample(1, 1.0)) {
            return Scopes.tree(() -> one.map(a -> a.squeeze(0)));
        }
    }

    /**
     * Returns the normalised log density of {@code N(params, T / precDiag)} at one point (a scalar)
     * or at {@code m} points stacked along a leading dimension (a vector of {@code m});
     * differentiable in {@code x}.
     *
     * @param x one point (the parameters' structure) or m points (every leaf with a leading
     *     dimension m)
     * @param temperature T; finite and positive
     * @return a new array
     * @throws IllegalArgumentException when T is not positive, {@code x} has neither structure or a
     *     precision entry is not positive
     */
    @Override
    public NDArray logProb(TensorTree x, double temperature) {
        Checks.positive(temperature, "temperature");
        requirePositive("evaluate the log density");
        return DiagGaussianPosterior.super.logProb(x, temperature);
    }

    /** Throws when a precision entry is zero, negative or NaN: its variance would be infinite. */
    private void requirePositive(String action) {
        precDiag.forEach(
                (k, a) ->
                        Scopes.run(
                                () -> {
                                    NDArray f = a.flatten();
                                    NDArray bad = f.lte(0).logicalOr(f.isNaN());
                                    if (!bad.any().getBoolean()) {
                                        return;
                                    }
                                    long count = bad.toType(DataType.INT64, false).sum().getLong();
                                    long at = bad.toType(DataType.INT32, false).argMax().getLong();
                                    throw new IllegalArgumentException(
                                            Checks.format(
                                                    "cannot %s: precDiag leaf '%s' has %d entries"
                                                            + " that are not positive (the first"
                                                            + " at flat index %d), so their"
                                                            + " variance T / precDiag is infinite;"
                                                            + " give a prior precision with"
                                                            + " initPrecDiag(...) or sample at"
                                                            + " temperature 0",
                                                    action, k, count, at));
                                }));
    }

    /**
     * Returns {@code previous.precDiag() / temperature}, the precision of {@code N(μ, T Σ)}, as new
     * arrays on the previous state's manager: the prior precision of the next task in continual
     * learning.
     */
    static TensorTree precisionAt(DiagLaplaceState previous, double temperature) {
        Checks.open(Checks.notNull(previous, "previous"));
        Checks.positive(temperature, "temperature");
        return io.posteriors.Scopes.call(
                previous.params().manager(),
                () ->
                        previous.precDiag()
                                .map(p -> p.div(io.posteriors.Scalars.like(p, temperature))),
                TensorTree::leaves);
    }
}
