package io.posteriors.ekf;

import ai.djl.ndarray.NDArray;
import io.posteriors.DiagGaussianPosterior;
import io.posteriors.State;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The state of {@link DiagEkf}: a diagonal Normal over the parameters, posteriors' {@code
 * EKFDiagState}. As a {@link DiagGaussianPosterior} it samples and scores {@code N(params, T
 * diag(sdDiag^2))}.
 *
 * @param params the mean of the Normal ({@link #mean()} returns it, not a copy)
 * @param sdDiag the standard deviations, with the structure of {@code params}
 * @param logLikelihood the log likelihood at the mean before the last update (for a per-sample log
 *     likelihood, the mean over the batch), a scalar array on the parameters' device; NaN after
 *     {@code init}
 * @param step the number of updates done
 */
public record DiagEkfState(TensorTree params, TensorTree sdDiag, NDArray logLikelihood, long step)
        implements State, DiagGaussianPosterior {

    /**
     * Checks the components.
     *
     * @throws NullPointerException when a component is null
     * @throws IllegalArgumentException when {@code sdDiag} has another structure than {@code
     *     params} or {@code step < 0}
     */
    public DiagEkfState {
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(sdDiag, "sdDiag");
        Objects.requireNonNull(logLikelihood, "logLikelihood");
        params.requireSameStructure(sdDiag, "sdDiag");
        if (step < 0) {
            throw new IllegalArgumentException("step must be non-negative, got " + step);
        }
    }

    @Override
    public DiagEkfState copy() {
        return new DiagEkfState(params.copy(), sdDiag.copy(), logLikelihood.duplicate(), step);
    }

    /**
     * Returns the parameters' leaves, then the standard deviations', then the log likelihood.
     *
     * @return the arrays
     */
    @Override
    public List<NDArray> arrays() {
        List<NDArray> all = new ArrayList<>(params.leaves());
        all.addAll(sdDiag.leaves());
        all.add(logLikelihood);
        return all;
    }

    @Override
    public TensorTree mean() {
        return params;
    }

    /**
     * Returns the variances {@code sdDiag^2}.
     *
     * @return a new tree shaped like the parameters
     */
    @Override
    public TensorTree varianceDiag() {
        return sdDiag.map(NDArray::square);
    }
}
