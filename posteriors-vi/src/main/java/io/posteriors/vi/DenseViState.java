package io.posteriors.vi;

import ai.djl.ndarray.NDArray;
import io.posteriors.Checks;
import io.posteriors.DenseNormal;
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
        implements State {

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
        long d = params.numel();
        if (lFactor.getShape().dimension() != 1 || lFactor.size() != DenseNormal.flatSize(d)) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "lFactor must be a vector of d(d+1)/2 = %d entries for d = %d"
                                    + " parameters, got shape %s",
                            DenseNormal.flatSize(d), d, lFactor.getShape()));
        }
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
     * Returns the covariance {@code L L^T} of q over the raveled parameters as a new {@code (d, d)}
     * matrix, which the caller closes.
     *
     * @return the covariance
     */
    public NDArray covariance() {
        try (NDArray l = lower();
                NDArray lt = l.transpose()) {
            return l.matMul(lt);
        }
    }

    @Override
    public List<NDArray> arrays() {
        List<NDArray> all = new ArrayList<>(params.leaves());
        all.add(lFactor);
        optimState.slots().forEach(t -> all.addAll(t.leaves()));
        all.add(nelbo);
        return all;
    }
}
