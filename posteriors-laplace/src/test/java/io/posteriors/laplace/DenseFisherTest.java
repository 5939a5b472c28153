package io.posteriors.laplace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.laplace.Fixtures.XY;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DenseFisherTest {

    private static final int N = 40;

    private NDManager manager;
    private XY data;
    private TensorTree params;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(43);
        manager = NDManager.newBaseManager();
        data = Fixtures.regression(manager, N);
        params = Fixtures.params(manager);
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** Σ_i g_i g_i^T of the hand-written per-sample gradients, plus {@code init} I. */
    private double[][] expected(double init) {
        double[][] f = new double[Fixtures.D + 1][Fixtures.D + 1];
        for (double[] g : Fixtures.perSampleGradients(params, data, N)) {
            for (int a = 0; a < g.length; a++) {
                for (int b = 0; b < g.length; b++) {
                    f[a][b] += g[a] * g[b];
                }
            }
        }
        for (int a = 0; a < f.length; a++) {
            f[a][a] += init;
        }
        return f;
    }

    @Test
    void update_minibatchesAndFullBatch_equalSumOfOuterProducts() {
        double[][] expected = expected(0.5);
        Transform<DenseLaplaceState, XY> t =
                DenseFisher.builder(Fixtures.meanLogPosterior(N)).initPrec(0.5).build();
        DenseLaplaceState mini = t.init(params);
        for (XY b : Fixtures.minibatches(data, 10)) {
            mini = t.updateInPlace(mini, b).state();
        }
        Fixtures.assertMatrixClose(expected, Fixtures.matrix(mini.prec()), 1e-6);
        DenseLaplaceState full = t.update(t.init(params), data).state();
        Fixtures.assertMatrixClose(expected, Fixtures.matrix(full.prec()), 1e-6);
        assertEquals(1, full.step());
    }

    @Test
    void update_perSampleTrue_matchesPerSampleFalse() {
        LogProbFn<XY> perSample =
                (p, b) -> {
                    NDArray o = Fixtures.linear().apply(p, b).output();
                    NDArray ll = Fixtures.gaussianLogLik(o, b.y(), Fixtures.SIGMA);
                    return LogProb.of(
                            ll.mul(Fixtures.constant(ll, N))
                                    .add(Fixtures.logPrior(p, Fixtures.TAU)));
                };
        Transform<DenseLaplaceState, XY> t = DenseFisher.builder(perSample).perSample(true).build();
        DenseLaplaceState s = t.init(params);
        for (XY b : Fixtures.minibatches(data, 16)) {
            s = t.updateInPlace(s, b).state();
        }
        Fixtures.assertMatrixClose(expected(0), Fixtures.matrix(s.prec()), 1e-6);
    }

    @Test
    void update_diagonalEqualsDiagFisher() {
        DenseLaplaceState dense =
                DenseFisher.builder(Fixtures.meanLogPosterior(N))
                        .build()
                        .update(
                                DenseFisher.builder(Fixtures.meanLogPosterior(N))
                                        .build()
                                        .init(params),
                                data)
                        .state();
        DiagLaplaceState diag =
                DiagFisher.builder(Fixtures.meanLogPosterior(N))
                        .build()
                        .update(
                                DiagFisher.builder(Fixtures.meanLogPosterior(N))
                                        .build()
                                        .init(params),
                                data)
                        .state();
        double[][] m = Fixtures.matrix(dense.prec());
        double[] d = diag.precDiag().ravel().toDoubleArray();
        for (int i = 0; i < d.length; i++) {
            assertEquals(d[i], m[i][i], 1e-9 * Math.abs(d[i]));
        }
    }

    @Test
    void build_badInitialPrecision_throws() {
        var b = DenseFisher.builder(Fixtures.meanLogPosterior(N));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> b.initPrec(-0.1));
        assertTrue(e.getMessage().contains("initPrec"), e.getMessage());
        NDArray negativeDiagonal = manager.eye(4).toType(DataType.FLOAT64, false).neg();
        e = assertThrows(IllegalArgumentException.class, () -> b.initPrec(negativeDiagonal));
        assertTrue(e.getMessage().contains("diagonal"), e.getMessage());
        NDArray asymmetric = manager.create(new double[][] {{1, 2}, {0, 1}});
        e = assertThrows(IllegalArgumentException.class, () -> b.initPrec(asymmetric));
        assertTrue(e.getMessage().contains("symmetric"), e.getMessage());
        NDArray notSquare = manager.ones(new Shape(2, 3));
        e = assertThrows(IllegalArgumentException.class, () -> b.initPrec(notSquare));
        assertTrue(e.getMessage().contains("square"), e.getMessage());
    }

    @Test
    void init_initialPrecisionOfWrongSize_throwsNamingShapes() {
        var t =
                DenseFisher.builder(Fixtures.meanLogPosterior(N))
                        .initPrec(manager.eye(3).toType(DataType.FLOAT64, false))
                        .build();
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> t.init(params));
        assertTrue(e.getMessage().contains("(4, 4)"), e.getMessage());
    }

    @Test
    void init_initialPrecisionMatrix_isCopied() {
        NDArray init = manager.eye(4).toType(DataType.FLOAT64, false).mul(3);
        var t = DenseFisher.builder(Fixtures.meanLogPosterior(N)).initPrec(init).build();
        DenseLaplaceState s = t.init(params);
        assertTrue(s.prec() != init);
        assertTrue(s.prec().allClose(init, 0, 0, false));
        t.updateInPlace(s, data);
        assertEquals(3.0, init.getDouble(0, 0), "the user's matrix is not written to");
    }
}
