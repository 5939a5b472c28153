package io.posteriors.laplace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.InitialValue;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.PerSample;
import io.posteriors.TensorTree;
import io.posteriors.laplace.Fixtures.XY;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The states as values (copies, posteriors) and the options as validated records. */
class LaplaceStatesTest {

    private NDManager manager;
    private TensorTree mean;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        mean = Fixtures.tree(manager.create(new double[] {1.0, -2.0, 0.5}), manager.create(3.0));
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    @Test
    void diagCopy_isIndependentOfTheOriginal() {
        TensorTree prec =
                Fixtures.tree(manager.create(new double[] {4.0, 0.25, 1.0}), manager.create(9.0));
        DiagLaplaceState s = new DiagLaplaceState(mean, prec, 3);
        DiagLaplaceState c = s.copy();
        assertEquals(3, c.step());
        assertTrue(c.params().allClose(s.params(), 0, 0) && c.precDiag().allClose(prec, 0, 0));
        c.precDiag().forEach((k, a) -> a.addi(1));
        c.params().forEach((k, a) -> a.addi(1));
        assertEquals(4.0, s.precDiag().get("w").getDouble(0), "the original precision is kept");
        assertEquals(1.0, s.params().get("w").getDouble(0), "the original mean is kept");
        assertTrue(s.mean() == s.params(), "the mean is the parameters");
    }

    @Test
    void denseCopy_isIndependentOfTheOriginal() {
        NDArray prec = manager.create(DenseLaplaceStatePosteriorTest.precision());
        DenseLaplaceState s = new DenseLaplaceState(mean, prec, 2);
        DenseLaplaceState c = s.copy();
        assertEquals(2, c.step());
        assertNotSame(prec, c.prec());
        assertTrue(c.prec().allClose(prec, 0, 0, false));
        double before = prec.getDouble(0, 0);
        c.prec().addi(1);
        c.params().forEach((k, a) -> a.addi(1));
        assertEquals(before, s.prec().getDouble(0, 0), "the original precision is kept");
        assertEquals(1.0, s.params().get("w").getDouble(0), "the original mean is kept");
    }

    @Test
    void diagVarianceDiag_isTheReciprocalPrecision() {
        TensorTree prec =
                Fixtures.tree(manager.create(new double[] {4.0, 0.25, 1.0}), manager.create(8.0));
        double[] v = new DiagLaplaceState(mean, prec, 0).varianceDiag().ravel().toDoubleArray();
        assertTrue(java.util.Arrays.equals(new double[] {0.25, 4.0, 1.0, 0.125}, v));
    }

    @Test
    void denseCovarianceCholesky_isLowerAndFactorsTheInversePrecision() {
        double[][] p = DenseLaplaceStatePosteriorTest.precision();
        DenseLaplaceState s = new DenseLaplaceState(mean, manager.create(p), 0);
        double[][] l = Fixtures.matrix(s.covarianceCholesky());
        RealMatrix inverse =
                new LUDecomposition(new Array2DRowRealMatrix(p)).getSolver().getInverse();
        RealMatrix lm = new Array2DRowRealMatrix(l);
        for (int i = 0; i < 4; i++) {
            assertTrue(l[i][i] > 0, "positive diagonal " + i);
            for (int j = i + 1; j < 4; j++) {
                assertEquals(0.0, l[i][j], 0.0, "upper entry " + i + "," + j);
            }
        }
        Fixtures.assertMatrixClose(inverse.getData(), lm.multiply(lm.transpose()).getData(), 1e-12);
        Fixtures.assertMatrixClose(inverse.getData(), Fixtures.matrix(s.covariance()), 1e-12);
    }

    @Test
    void denseCovarianceCholesky_singularPrecision_throwsWithRemedies() {
        DenseLaplaceState s =
                new DenseLaplaceState(
                        mean,
                        manager.zeros(new ai.djl.ndarray.types.Shape(4, 4), DataType.FLOAT64),
                        0);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, s::covarianceCholesky);
        assertTrue(
                e.getMessage().contains("not positive definite")
                        && e.getMessage().contains("initPrec"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.logProb(mean));
        assertTrue(e.getMessage().contains("evaluate the log density"), e.getMessage());
    }

    @Test
    void init_nonFiniteParams_throwsNamingLeafAndStep() {
        TensorTree bad =
                Fixtures.tree(
                        manager.create(new double[] {0.0, Double.NaN, 1.0}), manager.create(1.0));
        LogProbFn<XY> f = Fixtures.meanLogPosterior(4);
        for (Runnable init :
                new Runnable[] {
                    () -> DiagFisher.builder(f).build().init(bad),
                    () -> DenseHessian.builder(f).build().init(bad),
                    () ->
                            DiagGgn.builder(Fixtures.linear(), Fixtures.gaussianOuter())
                                    .build()
                                    .init(bad),
                }) {
            int before = manager.getManagedArrays().size();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, init::run);
            assertTrue(
                    e.getMessage().contains("params")
                            && e.getMessage().contains("'w'")
                            && e.getMessage().contains("step 0"),
                    e.getMessage());
            assertEquals(before, manager.getManagedArrays().size(), "a failed init leaks nothing");
        }
    }

    @Test
    void records_validateTheirOptions() {
        LogProbFn<XY> f = (p, b) -> LogProb.of(p.get("b"));
        InitialValue zero = InitialValue.of(0.0, "initPrec");
        assertThrows(
                IllegalArgumentException.class,
                () ->
                        new DiagFisher<XY>(
                                f, false, PerSample::split, new InitialValue.Constant(-1)));
        assertThrows(
                NullPointerException.class,
                () -> new DiagFisher<XY>(null, false, PerSample::split, zero));
        assertThrows(NullPointerException.class, () -> new DenseFisher<XY>(f, true, null, zero));
        assertThrows(
                IllegalArgumentException.class,
                () ->
                        new DenseGgn<XY>(
                                Fixtures.linear(),
                                Fixtures.gaussianOuter(),
                                new InitialValue.Constant(Double.NaN)));
        assertThrows(IllegalArgumentException.class, () -> new DenseHessian<XY>(f, zero, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> new DenseHessian<XY>(f, zero, 0, 0));
        NDArray asymmetric = manager.create(new double[][] {{1, 2}, {0, 1}});
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> new DenseHessian<XY>(f, new InitialValue.Matrix(asymmetric), 0, 1));
        assertTrue(e.getMessage().contains("symmetric"), e.getMessage());
    }

    @Test
    void builders_fillTheRecord() {
        LogProbFn<XY> f = (p, b) -> LogProb.of(p.get("b"));
        DenseHessian<XY> h = DenseHessian.builder(f).epsilon(0.5).rescale(4).initPrec(2).build();
        assertEquals(new DenseHessian<>(f, InitialValue.of(2.0, "initPrec"), 0.5, 4.0), h);
        DiagFisher<XY> d = DiagFisher.builder(f).perSample(true).initPrecDiag(3).build();
        assertTrue(d.perSample());
        assertEquals(new InitialValue.Constant(3), d.initPrecDiag());
    }
}
