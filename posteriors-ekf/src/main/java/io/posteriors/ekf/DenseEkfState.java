package io.posteriors.ekf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Checks;
import io.posteriors.State;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The state of {@link DenseEkf}: a Normal with a dense covariance over the raveled parameters,
 * posteriors' {@code EKFDenseState}.
 *
 * @param params the mean of the Normal
 * @param cov the covariance, P-by-P over the parameters raveled in {@link TensorTree#ravel()}
 *     order, with P = {@code params.numel()}
 * @param logLikelihood the log likelihood at the mean before the last update (for a per-sample log
 *     likelihood, the mean over the batch), a scalar array on the parameters' device; NaN after
 *     {@code init}
 * @param step the number of updates done
 */
public record DenseEkfState(TensorTree params, NDArray cov, NDArray logLikelihood, long step)
        implements State {

    /**
     * Checks the components.
     *
     * @throws NullPointerException when a component is null
     * @throws IllegalArgumentException when {@code cov} is not P-by-P or {@code step < 0}
     */
    public DenseEkfState {
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(cov, "cov");
        Objects.requireNonNull(logLikelihood, "logLikelihood");
        long p = params.numel();
        if (!cov.getShape().equals(new Shape(p, p))) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "cov must have shape (%d, %d) for %d parameters, got %s",
                            p, p, p, cov.getShape()));
        }
        if (step < 0) {
            throw new IllegalArgumentException("step must be non-negative, got " + step);
        }
    }

    /**
     * Returns the parameters' leaves, then the covariance, then the log likelihood.
     *
     * @return the arrays
     */
    @Override
    public List<NDArray> arrays() {
        List<NDArray> all = new ArrayList<>(params.leaves());
        all.add(cov);
        all.add(logLikelihood);
        return all;
    }
}
