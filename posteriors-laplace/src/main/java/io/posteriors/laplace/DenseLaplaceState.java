package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Checks;
import io.posteriors.State;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The state of the dense Laplace approximations ({@link DenseFisher}, {@link DenseGgn}, {@link
 * DenseHessian}): a Normal distribution over the parameters with mean {@code params} and a dense
 * precision matrix {@code prec}, posteriors' {@code DenseLaplaceState}.
 *
 * <p>The matrix is indexed by the raveled parameters ({@link TensorTree#ravel()} order: the leaves
 * in tree order, each flattened row-major). The covariance at temperature T is {@code T prec^-1};
 * see {@link DenseGgn#sample(DenseLaplaceState, int, double)} and {@link
 * DenseGgn#logProb(DenseLaplaceState, TensorTree, double)}.
 *
 * @param params the mean of the Normal distribution (the MAP the approximation is built around)
 * @param prec the precision matrix, shape {@code (P, P)} with P the number of parameters
 * @param step the number of batches accumulated so far
 */
public record DenseLaplaceState(TensorTree params, NDArray prec, long step) implements State {

    /**
     * Checks the components.
     *
     * @throws NullPointerException when a component is null
     * @throws IllegalArgumentException when {@code prec} is not a {@code (P, P)} matrix for the P
     *     elements of {@code params}, or {@code step < 0}
     */
    public DenseLaplaceState {
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(prec, "prec");
        long p = params.numel();
        if (!prec.getShape().equals(new Shape(p, p))) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "prec must have shape (%d, %d) for the %d parameters, got %s",
                            p, p, p, prec.getShape()));
        }
        Checks.atLeast(step, 0L, "step");
    }

    /**
     * Returns the parameters' leaves followed by the precision matrix.
     *
     * @return the arrays
     */
    @Override
    public List<NDArray> arrays() {
        List<NDArray> all = new ArrayList<>(params.leaves());
        all.add(prec);
        return all;
    }
}
