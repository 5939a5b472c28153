package io.posteriors.laplace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Autodiff;
import io.posteriors.LogProb;
import io.posteriors.TensorTree;
import org.apache.commons.math3.distribution.MultivariateNormalDistribution;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.stat.correlation.Covariance;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sampling and log densities of both families against known moments and Commons Math.
 *
 * <p>Monte Carlo tolerances: with n independent draws of a Normal with variance v, the sample mean
 * has standard deviation sqrt(v / n), the sample variance sqrt(2 v² / (n - 1)) and a sample
 * covariance entry sqrt((Σ_ij² + Σ_ii Σ_jj) / n) (Isserlis). Each check allows 5 of these standard
 * deviations, so a correct sampler fails one entry with probability below 6e-7; a wrong temperature
 * scaling (a factor of 2 in variance at n = 20000) is 70 standard deviations away.
 */
class SamplingTest {

    private static final int DRAWS = 20_000;
    private static final double Z = 5.0;

    private NDManager manager;
    private TensorTree mean;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(47);
        manager = NDManager.newBaseManager();
        mean = Fixtures.tree(manager.create(new double[] {1.0, -2.0, 0.5}), manager.create(3.0));
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private DiagLaplaceState diagState() {
        TensorTree prec =
                Fixtures.tree(manager.create(new double[] {4.0, 0.25, 1.0}), manager.create(9.0));
        return DiagFisher.<Void>builder((p, b) -> LogProb.of(p.get("b")))
                .initPrecDiag(prec)
                .build()
                .init(mean);
    }

    /** A dense precision A A^T + I with strong correlations. */
    private double[][] densePrecision() {
        double[][] a = {
            {1.0, 0.5, 0, 0.2}, {0.3, 2.0, -0.4, 0}, {0, 1.0, 1.0, 0.5}, {0.7, 0, 0.1, 1}
        };
        RealMatrix m = new Array2DRowRealMatrix(a);
        return m.multiply(m.transpose())
                .add(org.apache.commons.math3.linear.MatrixUtils.createRealIdentityMatrix(4))
                .getData();
    }

    private DenseLaplaceState denseState() {
        NDArray prec = manager.create(densePrecision());
        return DenseGgn.<Void>builder((p, b) -> null, (o, b) -> o)
                .initPrec(prec)
                .build()
                .init(mean);
    }

    private static void assertMoments(
            double[][] samples, double[] mu, double[][] cov, String what) {
        int n = samples.length;
        RealMatrix sampleCov = new Covariance(samples).getCovarianceMatrix();
        for (int j = 0; j < mu.length; j++) {
            double m = 0;
            for (double[] s : samples) {
                m += s[j] / n;
            }
            double tol = Z * Math.sqrt(cov[j][j] / n);
            assertEquals(mu[j], m, tol, what + ": mean " + j);
            for (int k = 0; k < mu.length; k++) {
                double sd = Math.sqrt((cov[j][k] * cov[j][k] + cov[j][j] * cov[k][k]) / n);
                assertEquals(
                        cov[j][k], sampleCov.getEntry(j, k), Z * sd, what + ": cov " + j + "," + k);
            }
        }
    }

    @Test
    void diagSample_hasStateMeanAndTemperedVariance() {
        DiagLaplaceState s = diagState();
        double[] mu = mean.ravel().toDoubleArray();
        double[] prec = s.precDiag().ravel().toDoubleArray();
        for (double t : new double[] {1.0, 0.3}) {
            TensorTree draws = s.sample(DRAWS, t);
            assertEquals(new Shape(DRAWS, 3), draws.get("w").getShape());
            assertEquals(new Shape(DRAWS), draws.get("b").getShape());
            double[][] cov = new double[4][4];
            for (int j = 0; j < 4; j++) {
                cov[j][j] = t / prec[j];
            }
            assertMoments(Fixtures.rows(draws.ravelBatched(DRAWS)), mu, cov, "T = " + t);
        }
    }

    @Test
    void denseSample_hasStateMeanAndTemperedCovariance() {
        DenseLaplaceState s = denseState();
        double[] mu = mean.ravel().toDoubleArray();
        RealMatrix precInverse =
                new LUDecomposition(new Array2DRowRealMatrix(densePrecision()))
                        .getSolver()
                        .getInverse();
        for (double t : new double[] {1.0, 0.5}) {
            TensorTree draws = s.sample(DRAWS, t);
            assertEquals(new Shape(DRAWS, 3), draws.get("w").getShape());
            assertEquals(new Shape(DRAWS), draws.get("b").getShape());
            assertMoments(
                    Fixtures.rows(draws.ravelBatched(DRAWS)),
                    mu,
                    precInverse.scalarMultiply(t).getData(),
                    "T = " + t);
        }
    }

    @Test
    void sample_temperatureZero_returnsTheMeanExactly() {
        for (TensorTree draws :
                new TensorTree[] {diagState().sample(5, 0.0), denseState().sample(5, 0.0)}) {
            for (int i = 0; i < 5; i++) {
                final int k = i;
                assertTrue(draws.map(a -> a.get(k)).allClose(mean, 0, 0), "sample " + i);
            }
        }
    }

