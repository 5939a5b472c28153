package io.posteriors.ekf;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.ModelOutput;
import io.posteriors.Scalars;
import io.posteriors.State;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.RealVector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * posteriors' EKF scenario ({@code tests/ekf/utils.py}): the log likelihood is a 3-D Gaussian log
 * density {@code log N(theta | m, C)} with m ~ N(0, I) and C = A A^T, A standard Normal; starting
 * at zero, 1000 steps with lr 0.1 must reach m, and the log likelihood must rise. The parameters
 * are a tree of two leaves (a: 2, b: 1), in float32 as in posteriors. As there, the batch is {@code
 * arange(3)} as a (3, 1) array that the log likelihood ignores, and the filters run with their
 * default {@code perSample(false)}: the function is evaluated on each of the three rows as a batch
 * of one (posteriors' {@code per_samplify}), which gives three equal per-sample gradients g.
 *
 * <p>Whether the empirical-Fisher filter reaches m depends on the draw. With equal per-sample
 * gradients, {@code F = (1/3) sum_i g g^T = g g^T} and Sherman-Morrison give {@code ln
 * det(precision)} a rise of {@code ln(1 + lr g^T Sigma g)} per step, while the log likelihood gains
 * about {@code lr g^T Sigma g}: to first order in lr the precision's log determinant grows by the
 * log likelihood gained, so a start D nats below the optimum shrinks the steps by about {@code
 * e^-D}. Far from the optimum the empirical Fisher overstates the curvature (g g^T against the true
 * C^-1) and the filter freezes. A float64 simulation of both recursions over 30 draws
 * (java.util.Random seeds 0-29) reached m within 1e-4 in 1000 steps for 6 of the 8 draws with D
 * below 1 nat (the other two by step 1800) and for none of the 15 with D above 5 (not even in 5000
 * steps); posteriors' own test passes because its seed draws a small D. So the target here is the
 * first draw, in seed order, whose deficit {@code D = m^T C^-1 m / 2} is at most 1 nat, a condition
 * fixed before running any filter (it is seed 3, D = 0.22).
 */
class GaussianScenarioTest {

    private NDManager manager;
    private double[] target;
    private NDArray targetArray;
    private NDArray precision;
    private RealMatrix precisionHost;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        RealMatrix p = null;
        for (int seed = 0; p == null; seed++) {
            Random rng = new Random(seed);
            target = new double[3];
            double[][] a = new double[3][3];
            for (int i = 0; i < 3; i++) {
                target[i] = rng.nextGaussian();
                for (int j = 0; j < 3; j++) {
                    a[i][j] = rng.nextGaussian();
                }
            }
            RealMatrix am = new Array2DRowRealMatrix(a);
            RealMatrix candidate = MatrixUtils.inverse(am.multiply(am.transpose()));
            RealVector m = new ArrayRealVector(target);
            if (m.dotProduct(candidate.operate(m)) / 2 <= 1.0) {
                p = candidate;
            }
        }
        precisionHost = p;
        targetArray = manager.create(toFloat(target));
        precision = manager.create(toFloat2(p.getData()));
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** -(theta - m)^T C^-1 (theta - m) / 2, the log density up to its constant. */
    private NDArray logDensity(TensorTree p) {
        NDArray d = p.ravel().sub(targetArray).reshape(3, 1);
        return d.transpose().matMul(precision).matMul(d).reshape().mul(-0.5);
    }

    /** The log density as a log likelihood of a batch it ignores (a scalar), as in posteriors. */
    private LogProbFn<NDArray> logLik() {
        return (p, b) -> LogProb.of(logDensity(p));
    }

    /** posteriors' batch: {@code torch.arange(3).reshape(-1, 1)}. */
    private NDArray batch() {
        return manager.arange(3).reshape(3, 1);
    }

    private TensorTree zeros() {
        Map<String, NDArray> m = new LinkedHashMap<>();
        m.put("a", manager.zeros(new ai.djl.ndarray.types.Shape(2)));
        m.put("b", manager.zeros(new ai.djl.ndarray.types.Shape(1)));
        return TensorTree.of(m);
    }

    @Test
    void diagEkf_reachesTargetMean_andLogLikelihoodRises() {
        run(DiagEkf.builder(logLik(), 0.1).build());
    }

    @Test
    void denseEkf_reachesTargetMean_andLogLikelihoodRises() {
        run(DenseEkf.builder(logLik(), 0.1).build());
    }

    /**
     * With the GGN (here the exact Hessian {@code -C^-1}) each step is the exact Bayesian update of
     * a Gaussian, so after t steps from N(0, I) the state is {@code N(K lr t C^-1 m, K)} with
     * {@code K = (I + lr t C^-1)^-1}: the prior times the likelihood at inverse temperature lr t,
     * computed here in closed form with Commons Math. This holds for any draw of m and C. The
     * parameters themselves are the outputs, so the step's data is one observation: the log
     * likelihood is a vector of length 1 with {@code perSample(true)}.
     */
    @Test
    void denseEkf_ggn_isTheTemperedBayesianPosteriorInClosedForm() {
        DenseEkf<Void> t =
                DenseEkf.<Void>builder((p, b) -> LogProb.of(logDensity(p).reshape(1)), 0.1)
                        .perSample(true)
                        .ggn(
                                (p, b) -> ModelOutput.of(p.ravel()),
                                (o, b) -> {
                                    NDArray d = o.sub(targetArray).reshape(3, 1);
                                    return d.transpose()
                                            .matMul(precision)
                                            .matMul(d)
                                            .reshape()
                                            .mul(-0.5);
                                })
                        .build();
        DenseEkfState state = t.init(zeros());
        for (int i = 0; i < 200; i++) {
            var step = t.updateInPlace(state, null);
            step.aux().close();
            state = step.state();
        }
        RealMatrix k =
                MatrixUtils.inverse(
                        MatrixUtils.createRealIdentityMatrix(3)
                                .add(precisionHost.scalarMultiply(0.1 * 200)));
        double[] mean =
                k.operate(
                                precisionHost
                                        .scalarMultiply(0.1 * 200)
                                        .operate(new ArrayRealVector(target)))
                        .toArray();
        double[] mu = EmpiricalRecursionTest.flat(state.params());
        double[] cov =
                state.cov().toType(ai.djl.ndarray.types.DataType.FLOAT64, false).toDoubleArray();
        for (int i = 0; i < 3; i++) {
            // float32 over 200 steps: 1e-4 is several hundred ulps of these O(1) entries
            assertTrue(
                    Math.abs(mu[i] - mean[i]) < 1e-4,
                    "mean " + i + ": " + mu[i] + " vs " + mean[i]);
            for (int j = 0; j < 3; j++) {
                assertTrue(
                        Math.abs(cov[3 * i + j] - k.getEntry(i, j)) < 1e-4,
                        "cov " + i + "," + j + ": " + cov[3 * i + j] + " vs " + k.getEntry(i, j));
            }
        }
    }

    private <S extends State> void run(Transform<S, NDArray> t) {
        S state = t.init(zeros());
        NDArray batch = batch();
        double first = Double.NaN;
        for (int i = 0; i < 1000; i++) {
            Step<S> step = t.update(state, batch);
            step.aux().close();
            state.close();
            state = step.state();
            if (i == 0) {
                first = Scalars.value(logLikelihood(state));
            }
        }
        double last = Scalars.value(logLikelihood(state));
        assertTrue(last > first, "log likelihood rises: " + first + " -> " + last);
        double[] mean = EmpiricalRecursionTest.flat(state.params());
        for (int i = 0; i < 3; i++) {
            // float32 arithmetic: 1e-4 absolute is about a thousand float32 ulps at these sizes
            assertTrue(
                    Math.abs(mean[i] - target[i]) < 1e-4,
                    "coordinate " + i + ": " + mean[i] + " vs target " + target[i]);
        }
    }

    private static NDArray logLikelihood(State s) {
        return s instanceof DiagEkfState d
                ? d.logLikelihood()
                : ((DenseEkfState) s).logLikelihood();
    }

    private static float[] toFloat(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        return f;
    }

    private static float[][] toFloat2(double[][] x) {
        float[][] f = new float[x.length][];
        for (int i = 0; i < x.length; i++) {
            f[i] = toFloat(x[i]);
        }
        return f;
    }
}
