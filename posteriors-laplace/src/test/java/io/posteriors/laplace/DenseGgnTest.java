package io.posteriors.laplace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import io.posteriors.ForwardFn;
import io.posteriors.ModelOutput;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.laplace.Fixtures.XY;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.DiagonalMatrix;
import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DenseGgnTest {

    private static final int N = 40;

    private NDManager manager;
    private TensorTree params;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(45);
        manager = NDManager.newBaseManager();
        params = Fixtures.params(manager);
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** Bayesian linear regression: X^T X / σ² + I / τ², with X the design with a ones column. */
    static double[][] linearPosteriorPrecision(XY data) {
        RealMatrix x = new Array2DRowRealMatrix(Fixtures.design(data.x()));
        RealMatrix prec =
                x.transpose().multiply(x).scalarMultiply(1 / (Fixtures.SIGMA * Fixtures.SIGMA));
        return prec.add(
                        MatrixUtils.createRealIdentityMatrix(Fixtures.D + 1)
                                .scalarMultiply(1 / (Fixtures.TAU * Fixtures.TAU)))
                .getData();
    }

    /** The Fisher of logistic regression X^T diag(p (1 - p)) X, computed with Commons Math. */
    static double[][] logisticFisher(TensorTree params, XY data) {
        double[][] design = Fixtures.design(data.x());
        double[] theta = params.ravel().toDoubleArray();
        double[] weights = new double[design.length];
        for (int i = 0; i < design.length; i++) {
            double o = 0;
            for (int j = 0; j < theta.length; j++) {
                o += design[i][j] * theta[j];
            }
            double p = 1 / (1 + Math.exp(-o));
            weights[i] = p * (1 - p);
        }
        RealMatrix x = new Array2DRowRealMatrix(design);
        return x.transpose().multiply(new DiagonalMatrix(weights)).multiply(x).getData();
    }

    @Test
    void update_bayesianLinearRegression_equalsClosedFormPrecision() {
        XY data = Fixtures.regression(manager, N);
        Transform<DenseLaplaceState, XY> t =
                DenseGgn.builder(Fixtures.linear(), Fixtures.gaussianOuter())
                        .initPrec(1 / (Fixtures.TAU * Fixtures.TAU))
                        .build();
        DenseLaplaceState mini = t.init(params);
        for (XY b : Fixtures.minibatches(data, 10)) {
            mini = t.updateInPlace(mini, b).state();
        }
        double[][] expected = linearPosteriorPrecision(data);
        Fixtures.assertMatrixClose(expected, Fixtures.matrix(mini.prec()), 1e-4);
        DenseLaplaceState full = t.update(t.init(params), data).state();
        Fixtures.assertMatrixClose(expected, Fixtures.matrix(full.prec()), 1e-4);
        assertEquals(4, mini.step());
    }

    @Test
    void update_logisticRegression_equalsCommonsMathFisher() {
        XY data = Fixtures.logistic(manager, N);
        Transform<DenseLaplaceState, XY> t =
                DenseGgn.builder(Fixtures.linear(), Fixtures.bernoulliOuter()).build();
        DenseLaplaceState s = t.init(params);
        for (XY b : Fixtures.minibatches(data, 16)) {
            s = t.updateInPlace(s, b).state();
        }
        Fixtures.assertMatrixClose(logisticFisher(params, data), Fixtures.matrix(s.prec()), 1e-6);
    }

    @Test
    void update_precisionIsExactlySymmetric() {
        XY data = Fixtures.logistic(manager, N);
        Transform<DenseLaplaceState, XY> t =
                DenseGgn.builder(Fixtures.linear(), Fixtures.bernoulliOuter()).build();
        DenseLaplaceState s = t.update(t.init(params), data).state();
        assertTrue(s.prec().allClose(s.prec().transpose(), 0, 0, false));
    }

    @Test
    void update_forwardNotBatchFirst_throwsAndLeavesStateUnchanged() {
        XY data = Fixtures.regression(manager, 6);
        ForwardFn<XY> transposed =
                (p, b) -> ModelOutput.of(Fixtures.linear().apply(p, b).output().reshape(1, 6));
        Transform<DenseLaplaceState, XY> t =
                DenseGgn.builder(transposed, (o, b) -> o.square().sum()).initPrec(1).build();
        DenseLaplaceState s = t.init(params);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> t.updateInPlace(s, data));
        assertTrue(e.getMessage().contains("batch-first"), e.getMessage());
        assertTrue(s.prec().allClose(manager.eye(4).toType(s.prec().getDataType(), false)));
    }

    @Test
    void update_nonFiniteGgn_throwsNamingEntry() {
        // The loss o^1.5 is finite at o = 0 (the linear model at zero parameters), but its second
        // derivative 0.75 o^-0.5 is not.
        XY data = Fixtures.regression(manager, 6);
        Transform<DenseLaplaceState, XY> t =
                DenseGgn.builder(
                                Fixtures.linear(),
                                (o, b) -> o.pow(Fixtures.constant(o, 1.5)).sum().neg())
                        .build();
        DenseLaplaceState s = t.init(params.zerosLike());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> t.updateInPlace(s, data));
        assertTrue(e.getMessage().contains("not finite"), e.getMessage());
        assertEquals(0, s.step());
    }
}
