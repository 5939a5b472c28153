package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import io.posteriors.Checks;
import io.posteriors.State;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The state of the diagonal Laplace approximations ({@link DiagFisher}, {@link DiagGgn}): a Normal
 * distribution over the parameters with mean {@code params} and a diagonal precision {@code
 * precDiag}, posteriors' {@code DiagLaplaceState}.
 *
 * <p>The covariance at temperature T is {@code T / precDiag}, element by element; see {@link
 * DiagFisher#sample(DiagLaplaceState, int, double)} and {@link DiagFisher#logProb(DiagLaplaceState,
 * TensorTree, double)}.
 *
 * @param params the mean of the Normal distribution (the MAP the approximation is built around)
 * @param precDiag the diagonal of the precision, with the structure of {@code params}
 * @param step the number of batches accumulated so far
 */
public record DiagLaplaceState(TensorTree params, TensorTree precDiag, long step) implements State {

    /**
     * Checks the components.
     *
     * @throws NullPointerException when a component is null
     * @throws IllegalArgumentException when {@code precDiag} does not have the structure of {@code
     *     params} or {@code step < 0}
     */
    public DiagLaplaceState {
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(precDiag, "precDiag");
        params.requireSameStructure(precDiag, "precDiag");
        Checks.atLeast(step, 0L, "step");
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
}
