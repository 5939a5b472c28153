package io.posteriors.ekf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Checks;
import io.posteriors.DenseGaussianPosterior;
import io.posteriors.GaussianPosterior;
import io.posteriors.Linalg;
import io.posteriors.Scalars;
import io.posteriors.Scopes;
import io.posteriors.State;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The state of {@link DenseEkf}: a Normal with a dense covariance over the raveled parameters,
 * posteriors' {@code EKFDenseState}. As a {@link DenseGaussianPosterior} it samples and scores
 * {@code N(params, T cov)}. The filter's covariance may be singular (a direction the data pinned
 * down exactly): sampling, variances and projections read {@code cov} directly and accept that;
 * only {@link #covarianceCholesky()} and {@link #logProb} need it positive definite.
 *
 * @param params the mean of the Normal ({@link #mean()} returns it, not a copy)
 * @param cov the covariance, P-by-P over the parameters raveled in {@link TensorTree#ravel()}
 *     order, with P = {@code params.numel()}
 * @param logLikelihood the log likelihood at the mean before the last update (for a per-sample log
 *     likelihood, the mean over the batch), a scalar array on the parameters' device; NaN after
 *     {@code init}
 * @param step the number of updates done
 */
public record DenseEkfState(TensorTree params, NDArray cov, NDArray logLikelihood, long step)
        implements State, DenseGaussianPosterior {

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

    @Override
    public DenseEkfState copy() {
        return new DenseEkfState(params.copy(), cov.duplicate(), logLikelihood.duplicate(), step);
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

    @Override
    public TensorTree mean() {
        return params;
    }

    /**
     * Returns a copy of the covariance.
     *
     * @return a new {@code (P, P)} array
     */
    @Override
    public NDArray covariance() {
        return cov.duplicate();
    }

    /**
     * Returns the lower Cholesky factor of the (symmetrised) covariance.
     *
     * @return a new {@code (P, P)} array
     * @throws IllegalArgumentException when the covariance is not positive definite
     */
    @Override
    public NDArray covarianceCholesky() {
        Checks.open(cov, "cov");
        return Scopes.one(
                () -> {
                    try {
                        return Linalg.cholesky(cov.add(cov.transpose()).muli(0.5));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException(
                                "cov must be positive definite for a Cholesky factor: "
                                        + e.getMessage(),
                                e);
                    }
                });
    }

    /**
     * Returns the diagonal of the covariance, shaped like the parameters.
     *
     * @return a new tree
     */
    @Override
    public TensorTree varianceDiag() {
        Checks.open(cov, "cov");
        long p = params.numel();
        return Scopes.call(
                params.manager(),
                () -> params.unravel(cov.mul(eye(p)).sum(new int[] {1})),
                TensorTree::leaves);
    }

    @Override
    public NDArray projectCovariance(NDArray jacobian) {
        GaussianPosterior.requireJacobian(jacobian, params.numel());
        Checks.open(cov, "cov");
        return Scopes.call(
                jacobian.getManager(),
                () -> {
                    NDArray c = cov.toType(jacobian.getDataType(), false);
                    return jacobian.matMul(c).matMul(jacobian.transpose());
                },
                List::of);
    }

    /**
     * Draws {@code n} samples {@code mean + sqrt(T) R z}, z standard Normal from the engine's
     * generator, with the symmetric square root {@code R = V diag(sqrt(w))} of {@code cov = V
     * diag(w) V^T}, which, unlike a Cholesky factor, also serves a singular covariance.
     *
     * @param n the number of samples; at least 1
     * @param temperature the temperature {@code T}; non-negative and finite ({@code 0} repeats the
     *     mean)
     * @return a new tree whose leaves have shape {@code (n, *leaf shape)}
     * @throws IllegalArgumentException when {@code n < 1}, the temperature is out of range, or the
     *     covariance is not positive semi-definite
     */
    @Override
    public TensorTree sample(int n, double temperature) {
        Checks.atLeast(n, 1, "n");
        Checks.nonNegative(temperature, "temperature");
        if (temperature == 0) {
            return GaussianPosterior.repeat(params, n);
        }
        Checks.open(cov, "cov");
        return Scopes.call(
                params.manager(),
                () -> {
                    NDList eig = Linalg.eigh(cov.add(cov.transpose()).muli(0.5));
                    double min = Scalars.value(eig.get(0).min());
                    double max = Scalars.value(eig.get(0).max());
                    // rounding leaves eigenvalues of a semi-definite matrix at about -eps * max
                    double eps = cov.getDataType() == DataType.FLOAT64 ? 1e-12 : 1e-5;
                    if (!(min >= -eps * Math.abs(max))) {
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "cannot sample: cov must be positive semi-definite, got"
                                                + " smallest eigenvalue %s (largest %s)",
                                        min, max));
                    }
                    NDArray root = eig.get(1).mul(eig.get(0).maximum(0).mul(temperature).sqrt());
                    NDArray z =
                            cov.getManager()
                                    .randomNormal(
                                            0,
                                            1,
                                            new Shape(n, params.numel()),
                                            cov.getDataType(),
                                            cov.getDevice());
                    NDArray rows = z.matMul(root.transpose()).add(params.ravel());
                    return DenseGaussianPosterior.unravelRows(params, rows);
                },
                TensorTree::leaves);
    }

    private NDArray eye(long p) {
        return cov.getManager()
                .eye((int) p, (int) p, 0, cov.getDataType())
                .toDevice(cov.getDevice(), false);
    }
}
