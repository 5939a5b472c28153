package io.posteriors.ekf;

import static io.posteriors.ekf.EmpiricalRecursionTest.flat;
import static io.posteriors.ekf.EmpiricalRecursionTest.flatten;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.posteriors.ForwardFn;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.ModelOutput;
import io.posteriors.OuterFn;
import io.posteriors.TensorTree;
import java.util.List;
import java.util.Random;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.RealVector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * With the GGN curvature and lr = 1, {@link DenseEkf} on a linear-Gaussian model is the Kalman
 * filter. The state theta (3) follows a random walk with covariance Q; each step observes y = H_t
 * theta + v, v ~ N(0, R), through a new random 2-by-3 H_t. The reference is the textbook Kalman
 * filter in Commons Math matrices: predict P + Q, then K = P H^T (H P H^T + R)^-1, x + K (y - H x)
 * and (I - K H) P. (Commons Math's own {@code KalmanFilter} cannot serve: it fixes H at
 * construction and its Cholesky step rejects H P H^T + R for rounding-level asymmetry.)
 *
 * <p>Each step's data is a single observation (two correlated coordinates), not a batch of
 * independent samples along dimension 0, so it must not be split into rows: the log likelihood
 * returns it as a vector of length 1 with {@code perSample(true)}, or (first test) as a scalar with
 * a splitter that keeps the batch whole, {@code batchSplitter(List::of)}. Either way n = 1 and lr =
 * 1 weighs the observation once.
 */
class KalmanEquivalenceTest {

    private static final int STEPS = 60;
    private static final double REL_TOL = 1e-6;
    private static final double[][] R = {{0.5, 0.1}, {0.1, 0.3}};

    /** A step's data: H_t (2, 3), the observation (2), and their host copies. */
    record Obs(NDArray h, NDArray y, NDArray rInv, double[][] hs, double[] ys) {}

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    @Test
    void denseEkf_ggnLr1_equalsKalmanFilter_scalarTransition() {
        double q = 0.05;
        runAgainstKalman(
                DenseEkf.builder(scalarLogLik(), 1.0)
                        .batchSplitter(List::of)
                        .ggn(forward(), outer())
                        .transitionCov(q),
                MatrixUtils.createRealIdentityMatrix(3).scalarMultiply(q),
                11);
    }

    @Test
    void denseEkf_ggnLr1_equalsKalmanFilter_matrixTransition() {
        double[][] q = {{0.04, 0.01, 0.0}, {0.01, 0.02, -0.005}, {0.0, -0.005, 0.03}};
        runAgainstKalman(
                DenseEkf.builder(logLik(), 1.0)
                        .perSample(true)
                        .ggn(forward(), outer())
                        .transitionCov(manager.create(q)),
                new Array2DRowRealMatrix(q),
                12);
    }

    @Test
    void denseEkf_ggnLr1_equalsKalmanFilter_noTransition() {
        runAgainstKalman(
                DenseEkf.builder(logLik(), 1.0).perSample(true).ggn(forward(), outer()),
                new Array2DRowRealMatrix(3, 3),
                13);
    }

    private void runAgainstKalman(DenseEkf.Builder<Obs> builder, RealMatrix q, long seed) {
        double[][] p0 = {{2.0, 0.3, 0.0}, {0.3, 1.0, 0.2}, {0.0, 0.2, 1.5}};
        double[] x0 = {0.5, -1.0, 0.25};
        DenseEkf<Obs> ekf = builder.initCov(manager.create(p0)).build();
        DenseEkfState state = ekf.init(TensorTree.of("theta", manager.create(x0)));
        RealVector x = new ArrayRealVector(x0);
        RealMatrix p = new Array2DRowRealMatrix(p0);
        RealMatrix r = new Array2DRowRealMatrix(R);
        RealMatrix identity = MatrixUtils.createRealIdentityMatrix(3);
        double[] truth = {1.0, 0.0, -1.0};
        Random rng = new Random(seed);
        for (int step = 0; step < STEPS; step++) {
            for (int i = 0; i < 3; i++) {
                truth[i] += 0.2 * rng.nextGaussian();
            }
            Obs obs = observe(truth, rng);
            RealMatrix h = new Array2DRowRealMatrix(obs.hs());
            p = p.add(q);
            RealMatrix s = h.multiply(p).multiply(h.transpose()).add(r);
            RealMatrix gain =
                    p.multiply(h.transpose())
                            .multiply(new LUDecomposition(s).getSolver().getInverse());
            x = x.add(gain.operate(new ArrayRealVector(obs.ys()).subtract(h.operate(x))));
            p = identity.subtract(gain.multiply(h)).multiply(p);

            var next = ekf.updateInPlace(state, obs);
            next.aux().close();
            state = next.state();
            assertRelClose(x.toArray(), flat(state.params()), "mean at step " + step);
            assertRelClose(
                    flatten(p.getData()), state.cov().toDoubleArray(), "cov at step " + step);
        }
    }

    private Obs observe(double[] truth, Random rng) {
        double[][] h = new double[2][3];
        for (double[] row : h) {
            for (int j = 0; j < 3; j++) {
                row[j] = rng.nextGaussian();
            }
        }
        // v ~ N(0, R) through the Cholesky factor of R
        double l00 = Math.sqrt(R[0][0]);
        double l10 = R[1][0] / l00;
        double l11 = Math.sqrt(R[1][1] - l10 * l10);
        double z0 = rng.nextGaussian();
        double z1 = rng.nextGaussian();
        double[] y = {
            h[0][0] * truth[0] + h[0][1] * truth[1] + h[0][2] * truth[2] + l00 * z0,
            h[1][0] * truth[0] + h[1][1] * truth[1] + h[1][2] * truth[2] + l10 * z0 + l11 * z1
        };
        double[][] rInv = MatrixUtils.inverse(new Array2DRowRealMatrix(R)).getData();
        return new Obs(manager.create(h), manager.create(y), manager.create(rInv), h, y);
    }

    /** H theta, one output per observed coordinate. */
    private static ForwardFn<Obs> forward() {
        return (p, b) -> ModelOutput.of(b.h().matMul(p.get("theta").reshape(3, 1)).reshape(2));
    }

    /** log N(y | o, R) up to a constant: -(y - o)^T R^-1 (y - o) / 2. */
    private static OuterFn<Obs> outer() {
        return (o, b) -> {
            NDArray e = b.y().sub(o).reshape(2, 1);
            return e.transpose().matMul(b.rInv()).matMul(e).reshape().mul(-0.5);
        };
    }

    /** The observation's log likelihood, a scalar. */
    private static LogProbFn<Obs> scalarLogLik() {
        ForwardFn<Obs> f = forward();
        OuterFn<Obs> o = outer();
        return (p, b) -> LogProb.of(o.apply(f.apply(p, b).output(), b));
    }

    /** The observation's log likelihood as a per-sample vector of length 1. */
    private static LogProbFn<Obs> logLik() {
        LogProbFn<Obs> scalar = scalarLogLik();
        return (p, b) -> LogProb.of(scalar.apply(p, b).value().reshape(1));
    }

    /** Entrywise within REL_TOL of the reference's largest entry (off-diagonals may be ~0). */
    private static void assertRelClose(double[] expected, double[] actual, String what) {
        double scale = 0;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            assertTrue(
                    Math.abs(expected[i] - actual[i]) <= REL_TOL * scale,
                    what + ": entry " + i + " expected " + expected[i] + ", got " + actual[i]);
        }
    }
}
