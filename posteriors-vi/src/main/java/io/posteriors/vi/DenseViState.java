package io.posteriors.vi;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.posteriors.Checks;
import io.posteriors.DenseGaussianPosterior;
import io.posteriors.DenseNormal;
import io.posteriors.Scopes;
import io.posteriors.State;
import io.posteriors.TensorTree;
import io.posteriors.optim.OptimState;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The state of {@link DenseVi}: the Normal {@code q(theta) = N(params, L L^T)} over the raveled
 * parameters, with its lower-triangular factor L stored flat, the optimiser state, the last NELBO
 * and the step: posteriors' {@code VIDenseState}.
 *
 * <p>As a {@link DenseGaussianPosterior} its mean is {@code params} and its covariance {@code L
 * L^T}, so {@code state.sample(n, temperature)}, {@code state.logProb(x)} and {@code
 * state.covariance()} read q (posteriors' {@code vi.dense.sample}).
 *
 * @param params the mean of q
 * @param lFactor the {@code d(d+1)/2} entries of the lower triangle of L, row by row ({@link
 *     DenseNormal#lowerToFlat}), where d is the number of parameters and {@code L L^T} the
 *     covariance of q over {@code params.ravel()}; posteriors' {@code L_factor}
 * @param optimState the optimiser's slots, over the tree of variational parameters (leaves {@code
 *     mean/NAME} then {@code lFactor})
 * @param nelbo the Monte Carlo NELBO estimated during the last update (a scalar array on the
 *     parameters' device; NaN after {@code init})
 * @param step the number of updates done
 */
public record DenseViState(
        TensorTree params, NDArray lFactor, OptimState optimState, NDArray nelbo, long step)
        implements State, DenseGaussianPosterior {

    /**
     * Checks the components.
     *
     * @throws NullPointerException when a component is null
     * @throws IllegalArgumentException when {@code lFactor} is not a vector of {@code d(d+1)/2}
     *     entries for the d parameters, or {@code step < 0}
     */
    public DenseViState {
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(lFactor, "lFactor");
        Objects.requireNonNull(optimState, "optimState");
        Objects.requireNonNull(nelbo, "nelbo");
        requireFlatFactor(lFactor, params.numel());
        if (step < 0) {
            throw new IllegalArgumentException("step must be non-negative, got " + step);
        }
    }

    /**
     * Returns the lower-triangular factor L as a new {@code (d, d)} matrix, which the caller
     * closes.
     *
     * @return L
     */
    public NDArray lower() {
        return DenseNormal.flatToLower(lFactor, (int) params.numel());
    }

    /**
     * Returns the mean of q, which is {@code params}.
     *
     * @return {@code params} (not a copy)
     */
    @Override
    public TensorTree mean() {
        return params;
    }

    /**
     * Returns the Cholesky factor of the covariance as a new {@code (d, d)} matrix: L with every
     * column whose diagonal entry is negative negated, which leaves {@code L L^T} unchanged and
     * makes the diagonal positive.
     *
     * @return the lower Cholesky factor of {@code L L^T}
     * @throws IllegalArgumentException when L has a zero on its diagonal (q is degenerate)
     */
    @Override
    public NDArray covarianceCholesky() {
        return Scopes.one(
                () -> {
                    NDArray l = lower();
                    NDArray signs = l.diagonal().sign();
                    if (!(signs.abs().min().toType(DataType.FLOAT64, false).getDouble() > 0)) {
                        throw new IllegalArgumentException(
                                "lFactor must have a non-zero diagonal for a covariance, got a"
                                        + " zero on it");
                    }
                    return l.mul(signs);
                });
    }

    @Override
    public DenseViState copy() {
        return new DenseViState(
                params.copy(), lFactor.duplicate(), optimState.copy(), nelbo.duplicate(), step);
    }

    @Override
    public List<NDArray> arrays() {
        List<NDArray> all = new ArrayList<>(params.leaves());
        all.add(lFactor);
        optimState.slots().forEach(t -> all.addAll(t.leaves()));
        all.add(nelbo);
        return all;
    }

    /** Throws when {@code lFactor} is not a vector of {@code d(d+1)/2} entries. */
    static void requireFlatFactor(NDArray lFactor, long d) {
        if (lFactor.getShape().dimension() != 1 || lFactor.size() != DenseNormal.flatSize(d)) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "lFactor must be a vector of d(d+1)/2 = %d entries for d = %d"
                                    + " parameters, got shape %s",
                            DenseNormal.flatSize(d), d, lFactor.getShape()));
        }
    }
}
