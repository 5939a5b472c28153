package io.posteriors.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.GaussianPosterior;
import io.posteriors.TensorTree;
import org.apache.commons.math3.distribution.MultivariateNormalDistribution;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every Gaussian posterior must have, checked against Commons Math: its covariance is
 * read through {@link GaussianPosterior#projectCovariance} with {@code J = I}, and then
 *
 * <ul>
 *   <li>{@code varianceDiag} is that covariance's diagonal;
 *   <li>{@code logProb(x, T)} is the log density of {@code N(mean, T Σ)} from Commons Math, for one
 *       point and for stacked points;
 *   <li>samples at temperature {@code T} have mean {@code mean} and covariance {@code T Σ}, within
 *       five Monte Carlo standard errors;
 *   <li>samples at temperature 0 are the mean;
 *   <li>none of these leaves an array on the manager.
 * </ul>
 *
 * <p>The posterior under test should be small (a handful of parameters) and in float64.
 *
 * @param <P> the posterior type
 */
public interface GaussianPosteriorContract<P extends GaussianPosterior> {

    /**
     * Returns the posterior under test, with every array on {@code manager}.
     *
     * @param manager the manager the test uses
     * @return the posterior
     */
    P posterior(NDManager manager);

    /** Reads the covariance through J = I and compares its diagonal with varianceDiag. */
    @Test
    default void gaussian_varianceDiag_isDiagonalOfCovariance() {
        try (NDManager m = NDManager.newBaseManager()) {
            P post = posterior(m);
            double[][] cov = covariance(m, post);
            double[] var;
            try (TensorTree v = post.varianceDiag();
                    NDArray flat = v.ravel()) {
                var = flat.toType(DataType.FLOAT64, false).toDoubleArray();
            }
            assertEquals(cov.length, var.length);
            for (int i = 0; i < var.length; i++) {
                assertEquals(
                        cov[i][i], var[i], 1e-9 * Math.max(1, Math.abs(cov[i][i])), "var " + i);
            }
        }
    }

    /** Compares the log density at one and at stacked points with Commons Math. */
    @Test
    default void gaussian_logProb_matchesCommonsMath() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(5);
            P post = posterior(m);
            double[][] cov = covariance(m, post);
            double[] mu = post.mean().ravel().toType(DataType.FLOAT64, false).toDoubleArray();
            double t = 0.7;
            RealMatrix c = new Array2DRowRealMatrix(cov).scalarMultiply(t);
            MultivariateNormalDistribution ref =
                    new MultivariateNormalDistribution(mu, c.getData());
            TensorTree xs = post.sample(3, 2.0);
            double[] got = post.logProb(xs, t).toType(DataType.FLOAT64, false).toDoubleArray();
            double[][] rows = new double[3][];
            for (int i = 0; i < 3; i++) {
                final int row = i;
                TensorTree one = xs.map(a -> a.get(row));
                rows[i] = one.ravel().toType(DataType.FLOAT64, false).toDoubleArray();
                double single = post.logProb(one, t).toType(DataType.FLOAT64, false).getDouble();
                double want = Math.log(ref.density(rows[i]));
                assertEquals(want, single, 1e-8 * Math.max(1, Math.abs(want)), "point " + i);
                assertEquals(want, got[i], 1e-8 * Math.max(1, Math.abs(want)), "stacked " + i);
            }
        }
    }

    /** Checks sample moments against the mean and T times the covariance. */
    @Test
    default void gaussian_sample_hasMeanAndTemperedCovariance() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(7);
            P post = posterior(m);
            double[][] cov = covariance(m, post);
            double[] mu = post.mean().ravel().toType(DataType.FLOAT64, false).toDoubleArray();
            int n = 20_000;
            double t = 0.5;
            double[] flat =
                    post.sample(n, t)
                            .ravelBatched(n)
                            .toType(DataType.FLOAT64, false)
                            .toDoubleArray();
            int p = mu.length;
            assertEquals((long) n * p, flat.length);
            for (int i = 0; i < p; i++) {
                double mean = 0;
                for (int s = 0; s < n; s++) {
                    mean += flat[s * p + i];
                }
                mean /= n;
                double var = t * cov[i][i];
                double se = Math.sqrt(var / n);
                assertEquals(mu[i], mean, 5 * se + 1e-12, "sample mean " + i);
                for (int j = 0; j <= i; j++) {
                    double cij = 0;
                    for (int s = 0; s < n; s++) {
                        cij += (flat[s * p + i] - mu[i]) * (flat[s * p + j] - mu[j]);
                    }
                    cij /= n;
                    // the variance of a product of two centred Gaussians: s_ii s_jj + s_ij^2
                    double sij = t * cov[i][j];
                    double seC = Math.sqrt((t * cov[i][i] * t * cov[j][j] + sij * sij) / n);
                    assertEquals(sij, cij, 5 * seC + 1e-12, "sample covariance " + i + "," + j);
                }
            }
        }
    }

    /** Checks that temperature 0 gives the mean n times. */
    @Test
    default void gaussian_sampleAtTemperatureZero_isTheMean() {
        try (NDManager m = NDManager.newBaseManager()) {
            P post = posterior(m);
            TensorTree s = post.sample(2, 0.0);
            for (String k : post.mean().names()) {
                assertTrue(s.get(k).get(0).allClose(post.mean().get(k), 0, 0, false), k);
                assertTrue(s.get(k).get(1).allClose(post.mean().get(k), 0, 0, false), k);
            }
        }
    }

    /** Checks that sampling, log densities and projections close their temporaries. */
    @Test
    default void gaussian_calls_leakNoArray() {
        try (NDManager m = NDManager.newBaseManager()) {
            P post = posterior(m);
            long p = post.mean().numel();
            NDArray eye = m.eye((int) p).toType(post.mean().dataType(), false);
            // warm up: lazily created constants are not leaks
            post.sample(2, 1.0).close();
            int before = m.getManagedArrays().size();
            TensorTree s = post.sample(2, 1.0);
            post.logProb(s, 1.0).close();
            s.close();
            post.varianceDiag().close();
            post.projectCovariance(eye).close();
            assertEquals(before, m.getManagedArrays().size(), "arrays leaked");
        }
    }

    private static double[][] covariance(NDManager m, GaussianPosterior post) {
        long p = post.mean().numel();
        try (NDArray eye = m.eye((int) p).toType(post.mean().dataType(), false);
                NDArray c = post.projectCovariance(eye)) {
            double[] flat = c.toType(DataType.FLOAT64, false).toDoubleArray();
            double[][] out = new double[(int) p][(int) p];
            for (int i = 0; i < p; i++) {
                System.arraycopy(flat, (int) (i * p), out[i], 0, (int) p);
            }
            return out;
        }
    }
}
