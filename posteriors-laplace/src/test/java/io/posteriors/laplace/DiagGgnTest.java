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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DiagGgnTest {

    private static final int N = 40;

    private NDManager manager;
    private TensorTree params;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(44);
        manager = NDManager.newBaseManager();
        params = Fixtures.params(manager);
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    @Test
    void update_linearGaussian_equalsClosedFormDiagonal() {
        XY data = Fixtures.regression(manager, N);
        double prior = 1 / (Fixtures.TAU * Fixtures.TAU);
        double[][] x = Fixtures.design(data.x());
        double[] expected = new double[Fixtures.D + 1];
        for (double[] row : x) {
            for (int j = 0; j < row.length; j++) {
                expected[j] += row[j] * row[j] / (Fixtures.SIGMA * Fixtures.SIGMA);
            }
        }
        Transform<DiagLaplaceState, XY> t =
                DiagGgn.builder(Fixtures.linear(), Fixtures.gaussianOuter())
                        .initPrecDiag(prior)
                        .build();
        DiagLaplaceState mini = t.init(params);
        for (XY b : Fixtures.minibatches(data, 10)) {
            mini = t.updateInPlace(mini, b).state();
        }
        DiagLaplaceState full = t.update(t.init(params), data).state();
        double[] a = mini.precDiag().ravel().toDoubleArray();
        double[] f = full.precDiag().ravel().toDoubleArray();
        for (int j = 0; j < expected.length; j++) {
            assertEquals(expected[j] + prior, a[j], 1e-9 * expected[j], "minibatches " + j);
            assertEquals(expected[j] + prior, f[j], 1e-9 * expected[j], "full batch " + j);
        }
    }

    @Test
    void update_logistic_equalsDiagonalOfFisher() {
        XY data = Fixtures.logistic(manager, N);
        double[][] fisher = DenseGgnTest.logisticFisher(params, data);
        DiagLaplaceState s =
                DiagGgn.builder(Fixtures.linear(), Fixtures.bernoulliOuter())
                        .build()
                        .update(
                                DiagGgn.builder(Fixtures.linear(), Fixtures.bernoulliOuter())
                                        .build()
                                        .init(params),
                                data)
                        .state();
        double[] d = s.precDiag().ravel().toDoubleArray();
        for (int j = 0; j < d.length; j++) {
            assertEquals(fisher[j][j], d[j], 1e-9 * fisher[j][j]);
        }
    }

    @Test
    void update_returnsForwardAux() {
        ForwardFn<XY> withAux =
                (p, b) ->
                        new ModelOutput(
                                Fixtures.linear().apply(p, b).output(),
                                new ai.djl.ndarray.NDList(b.x().sum()));
        Transform<DiagLaplaceState, XY> t =
                DiagGgn.builder(withAux, Fixtures.gaussianOuter()).build();
        XY data = Fixtures.regression(manager, 5);
        var step = t.update(t.init(params), data);
        assertEquals(1, step.aux().size());
        assertEquals(data.x().sum().getDouble(), step.aux().get(0).getDouble(), 1e-12);
    }

    @Test
    void update_forwardNotBatchFirst_throwsClearly() {
        XY data = Fixtures.regression(manager, 6);
        ForwardFn<XY> rowVector =
                (p, b) -> ModelOutput.of(Fixtures.linear().apply(p, b).output().reshape(1, -1));
        Transform<DiagLaplaceState, XY> t = DiagGgn.builder(rowVector, (o, b) -> o.sum()).build();
        DiagLaplaceState s = t.init(params);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> t.updateInPlace(s, data));
        assertTrue(
                e.getMessage().contains("batch-first") && e.getMessage().contains("(1, 6)"),
                e.getMessage());
        ForwardFn<XY> scalar =
                (p, b) -> ModelOutput.of(Fixtures.linear().apply(p, b).output().sum());
        Transform<DiagLaplaceState, XY> t2 = DiagGgn.builder(scalar, (o, b) -> o.sum()).build();
        e = assertThrows(IllegalArgumentException.class, () -> t2.update(s, data));
        assertTrue(e.getMessage().contains("batch-first"), e.getMessage());
        assertEquals(0, s.step());
    }

    @Test
    void update_nonScalarOuter_throwsClearly() {
        XY data = Fixtures.regression(manager, 6);
        Transform<DiagLaplaceState, XY> t =
                DiagGgn.builder(Fixtures.linear(), (o, b) -> o.square()).build();
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> t.update(t.init(params), data));
        assertTrue(e.getMessage().contains("scalar"), e.getMessage());
    }
}
