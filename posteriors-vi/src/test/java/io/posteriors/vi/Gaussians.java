package io.posteriors.vi;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.DiagNormal;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.TensorTree;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.RealVector;

/**
 * Gaussian targets with known moments for the VI tests, and the closed forms the tests compare
 * against (computed on the host with Commons Math, independently of the code under test).
 */
final class Gaussians {

    private Gaussians() {}

    /**
     * A diagonal Gaussian target over the tree {@code {a: (2, 1), b: (1, 1)}}.
     *
     * @param mean the target means
     * @param sd the target standard deviations
     */
    record DiagTarget(TensorTree mean, TensorTree sd) {}

    /**
     * A dense Gaussian target over the raveled parameters.
     *
     * @param mean the mean on the device
     * @param precision the inverse covariance on the device
     * @param meanHost the mean
     * @param covHost the covariance
     */
    record DenseTarget(NDArray mean, NDArray precision, double[] meanHost, double[][] covHost) {

        /** Returns log det(2 pi Sigma) / 2, the normalising constant. */
        double halfLogDet2PiCov() {
            double det =
                    new LUDecomposition(MatrixUtils.createRealMatrix(covHost)).getDeterminant();
            return 0.5 * (Math.log(det) + meanHost.length * Math.log(2 * Math.PI));
        }
    }

    /** Returns a float64 tree {@code {a: (2, 1), b: (1, 1)}} with these values. */
    static TensorTree tree(NDManager m, double a0, double a1, double b0) {
        Map<String, NDArray> map = new LinkedHashMap<>();
        map.put("a", m.create(new double[] {a0, a1}, new Shape(2, 1)));
        map.put("b", m.create(new double[] {b0}, new Shape(1, 1)));
        return TensorTree.of(map);
    }

    /** Returns a float64 tree {@code {a: (2), b: (1)}} with these values, for dense tests. */
    static TensorTree vectorTree(NDManager m, double... v) {
        Map<String, NDArray> map = new LinkedHashMap<>();
        if (v.length == 2) {
            map.put("a", m.create(new double[] {v[0]}));
            map.put("b", m.create(new double[] {v[1]}));
        } else {
            map.put("a", m.create(new double[] {v[0], v[1]}));
            map.put("b", m.create(new double[] {v[2]}));
        }
        return TensorTree.of(map);
    }

    /**
     * Returns the normalised log density of the diagonal target, with the aux {@code 2 * a}.
     *
     * @return the log density, batch = the target
     */
    static LogProbFn<DiagTarget> diagLogProb() {
        return (p, t) ->
                LogProb.of(DiagNormal.logProb(p, t.mean(), t.sd(), true), p.get("a").mul(2));
    }

    /** Builds a dense target with this mean and covariance. */
    static DenseTarget denseTarget(NDManager m, double[] mean, double[][] cov) {
        RealMatrix p =
                new LUDecomposition(MatrixUtils.createRealMatrix(cov)).getSolver().getInverse();
        return new DenseTarget(m.create(mean), m.create(p.getData()), mean, cov);
    }

    /**
     * Returns the normalised log density of the dense target over the raveled parameters, written
     * with plain array operations (quadratic form with the precision), with the aux {@code 2 *
     * theta}.
     */
    static LogProbFn<DenseTarget> denseLogProb() {
        return (p, t) -> {
            int d = t.meanHost().length;
            NDArray diff = p.ravel().sub(t.mean()).reshape(1, d);
            NDArray quad = diff.matMul(t.precision()).matMul(diff.transpose()).reshape(new Shape());
            return LogProb.of(quad.mul(-0.5).sub(t.halfLogDet2PiCov()), p.ravel().mul(2));
        };
    }

    /** Returns the elements of an array as doubles. */
    static double[] values(NDArray a) {
        try (NDArray d = a.toType(DataType.FLOAT64, true)) {
            return d.toDoubleArray();
        }
    }

    /** Returns the raveled elements of a tree as doubles. */
    static double[] values(TensorTree t) {
        try (NDArray r = t.ravel()) {
            return values(r);
        }
    }

