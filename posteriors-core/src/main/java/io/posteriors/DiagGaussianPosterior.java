package io.posteriors;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * A Gaussian with a diagonal covariance: an implementation gives its mean and its variances, and
 * sampling, log densities and projections follow.
 */
public interface DiagGaussianPosterior extends GaussianPosterior {

    /**
     * Returns the variances at temperature 1, shaped like the mean; every entry positive for
     * sampling at a positive temperature and for log densities.
     *
     * @return a new tree
     */
    @Override
    TensorTree varianceDiag();

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
                    TensorTree sd = varianceDiag().map(v -> v.mul(temperature).sqrt());
                    return DiagNormal.sample(mean, sd, n);
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
                    TensorTree var = varianceDiag();
                    NDArray quad = null;
                    NDArray logDet = null;
                    for (String k : mean.names()) {
                        NDArray v = var.get(k).mul(temperature);
                        NDArray q = x.get(k).sub(mean.get(k)).square().div(v);
                        q = m < 0 ? q.sum() : q.reshape(m, -1).sum(new int[] {1});
                        quad = quad == null ? q : quad.add(q);
                        NDArray ld = v.log().sum();
                        logDet = logDet == null ? ld : logDet.add(ld);
                    }
                    double c = -0.5 * mean.numel() * Math.log(2 * Math.PI);
                    return quad.add(logDet)
                            .mul(Scalars.like(quad, -0.5))
                            .add(Scalars.like(quad, c));
                },
                List::of);
    }

    @Override
    default NDArray projectCovariance(NDArray jacobian) {
        TensorTree mean = mean();
        int[] t = GaussianPosterior.requireJacobian(jacobian, mean.numel());
        return Scopes.call(
                jacobian.getManager(),
                () -> {
                    NDArray v = varianceDiag().ravel().toType(jacobian.getDataType(), false);
                    return jacobian.mul(v).matMul(jacobian.transpose(t));
                },
                List::of);
    }
}
