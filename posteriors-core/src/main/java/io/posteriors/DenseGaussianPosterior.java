package io.posteriors;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * A Gaussian with a dense covariance over the flattened parameters: an implementation gives its
 * mean and a lower Cholesky factor {@code L} of the covariance ({@code Σ = L Lᵀ}), and sampling,
 * log densities, variances and projections follow.
 */
public interface DenseGaussianPosterior extends GaussianPosterior {

    /**
     * Returns the lower-triangular Cholesky factor {@code L} of the covariance at temperature 1,
     * {@code (P, P)} over the flattened parameters (in {@link TensorTree#ravel()} order), with a
     * positive diagonal.
     *
     * @return a new array
     * @throws IllegalArgumentException when the covariance is not positive definite
     */
    NDArray covarianceCholesky();

    /**
     * Returns the covariance {@code Σ = L Lᵀ} at temperature 1, {@code (P, P)}.
     *
     * @return a new array
     */
    default NDArray covariance() {
        return Scopes.one(
                () -> {
                    NDArray l = covarianceCholesky();
                    return l.matMul(l.transpose());
                });
    }

    @Override
    default TensorTree sample(int n, double temperature) {
        Checks.atLeast(n, 1, "n");
        Checks.nonNegative(temperature, "temperature");
        TensorTree mean = mean();
        if (temperature == 0) {
            return GaussianPosterior.repeat(mean, n);
        }
        return Scopes.call(
                mean.manager(),
                () -> {
                    NDArray l = covarianceCholesky().mul(Math.sqrt(temperature));
                    NDArray flat = DenseNormal.sample(mean.ravel(), l, n);
                    return unravelRows(mean, flat);
                },
                TensorTree::leaves);
    }

    @Override
    default NDArray logProb(TensorTree x, double temperature) {
        Checks.positive(temperature, "temperature");
        TensorTree mean = mean();
        long m = GaussianPosterior.pointCount(mean, x);
        return Scopes.call(
                x.manager(),
                () -> {
                    NDArray l = covarianceCholesky().mul(Math.sqrt(temperature));
                    NDArray flat = m < 0 ? x.ravel() : x.ravelBatched(m);
                    return DenseNormal.logProb(flat, mean.ravel(), l);
                },
                List::of);
    }

    @Override
    default TensorTree varianceDiag() {
        TensorTree mean = mean();
        return Scopes.call(
                mean.manager(),
                () -> mean.unravel(covarianceCholesky().square().sum(new int[] {1})),
                TensorTree::leaves);
    }

    @Override
    default NDArray projectCovariance(NDArray jacobian) {
        TensorTree mean = mean();
        int[] t = GaussianPosterior.requireJacobian(jacobian, mean.numel());
        return Scopes.call(
                jacobian.getManager(),
                () -> {
                    NDArray jl =
                            jacobian.matMul(
                                    covarianceCholesky().toType(jacobian.getDataType(), false));
                    return jl.matMul(jl.transpose(t));
                },
                List::of);
    }

    /**
     * Splits {@code (n, P)} rows into a tree of {@code (n, *leaf shape)} leaves.
     *
     * @param template the tree whose names and shapes to follow
     * @param rows the rows
     * @return a new tree
     */
    static TensorTree unravelRows(TensorTree template, NDArray rows) {
        long n = rows.getShape().get(0);
        java.util.Map<String, NDArray> out = new java.util.LinkedHashMap<>();
        long offset = 0;
        for (String k : template.names()) {
            NDArray leaf = template.get(k);
            long size = leaf.size();
            out.put(
                    k,
                    rows.get(new ai.djl.ndarray.index.NDIndex(":, {}:{}", offset, offset + size))
                            .reshape(new ai.djl.ndarray.types.Shape(n).addAll(leaf.getShape())));
            offset += size;
        }
        return TensorTree.of(out);
    }
}