    @Test
    void sample_single_hasParameterShapes() {
        assertTrue(diagState().sample().sameStructure(mean));
        assertTrue(denseState().sample().sameStructure(mean));
    }

    @Test
    void diagSample_zeroPrecision_throwsNamingLeafUnlessTemperatureZero() {
        DiagLaplaceState zero =
                DiagFisher.<Void>builder((p, b) -> LogProb.of(p.get("b"))).build().init(mean);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> zero.sample(2));
        assertTrue(e.getMessage().contains("precDiag leaf 'w'"), e.getMessage());
        assertTrue(zero.sample(2, 0.0).get("w").getShape().equals(new Shape(2, 3)));
        assertThrows(IllegalArgumentException.class, () -> zero.sample(2, -1.0));
        assertThrows(IllegalArgumentException.class, () -> zero.sample(0, 1.0));
    }

    @Test
    void denseSample_singularPrecision_throwsWithRemedies() {
        DenseLaplaceState zero =
                DenseGgn.<Void>builder((p, b) -> null, (o, b) -> o).build().init(mean);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> zero.sample(2));
        assertTrue(
                e.getMessage().contains("positive definite") && e.getMessage().contains("initPrec"),
                e.getMessage());
    }

    @Test
    void diagLogProb_matchesCommonsMath() {
        DiagLaplaceState s = diagState();
        TensorTree x =
                Fixtures.tree(manager.create(new double[] {0.0, 1.0, 2.0}), manager.create(2.5));
        double[] xs = x.ravel().toDoubleArray();
        double[] mu = mean.ravel().toDoubleArray();
        double[] prec = s.precDiag().ravel().toDoubleArray();
        for (double t : new double[] {1.0, 0.2}) {
            double expected = 0;
            for (int j = 0; j < 4; j++) {
                expected += new NormalDistribution(mu[j], Math.sqrt(t / prec[j])).logDensity(xs[j]);
            }
            assertEquals(expected, s.logProb(x, t).getDouble(), 1e-10, "T = " + t);
        }
        assertEquals(s.logProb(x, 1.0).getDouble(), s.logProb(x).getDouble(), 0);
    }

    @Test
    void denseLogProb_matchesCommonsMath() {
        DenseLaplaceState s = denseState();
        TensorTree x =
                Fixtures.tree(manager.create(new double[] {0.0, 1.0, 2.0}), manager.create(2.5));
        RealMatrix cov =
                new LUDecomposition(new Array2DRowRealMatrix(densePrecision()))
                        .getSolver()
                        .getInverse();
        for (double t : new double[] {1.0, 0.2}) {
            double expected =
                    Math.log(
                            new MultivariateNormalDistribution(
                                            mean.ravel().toDoubleArray(),
                                            cov.scalarMultiply(t).getData())
                                    .density(x.ravel().toDoubleArray()));
            assertEquals(expected, s.logProb(x, t).getDouble(), 1e-9, "T = " + t);
        }
    }

    @Test
    void logProb_batchedPointsMatchOneAtATime() {
        TensorTree draws = diagState().sample(4, 2.0);
        NDArray diag = diagState().logProb(draws);
        NDArray dense = denseState().logProb(draws);
        assertEquals(new Shape(4), diag.getShape());
        assertEquals(new Shape(4), dense.getShape());
        for (int i = 0; i < 4; i++) {
            final int k = i;
            TensorTree one = draws.map(a -> a.get(k));
            assertEquals(diagState().logProb(one).getDouble(), diag.getDouble(i), 1e-10);
            assertEquals(denseState().logProb(one).getDouble(), dense.getDouble(i), 1e-10);
        }
    }

    @Test
    void logProb_isDifferentiable_gradientIsMinusPrecisionTimesOffset() {
        // used as a prior for the next task: d/dx log N(x | μ, T prec^-1) = -prec (x - μ) / T
        DenseLaplaceState s = denseState();
        TensorTree x =
                Fixtures.tree(manager.create(new double[] {0.0, 1.0, 2.0}), manager.create(2.5));
        TensorTree g = Autodiff.grad((p, b) -> LogProb.of(s.logProb(p, 0.5)), x, null);
        RealMatrix prec = new Array2DRowRealMatrix(densePrecision());
        double[] d = x.ravel().sub(mean.ravel()).toDoubleArray();
        double[] expected = prec.operate(d);
        double[] actual = g.ravel().toDoubleArray();
        for (int j = 0; j < 4; j++) {
            assertEquals(-expected[j] / 0.5, actual[j], 1e-9);
        }
    }

    @Test
    void logProb_wrongStructureOrTemperature_throws() {
        TensorTree wrong =
                Fixtures.tree(manager.zeros(new Shape(2), DataType.FLOAT64), manager.create(1.0));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> diagState().logProb(wrong));
        assertTrue(e.getMessage().contains("x leaf 'w'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> denseState().logProb(mean, 0.0));
    }
}
