package io.posteriors.vi;

import static io.posteriors.vi.Gaussians.values;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.DenseNormal;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.Scalars;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.optim.Adam;
import io.posteriors.optim.Sgd;
import java.util.List;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DenseViTest {

    // a correlated 3-D target (posteriors tests dense VI in 3-D) and a correlated 2-D one
    private static final double[] MEAN3 = {1.0, -0.5, 0.3};
    private static final double[][] COV3 = {{1.0, 0.4, 0.1}, {0.4, 0.5, -0.2}, {0.1, -0.2, 0.8}};
    private static final double[] MEAN2 = {1.0, -0.5};
    private static final double[][] COV2 = {{1.0, 0.4}, {0.4, 0.25}}; // sds 1 and 0.5, rho 0.8
    private static final double LR = 1e-2;
    private static final int STEPS = 1000;

    private NDManager m;

    @BeforeEach
    void setUp() {
        m = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        m.close();
    }

    private static double[][] chol(double[][] cov) {
        return new CholeskyDecomposition(MatrixUtils.createRealMatrix(cov)).getL().getData();
    }

    /** Flattens the lower triangle row by row on the host (independently of DenseNormal). */
    private static double[] flat(double[][] l) {
        int d = l.length;
        double[] out = new double[d * (d + 1) / 2];
        int k = 0;
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                out[k++] = l[i][j];
            }
        }
        return out;
    }

    private static double[][] scale(double[][] a, double c) {
        double[][] out = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i].clone();
            for (int j = 0; j < a[i].length; j++) {
                out[i][j] *= c;
            }
        }
        return out;
    }

    private static void assertMatrixEquals(double[][] expected, double[][] actual, double tol) {
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], actual[i], tol, "row " + i);
        }
    }

    // ---- the NELBO function ----

    @Test
    void nelbo_qEqualsTarget_isZero() {
        Gaussians.DenseTarget target = Gaussians.denseTarget(m, MEAN3, COV3);
        Engine.getInstance().setRandomSeed(1);
        NDArray nelbo =
                DenseVi.nelbo(
                        Gaussians.denseLogProb(),
                        Gaussians.vectorTree(m, MEAN3),
                        m.create(flat(chol(COV3))),
                        target,
                        1.0,
                        100);
        // log p and log q are the same normalised density, computed two ways: every sample
        // contributes 0 up to float64 rounding
        assertEquals(0.0, Scalars.value(nelbo), 1e-10);
    }

    @Test
    void nelbo_worseQ_isLargerAndMatchesClosedFormKl() {
        Gaussians.DenseTarget target = Gaussians.denseTarget(m, MEAN3, COV3);
        double[] mq = {0, 0, 0};
        double[][] covQ = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
        int n = 4000;
        Engine.getInstance().setRandomSeed(2);
        double estimate =
                Scalars.value(
                        DenseVi.nelbo(
                                Gaussians.denseLogProb(),
                                Gaussians.vectorTree(m, mq),
                                m.create(flat(covQ)),
                                target,
                                1.0,
                                n));
        double kl = Gaussians.klDense(mq, covQ, MEAN3, COV3);
        // a mean of n iid draws of log q - log p under q, variance known in closed form; 4 SE
        double se = Math.sqrt(Gaussians.logRatioVarianceDense(mq, covQ, MEAN3, COV3) / n);
        assertEquals(kl, estimate, 4 * se);
        assertTrue(estimate > 4 * se, "a worse q has a larger NELBO than the target's 0");
    }

    // ---- the gradient an update follows ----

    /**
     * One SGD step at learning rate 1 moves mean and flat factor by the ELBO gradient. For theta =
     * mu + L eps and the target's score g = -P (theta - mu_p) (P the target precision):
     *
     * <ul>
     *   <li>without STL, log q = -|eps|^2/2 - sum log|L_ii| - c along the reparameterisation, so d
     *       ELBO / d mu = g and d ELBO / d L = tril(g eps^T) + T diag(1 / L_ii);
     *   <li>with STL, mean and factor are both held fixed inside log q, whose score -L^-T eps
     *       enters through theta: with r = g + T L^-T eps, d ELBO / d mu = r and d ELBO / d L =
     *       tril(r eps^T). posteriors holds only the factor fixed, which would add -T L^-T eps to
     *       the mean's gradient (its score-function term) and fail this test.
     * </ul>
     *
     * <p>each averaged over the samples. L has a negative diagonal entry to pin log|L_ii|.
     */
    @ParameterizedTest
    @CsvSource({"true, 0.7", "false, 0.7", "true, 0", "false, 0"})
    void update_followsTheClosedFormElboGradient(boolean stl, double temp) {
        int n = 2;
        int d = 3;
        double[] mu0 = {0.3, -0.1, 0.2};
        double[][] l0 = {{0.8, 0, 0}, {0.3, -0.6, 0}, {-0.2, 0.1, 0.9}};
        Gaussians.DenseTarget target = Gaussians.denseTarget(m, MEAN3, COV3);
        DenseVi<Gaussians.DenseTarget> t =
                DenseVi.builder(Gaussians.denseLogProb(), Sgd.of(1.0))
                        .temperature(temp)
                        .nSamples(n)
                        .stl(stl)
                        .initL(m.create(l0))
                        .build();
        DenseViState s = t.init(Gaussians.vectorTree(m, mu0));

        Engine.getInstance().setRandomSeed(4);
        double[] eps = values(m.randomNormal(0, 1, new Shape(n, d), DataType.FLOAT64));
        Engine.getInstance().setRandomSeed(4);
        DenseViState next = t.update(s, target).state();

        RealMatrix p =
                new LUDecomposition(MatrixUtils.createRealMatrix(COV3)).getSolver().getInverse();
        RealMatrix lInvT =
                new LUDecomposition(MatrixUtils.createRealMatrix(l0))
                        .getSolver()
                        .getInverse()
                        .transpose();
        double[] gMu = new double[d];
        double[][] gL = new double[d][d];
        for (int smp = 0; smp < n; smp++) {
            double[] e = {eps[smp * d], eps[smp * d + 1], eps[smp * d + 2]};
            double[] theta = new double[d];
            for (int i = 0; i < d; i++) {
                theta[i] = mu0[i];
                for (int j = 0; j <= i; j++) {
                    theta[i] += l0[i][j] * e[j];
                }
            }
            double[] diff = new double[d];
            for (int i = 0; i < d; i++) {
                diff[i] = theta[i] - MEAN3[i];
            }
            double[] r = p.operate(diff);
            double[] qScore = lInvT.operate(e);
            for (int i = 0; i < d; i++) {
                r[i] = -r[i] + (stl ? temp * qScore[i] : 0);
                gMu[i] += r[i] / n;
                for (int j = 0; j <= i; j++) {
                    gL[i][j] += r[i] * e[j] / n;
                }
            }
        }
        if (!stl) {
            for (int i = 0; i < d; i++) {
                gL[i][i] += temp / l0[i][i];
            }
        }
        double[] mu1 = values(next.params());
        for (int i = 0; i < d; i++) {
            assertEquals(mu0[i] + gMu[i], mu1[i], 1e-10, "mean " + i);
        }
        double[] expectedFlat = flat(l0);
        double[] step = flat(gL);
        for (int k = 0; k < expectedFlat.length; k++) {
            expectedFlat[k] += step[k];
        }
        assertArrayEquals(expectedFlat, values(next.lFactor()), 1e-10);
    }

    /**
     * The tempered Gaussian target N(mu_p, T Sigma_p) is q with L = sqrt(T) chol(Sigma_p); with STL
     * the gradient there vanishes for every noise draw, so one SGD step leaves q in place up to
     * float64 rounding.
     */
    @ParameterizedTest
    @ValueSource(doubles = {1.0, 0.3, 0.01})
    void update_temperedPosterior_isAFixedPointWithStl(double temp) {
        Gaussians.DenseTarget target = Gaussians.denseTarget(m, MEAN3, COV3);
        double[][] l = scale(chol(COV3), Math.sqrt(temp));
        DenseVi<Gaussians.DenseTarget> t =
                DenseVi.builder(Gaussians.denseLogProb(), Sgd.of(1.0))
                        .temperature(temp)
                        .nSamples(3)
                        .initL(m.create(l))
                        .build();
        Engine.getInstance().setRandomSeed(9);
        DenseViState next = t.update(t.init(Gaussians.vectorTree(m, MEAN3)), target).state();
        assertArrayEquals(MEAN3, values(next.params()), 1e-12);
        assertArrayEquals(flat(l), values(next.lFactor()), 1e-12);
    }

    // ---- fitting ----

    /**
     * Adam (lr 1e-2), two samples, 1000 pure updates from mean 0 and L = I, on a correlated 2-D
     * Gaussian. With STL the gradient vanishes identically at q = p, so the tolerance is the
     * optimiser's, lr, on the mean and on every covariance entry. Without STL the gradient noise
     * does not vanish and the final iterate fluctuates around the optimum (for the diagonal family
     * the stationary spread is derived in DiagViTest); both variants must bring KL(q || p) below 1%
     * of its initial value.
     */
    @Tag("slow")
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void fit_correlatedGaussian_recoversTheFullCovariance(boolean stl) {
        Gaussians.DenseTarget target = Gaussians.denseTarget(m, MEAN2, COV2);
        Engine.getInstance().setRandomSeed(42);
        DenseVi<Gaussians.DenseTarget> t =
                DenseVi.builder(Gaussians.denseLogProb(), Adam.of(LR)).nSamples(2).stl(stl).build();
        TensorTree init = Gaussians.vectorTree(m, 0, 0);
        DenseViState s = t.init(init);
        for (int i = 0; i < STEPS; i++) {
            Step<DenseViState> step = t.update(s, target);
            step.aux().close();
            s.close();
            s = step.state();
        }
        double[] mu = values(s.params());
        double[][] cov = Gaussians.matrix(s.covariance());
        if (stl) {
            assertArrayEquals(MEAN2, mu, LR);
            assertMatrixEquals(COV2, cov, LR);
        }
        double klInit =
                Gaussians.klDense(new double[2], new double[][] {{1, 0}, {0, 1}}, MEAN2, COV2);
        double klEnd = Gaussians.klDense(mu, cov, MEAN2, COV2);
        assertTrue(klEnd < 0.01 * klInit, "KL " + klEnd + " vs initial " + klInit);
        assertArrayEquals(new double[] {0, 0}, values(init), 0.0, "init is untouched");
    }

    /**
     * At T = 0 the NELBO is E_q[-log p], whose expected gradient in L is P L (zero only at L = 0),
     * and Adam moves each entry of L by about lr per step: within ~1/lr = 100 steps the entries
     * reach zero and then stay within a few lr of it. We check the mean reaches the MAP (its
     * gradient noise shrinks with L: tolerance lr) and that the covariance has collapsed below the
     * optimum at T = 0.01, 0.01 Sigma_p, in trace.
     */
    @Tag("slow")
    @Test
    void fit_temperatureZero_meanGoesToMapAndSpreadCollapses() {
        Gaussians.DenseTarget target = Gaussians.denseTarget(m, MEAN2, COV2);
        Engine.getInstance().setRandomSeed(44);
        DenseVi<Gaussians.DenseTarget> t =
                DenseVi.builder(Gaussians.denseLogProb(), Adam.of(LR))
                        .nSamples(2)
                        .temperature(0.0)
                        .build();
        DenseViState s = t.init(Gaussians.vectorTree(m, 0, 0));
        for (int i = 0; i < STEPS; i++) {
            Step<DenseViState> step = t.updateInPlace(s, target);
            step.aux().close();
            s = step.state();
        }
        assertArrayEquals(MEAN2, values(s.params()), LR);
        double[][] cov = Gaussians.matrix(s.covariance());
        double trace = cov[0][0] + cov[1][1];
        assertTrue(trace < 0.01 * (COV2[0][0] + COV2[1][1]), "trace " + trace);
    }

    // ---- schedules and bad input ----

    @Test
    void temperatureSchedule_negativeAtAStep_throwsAndLeavesStateUnchanged() {
        Gaussians.DenseTarget target = Gaussians.denseTarget(m, MEAN2, COV2);
        DenseVi<Gaussians.DenseTarget> t =
                DenseVi.builder(Gaussians.denseLogProb(), Adam.of(LR))
                        .temperature(step -> step < 2 ? 1.0 / (1 + step) : -1.0)
                        .build();
        DenseViState s = t.init(Gaussians.vectorTree(m, 0, 0));
        s = t.updateInPlace(s, target).state();
        s = t.updateInPlace(s, target).state();
        DenseViState fixed = s;
        List<double[]> before = s.arrays().stream().map(Gaussians::values).toList();
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> t.updateInPlace(fixed, target));
        assertTrue(
                e.getMessage().contains("temperature") && e.getMessage().contains("step 2"),
                e.getMessage());
        for (int i = 0; i < before.size(); i++) {
            assertArrayEquals(before.get(i), values(s.arrays().get(i)), 0.0, "array " + i);
        }
        assertEquals(2, s.step());
    }

    @Test
    void builder_badOptions_throwClearExceptions() {
        var b = DenseVi.builder(Gaussians.denseLogProb(), Adam.of(LR));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> b.nSamples(0));
        assertEquals("nSamples must be at least 1, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> b.temperature(-0.1));
        assertEquals("temperature must be non-negative and finite, got -0.1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> b.initL(-1.0));
        assertEquals("initL must be positive and finite, got -1.0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.initL(Double.NaN));
        assertThrows(NullPointerException.class, () -> b.initL((NDArray) null));
        assertThrows(NullPointerException.class, () -> DenseVi.builder(null, Adam.of(LR)));
    }

    @Test
    void init_badInitialFactor_throwsNamingTheProblem() {
        LogProbFn<Gaussians.DenseTarget> lp = Gaussians.denseLogProb();
        TensorTree params = Gaussians.vectorTree(m, 0, 0, 0);
        String shape =
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        DenseVi.builder(lp, Adam.of(LR))
                                                .initL(m.eye(2))
                                                .build()
                                                .init(params))
                        .getMessage();
        assertEquals("initL must have shape (3, 3) for the 3 parameters, got (2, 2)", shape);
        String upper =
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        DenseVi.builder(lp, Adam.of(LR))
                                                .initL(
                                                        m.create(
                                                                new double[][] {
                                                                    {1, 0.5, 0},
                                                                    {0, 1, 0},
                                                                    {0, 0, 1}
                                                                }))
                                                .build()
                                                .init(params))
                        .getMessage();
        assertTrue(upper.contains("lower triangular"), upper);
        String zero =
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        DenseVi.builder(lp, Adam.of(LR))
                                                .initL(
                                                        m.create(
                                                                new double[][] {
                                                                    {1, 0, 0},
                                                                    {0.3, 0, 0},
                                                                    {0, 0, 1}
                                                                }))
                                                .build()
                                                .init(params))
                        .getMessage();
        assertTrue(zero.contains("non-zero diagonal"), zero);
        String nan =
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        DenseVi.builder(lp, Adam.of(LR))
                                                .initL(
                                                        m.create(
                                                                new double[][] {
                                                                    {1, 0, 0},
                                                                    {Double.NaN, 1, 0},
                                                                    {0, 0, 1}
                                                                }))
                                                .build()
                                                .init(params))
                        .getMessage();
        assertTrue(nan.contains("initL must be finite"), nan);
        String big =
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        DenseVi.builder(lp, Adam.of(LR))
                                                .build()
                                                .init(TensorTree.of(m.zeros(new Shape(46_341)))))
                        .getMessage();
        assertTrue(big.contains("use DiagVi"), big);
    }

    @Test
    void nelbo_badArguments_throw() {
        Gaussians.DenseTarget target = Gaussians.denseTarget(m, MEAN2, COV2);
        LogProbFn<Gaussians.DenseTarget> lp = Gaussians.denseLogProb();
        TensorTree mean = Gaussians.vectorTree(m, 0, 0);
        NDArray good = m.create(new double[] {1, 0, 1});
        String len =
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        DenseVi.nelbo(
                                                lp,
                                                mean,
                                                m.create(new double[] {1, 1}),
                                                target,
                                                1,
                                                1))
                        .getMessage();
        assertTrue(len.contains("d(d+1)/2 = 3"), len);
        assertThrows(
                IllegalArgumentException.class, () -> DenseVi.nelbo(lp, mean, good, target, -1, 1));
        assertThrows(
                IllegalArgumentException.class, () -> DenseVi.nelbo(lp, mean, good, target, 1, 0));
    }

    // ---- init, state, aux and sampling ----

    @Test
    void init_storesTheFactorFlatRowByRow() {
        DenseVi<Gaussians.DenseTarget> byDefault =
                DenseVi.builder(Gaussians.denseLogProb(), Adam.of(LR)).build();
        DenseViState s = byDefault.init(Gaussians.vectorTree(m, 0, 0, 0));
        assertArrayEquals(new double[] {1, 0, 1, 0, 0, 1}, values(s.lFactor()), 0.0);
        assertTrue(Double.isNaN(Scalars.value(s.nelbo())));
        assertEquals(List.of("mean/a", "mean/b", "lFactor"), s.optimState().slots().get(0).names());

        DenseViState scaled =
                DenseVi.builder(Gaussians.denseLogProb(), Adam.of(LR))
                        .initL(0.5)
                        .build()
                        .init(Gaussians.vectorTree(m, 0, 0, 0));
        assertArrayEquals(new double[] {0.5, 0, 0.5, 0, 0, 0.5}, values(scaled.lFactor()), 0.0);

        double[][] l = {{2, 0, 0}, {0.5, 1, 0}, {-1, 0.25, 3}};
        NDArray given = m.create(l);
        DenseViState fromMatrix =
                DenseVi.builder(Gaussians.denseLogProb(), Adam.of(LR))
                        .initL(given)
                        .build()
                        .init(Gaussians.vectorTree(m, 0, 0, 0));
        assertArrayEquals(new double[] {2, 0.5, 1, -1, 0.25, 3}, values(fromMatrix.lFactor()), 0.0);
        assertArrayEquals(
                values(DenseNormal.lowerToFlat(given)), values(fromMatrix.lFactor()), 0.0);
        assertMatrixEquals(l, Gaussians.matrix(fromMatrix.lower()), 0.0);
        assertMatrixEquals(Gaussians.llt(l), Gaussians.matrix(fromMatrix.covariance()), 1e-12);
    }

    @Test
    void update_severalSamples_stacksTheAuxOverSamples() {
        Gaussians.DenseTarget target = Gaussians.denseTarget(m, MEAN2, COV2);
        DenseVi<Gaussians.DenseTarget> three =
                DenseVi.builder(Gaussians.denseLogProb(), Adam.of(LR)).nSamples(3).build();
        Engine.getInstance().setRandomSeed(7);
        double[] eps = values(m.randomNormal(0, 1, new Shape(3, 2), DataType.FLOAT64));
        Engine.getInstance().setRandomSeed(7);
        NDList aux = three.update(three.init(Gaussians.vectorTree(m, 0.3, -0.1)), target).aux();
        assertEquals(new Shape(3, 2), aux.get(0).getShape());
        double[] expected = new double[6];
        for (int i = 0; i < 6; i++) {
            // aux = 2 theta with theta = mu + I eps
            expected[i] = 2 * ((i % 2 == 0 ? 0.3 : -0.1) + eps[i]);
        }
        assertArrayEquals(expected, values(aux.get(0)), 1e-12);
    }

    /**
     * Sample mean and covariance of 20000 draws against the state's q: 4 standard errors,
     * sqrt(Sigma_ii / n) for the mean and sqrt((Sigma_ii Sigma_jj + Sigma_ij^2) / n) for the
     * covariance entries (the Gaussian variance of a sample covariance).
     */
    @Test
    void sample_matchesTheStateMoments() {
        double[][] l = chol(COV3);
        DenseVi<Gaussians.DenseTarget> t =
                DenseVi.builder(Gaussians.denseLogProb(), Adam.of(LR)).initL(m.create(l)).build();
        DenseViState s = t.init(Gaussians.vectorTree(m, MEAN3));
        Engine.getInstance().setRandomSeed(8);
        int n = 20000;
        TensorTree draws = s.sample(n);
        assertEquals(new Shape(n, 2), draws.get("a").getShape());
        assertEquals(new Shape(n, 1), draws.get("b").getShape());
        double[] x = values(draws.ravelBatched(n));
        double[] mean = new double[3];
        for (int k = 0; k < n; k++) {
            for (int i = 0; i < 3; i++) {
                mean[i] += x[3 * k + i] / n;
            }
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(MEAN3[i], mean[i], 4 * Math.sqrt(COV3[i][i] / n), "mean " + i);
            for (int j = 0; j < 3; j++) {
                double c = 0;
                for (int k = 0; k < n; k++) {
                    c += (x[3 * k + i] - mean[i]) * (x[3 * k + j] - mean[j]) / (n - 1);
                }
                double se = Math.sqrt((COV3[i][i] * COV3[j][j] + COV3[i][j] * COV3[i][j]) / n);
                assertEquals(COV3[i][j], c, 4 * se, "cov " + i + "," + j);
            }
        }
        TensorTree one = s.sample(1).map(draw -> draw.squeeze(0));
        assertTrue(one.sameStructure(s.params()));
    }

    // ---- validation gaps, the state's copy and its Cholesky factor ----

    @Test
    void nelbo_factorWithAZeroOrNanEntry_throwsNamingIt() {
        Gaussians.DenseTarget target = Gaussians.denseTarget(m, MEAN2, COV2);
        LogProbFn<Gaussians.DenseTarget> lp = Gaussians.denseLogProb();
        TensorTree mean = Gaussians.vectorTree(m, 0, 0);
        String zero =
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        DenseVi.nelbo(
                                                lp,
                                                mean,
                                                m.create(new double[] {1, 0.5, 0}),
                                                target,
                                                1,
                                                1))
                        .getMessage();
        assertTrue(zero.contains("lFactor must have a non-zero diagonal"), zero);
        String nan =
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        DenseVi.nelbo(
                                                lp,
                                                mean,
                                                m.create(new double[] {1, Double.NaN, 1}),
                                                target,
                                                1,
                                                1))
                        .getMessage();
        assertEquals("lFactor must be finite, got NaN at flat index 2", nan);
    }

    @Test
    void init_nanInParams_throwsNamingTheLeafAtStepZero() {
        DenseVi<Gaussians.DenseTarget> t =
                DenseVi.builder(Gaussians.denseLogProb(), Adam.of(LR)).build();
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> t.init(Gaussians.vectorTree(m, 0, Double.POSITIVE_INFINITY, 0)));
        assertTrue(e.getMessage().startsWith("params must be finite"), e.getMessage());
        assertTrue(e.getMessage().contains("leaf 'a'"), e.getMessage());
        assertTrue(e.getMessage().contains("step 0"), e.getMessage());
    }

    @Test
    void update_nanNelbo_isReportedAsNelboWithTheStep() {
        Gaussians.DenseTarget target = Gaussians.denseTarget(m, MEAN2, COV2);
        LogProbFn<Gaussians.DenseTarget> nan =
                (p, b) -> LogProb.of(p.get("a").sum().mul(Double.NaN));
        DenseVi<Gaussians.DenseTarget> good =
                DenseVi.builder(Gaussians.denseLogProb(), Adam.of(LR)).build();
        DenseVi<Gaussians.DenseTarget> bad = DenseVi.builder(nan, Adam.of(LR)).build();
        DenseViState s = good.init(Gaussians.vectorTree(m, 0, 0));
        s = good.updateInPlace(s, target).state();
        s = good.updateInPlace(s, target).state();
        DenseViState fixed = s;
        List<double[]> before = s.arrays().stream().map(Gaussians::values).toList();
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class, () -> bad.updateInPlace(fixed, target));
        assertTrue(e.getMessage().startsWith("nelbo must be finite, got NaN"), e.getMessage());
        assertTrue(e.getMessage().contains("step 2"), e.getMessage());
        for (int i = 0; i < before.size(); i++) {
            assertArrayEquals(before.get(i), values(s.arrays().get(i)), 0.0, "array " + i);
        }
    }

    @Test
    void copy_hasEqualValuesInIndependentArrays() {
        Gaussians.DenseTarget target = Gaussians.denseTarget(m, MEAN2, COV2);
        DenseVi<Gaussians.DenseTarget> t =
                DenseVi.builder(Gaussians.denseLogProb(), Adam.of(LR)).initL(0.6).build();
        DenseViState s =
                t.updateInPlace(t.init(Gaussians.vectorTree(m, 0.2, -0.1)), target).state();
        DenseViState c = s.copy();
        assertEquals(s.step(), c.step());
        assertEquals(s.arrays().size(), c.arrays().size());
        for (int i = 0; i < s.arrays().size(); i++) {
            assertTrue(s.arrays().get(i) != c.arrays().get(i), "array " + i + " is shared");
            assertArrayEquals(values(s.arrays().get(i)), values(c.arrays().get(i)), 0.0);
        }
        List<double[]> before = s.arrays().stream().map(Gaussians::values).toList();
        c.arrays().forEach(a -> a.muli(0));
        for (int i = 0; i < before.size(); i++) {
            assertArrayEquals(before.get(i), values(s.arrays().get(i)), 0.0, "array " + i);
        }
    }

    @Test
    void covarianceCholesky_flipsNegativeColumnsAndKeepsTheCovariance() {
        double[][] l = {{2, 0, 0}, {0.5, -1, 0}, {-1, 0.25, -3}};
        DenseViState s =
                DenseVi.builder(Gaussians.denseLogProb(), Adam.of(LR))
                        .initL(m.create(l))
                        .build()
                        .init(Gaussians.vectorTree(m, 0, 0, 0));
        double[][] expected = {{2, 0, 0}, {0.5, 1, 0}, {-1, -0.25, 3}};
        assertMatrixEquals(expected, Gaussians.matrix(s.covarianceCholesky()), 0.0);
        assertMatrixEquals(Gaussians.llt(l), Gaussians.matrix(s.covariance()), 1e-12);
        assertTrue(s.mean() == s.params());
    }
}