    /** Returns KL(N(mq, diag sq^2) || N(mp, diag sp^2)). */
    static double klDiag(double[] mq, double[] sq, double[] mp, double[] sp) {
        double kl = 0;
        for (int i = 0; i < mq.length; i++) {
            double r = sq[i] / sp[i];
            double a = (mq[i] - mp[i]) / sp[i];
            kl += 0.5 * (r * r + a * a - 1) - Math.log(r);
        }
        return kl;
    }

    /**
     * Returns the variance of {@code log p(theta) - log q(theta)} for {@code theta ~ q}, diagonal
     * case: per dimension it is {@code -a r eps + (1 - r^2) eps^2 / 2 + const} with {@code r =
     * sq/sp}, {@code a = (mq - mp)/sp}, so its variance is {@code a^2 r^2 + (1 - r^2)^2 / 2}.
     */
    static double logRatioVarianceDiag(double[] mq, double[] sq, double[] mp, double[] sp) {
        double v = 0;
        for (int i = 0; i < mq.length; i++) {
            double r = sq[i] / sp[i];
            double a = (mq[i] - mp[i]) / sp[i];
            v += a * a * r * r + 0.5 * (1 - r * r) * (1 - r * r);
        }
        return v;
    }

    /** Returns KL(N(mq, Sq) || N(mp, Sp)). */
    static double klDense(double[] mq, double[][] covQ, double[] mp, double[][] covP) {
        RealMatrix sq = MatrixUtils.createRealMatrix(covQ);
        RealMatrix sp = MatrixUtils.createRealMatrix(covP);
        RealMatrix pInv = new LUDecomposition(sp).getSolver().getInverse();
        RealVector diff = new ArrayRealVector(mp).subtract(new ArrayRealVector(mq));
        int d = mq.length;
        double logDetP = Math.log(new LUDecomposition(sp).getDeterminant());
        double logDetQ = Math.log(new LUDecomposition(sq).getDeterminant());
        return 0.5
                * (pInv.multiply(sq).getTrace()
                        + diff.dotProduct(pInv.operate(diff))
                        - d
                        + logDetP
                        - logDetQ);
    }

    /**
     * Returns the variance of {@code log p(theta) - log q(theta)} for {@code theta = mq + Lq eps ~
     * q}, dense case: with {@code A = Lp^-1 Lq} and {@code b = Lp^-1 (mq - mp)} it is {@code const
     * - b^T A eps - eps^T (A^T A - I) eps / 2}, whose variance is {@code |A^T b|^2 + tr((A^T A -
     * I)^2) / 2} (odd moments of eps vanish, and {@code Var(eps^T M eps) = 2 tr(M^2)}).
     */
    static double logRatioVarianceDense(
            double[] mq, double[][] covQ, double[] mp, double[][] covP) {
        RealMatrix lq = new CholeskyDecomposition(MatrixUtils.createRealMatrix(covQ)).getL();
        RealMatrix lp = new CholeskyDecomposition(MatrixUtils.createRealMatrix(covP)).getL();
        RealMatrix lpInv = new LUDecomposition(lp).getSolver().getInverse();
        RealMatrix a = lpInv.multiply(lq);
        RealVector b = lpInv.operate(new ArrayRealVector(mq).subtract(new ArrayRealVector(mp)));
        RealVector atb = a.transpose().operate(b);
        RealMatrix m =
                a.transpose().multiply(a).subtract(MatrixUtils.createRealIdentityMatrix(mq.length));
        return atb.dotProduct(atb) + 0.5 * m.multiply(m).getTrace();
    }

    /** Returns a host matrix from a (d, d) array. */
    static double[][] matrix(NDArray a) {
        int d = (int) a.getShape().get(0);
        double[] v = values(a);
        double[][] out = new double[d][d];
        for (int i = 0; i < d; i++) {
            System.arraycopy(v, i * d, out[i], 0, d);
        }
        return out;
    }

    /** Returns L L^T for a host lower-triangular L. */
    static double[][] llt(double[][] l) {
        RealMatrix m = new Array2DRowRealMatrix(l);
        return m.multiply(m.transpose()).getData();
    }
}
