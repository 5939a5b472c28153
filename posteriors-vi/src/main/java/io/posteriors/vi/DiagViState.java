package io.posteriors.vi;

import ai.djl.ndarray.NDArray;
import io.posteriors.DiagGaussianPosterior;
import io.posteriors.Scopes;
import io.posteriors.State;
import io.posteriors.TensorTree;
import io.posteriors.optim.OptimState;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The state of {@link DiagVi}: the diagonal Normal {@code q(theta) = N(params, diag(exp(2
 * logSdDiag)))}, the optimiser state of its variational parameters, the last NELBO and the step:
 * posteriors' {@code VIDiagState}.
 *
 * <p>As a {@link DiagGaussianPosterior} its mean is {@code params} and its variances are {@code
 * exp(2 logSdDiag)}, so {@code state.sample(n, temperature)} and {@code state.logProb(x)} read q
 * (posteriors' {@code vi.diag.sample}).
 *
 * @param params the mean of q
 * @param logSdDiag the log standard deviations of q, with the structure of {@code params}
 * @param optimState the optimiser's slots, over the tree of variational parameters (leaves {@code
 *     mean/NAME} then {@code logSd/NAME})
 * @param nelbo the Monte Carlo NELBO estimated during the last update (a scalar array on the
 *     parameters' device; NaN after {@code init})
 * @param step the number of updates done
 */
public record DiagViState(
        TensorTree params, TensorTree logSdDiag, OptimState optimState, NDArray nelbo, long step)
        implements State, DiagGaussianPosterior {

    /**
     * Checks the components.
     *
     * @throws NullPointerException when a component is null
     * @throws IllegalArgumentException when {@code logSdDiag} has another structure than {@code
     *     params} or {@code step < 0}
     */
    public DiagViState {
        Objects.requireNonNull(params, "params");
        params.requireSameStructure(logSdDiag, "logSdDiag");
        Objects.requireNonNull(optimState, "optimState");
        Objects.requireNonNull(nelbo, "nelbo");
        if (step < 0) {
            throw new IllegalArgumentException("step must be non-negative, got " + step);
        }
    }

    /**
     * Returns the standard deviations {@code exp(logSdDiag)} as new arrays, which the caller
     * closes.
     *
     * @return the standard deviations, with the structure of {@code params}
     */
    public TensorTree sdDiag() {
        return logSdDiag.map(NDArray::exp);
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
     * Returns the variances {@code exp(2 logSdDiag)} of q as new arrays, which the caller closes.
     *
     * @return the variances, with the structure of {@code params}
     */
    @Override
    public TensorTree varianceDiag() {
        // a + a rather than 2 * a: a number operand would promote a 0-d float32 leaf to float64
        return Scopes.tree(() -> logSdDiag.map(a -> a.add(a).exp()));
    }

    @Override
    public DiagViState copy() {
        return new DiagViState(
                params.copy(), logSdDiag.copy(), optimState.copy(), nelbo.duplicate(), step);
    }

    @Override
    public List<NDArray> arrays() {
        List<NDArray> all = new ArrayList<>(params.leaves());
        all.addAll(logSdDiag.leaves());
        optimState.slots().forEach(t -> all.addAll(t.leaves()));
        all.add(nelbo);
        return all;
    }
}
