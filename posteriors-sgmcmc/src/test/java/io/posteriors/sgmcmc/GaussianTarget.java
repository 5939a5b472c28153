package io.posteriors.sgmcmc;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.RealVector;
import org.apache.commons.math3.random.RandomGenerator;
import org.apache.commons.math3.random.Well19937c;

/**
 * posteriors' random Gaussian target ({@code tests/scenarios.py}): mean ~ N(0, I), covariance
 * {@code 0.3 S Sᵀ + 0.7 I} with standard normal {@code S}, drawn with Commons Math from a seed. Its
 * log density can be evaluated on a {@code (K, d)} array of K independent copies at once (the
 * block-diagonal target of dimension K d), and fitted Gaussians are compared with it in whitened
 * coordinates and by KL divergence, all in double precision with Commons Math.
 */
final class GaussianTarget {

    final int d;
    final RealVector mean;
    final RealMatrix cov;
    private final RealMatrix precision;
    private final RealMatrix cholInverse;

    GaussianTarget(int d, long seed) {
        this.d = d;
        RandomGenerator rng = new Well19937c(seed);
        double[] mu = new double[d];
        for (int i = 0; i < d; i++) {
            mu[i] = rng.nextGaussian();
        }
        double[][] s = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                s[i][j] = rng.nextGaussian();
            }
        }
        RealMatrix sm = new Array2DRowRealMatrix(s);
        this.mean = new ArrayRealVector(mu);
        this.cov =
                sm.multiply(sm.transpose())
                        .scalarMultiply(0.3)
                        .add(MatrixUtils.createRealIdentityMatrix(d).scalarMultiply(0.7));
        this.precision = new LUDecomposition(cov).getSolver().getInverse();
        RealMatrix l = new CholeskyDecomposition(cov).getL();
        this.cholInverse = new LUDecomposition(l).getSolver().getInverse();
    }

    /**
     * Returns the log density (up to a constant) of K independent copies held as a {@code (K, d)}
     * leaf named "x": {@code −½ Σ_k (x_k − μ)ᵀ Σ⁻¹ (x_k − μ)}.
     */
    LogProbFn<Void> logProb(NDManager m, DataType type) {
        NDArray mu = m.create(mean.toArray()).toType(type, false);
        NDArray prec = m.create(precision.getData()).toType(type, false);
        return (p, b) -> {
            NDArray diff = p.get("x").sub(mu);
            return LogProb.of(diff.matMul(prec).mul(diff).sum().mul(-0.5));
        };
    }

    /** Returns the largest eigenvalue of the covariance (it sets the chains' mixing time). */
    double largestVariance() {
        double[] ev =
                new org.apache.commons.math3.linear.EigenDecomposition(cov).getRealEigenvalues();
        double max = ev[0];
        for (double e : ev) {
            max = Math.max(max, e);
        }
        return max;
    }

    /** Returns L⁻¹ (m − μ), the mean error in whitened coordinates (Σ = L Lᵀ). */
    RealVector whitenedMean(RealVector m) {
        return cholInverse.operate(m.subtract(mean));
    }

    /** Returns L⁻¹ C L⁻ᵀ, a covariance in whitened coordinates (the identity for the target). */
    RealMatrix whitenedCov(RealMatrix c) {
        return cholInverse.multiply(c).multiply(cholInverse.transpose());
    }

    /** Returns KL(N(m, c) || target), posteriors' {@code kl_gaussians}. */
    double klFrom(RealVector m, RealMatrix c) {
        RealVector diff = mean.subtract(m);
        double trace = precision.multiply(c).getTrace();
        double quad = diff.dotProduct(precision.operate(diff));
        double logDetRatio =
                Math.log(new LUDecomposition(cov).getDeterminant())
                        - Math.log(new LUDecomposition(c).getDeterminant());
        return 0.5 * (trace + quad - d + logDetRatio);
    }
}
