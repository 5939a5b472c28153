package io.posteriors.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.Scalars;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.TestArrays;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OptimizeTest {

    /** Maximiser of the log posterior, in ravel order of the (w (2, 2), b (1)) tree. */
    private static final double[] MODE = {0.5, -1.5, 2.0, 0.25, -0.75};

    private NDManager manager;
    private double[][] h;
    private LogProbFn<Void> logPosterior;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        // H = Q diag(0.5 .. 3) Q^T for a fixed rotation Q: eigenvalues known, so a step size
        // below 2 / 3 converges
        double[] eig = {0.5, 1.0, 1.5, 2.5, 3.0};
        RealMatrix q =
                new org.apache.commons.math3.linear.QRDecomposition(
                                new Array2DRowRealMatrix(
                                        new double[][] {
                                            {1, 2, 0, 1, 0},
                                            {0, 1, 3, 0, 1},
                                            {2, 0, 1, 1, 0},
                                            {1, 1, 0, 2, 1},
                                            {0, 1, 1, 0, 2}
                                        }))
                        .getQ();
        RealMatrix d = new Array2DRowRealMatrix(5, 5);
        for (int i = 0; i < 5; i++) {
            d.setEntry(i, i, eig[i]);
        }
        h = q.multiply(d).multiply(q.transpose()).getData();
        NDArray hm = manager.create(h);
        NDArray mode = manager.create(MODE);
        // log p(x) = -1/2 (x - mode)^T H (x - mode); the aux is the raveled point
        logPosterior =
                (p, batch) -> {
                    NDArray r = p.ravel().sub(mode);
                    NDArray quad = r.matMul(hm.matMul(r.reshape(-1, 1)).reshape(-1));
                    return LogProb.of(quad.mul(-0.5), p.ravel());
                };
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private double hostLogPosterior(double[] x) {
        double s = 0;
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 5; j++) {
                s += (x[i] - MODE[i]) * h[i][j] * (x[j] - MODE[j]);
            }
        }
        return -0.5 * s;
    }

    @Test
    void sgd_reachesTheKnownMaximiser() {
        // contraction max |1 - lr lambda| = 0.85 per step: 200 steps shrink the error by 1e-14
        Optimize<Void> t = Optimize.builder(logPosterior, Sgd.of(0.3)).build();
        OptimizeState s = t.init(OptimizerTestSupport.start(manager));
        assertEquals(0, s.step());
        assertTrue(Double.isNaN(Scalars.value(s.logPosterior())));
        for (int i = 0; i < 200; i++) {
            Step<OptimizeState> step = t.updateInPlace(s, null);
            step.aux().close();
            s = step.state();
        }
        assertEquals(200, s.step());
        assertArrayEquals(MODE, TestArrays.flat(s.params()), 1e-10);
        assertEquals(0.0, Scalars.value(s.logPosterior()), 1e-18);
    }

    @Test
    void sgdWithMomentum_andAdam_reachTheMaximiser() {
        for (GradientOptimizer opt :
                new GradientOptimizer[] {Sgd.of(0.1).momentum(0.5), Adam.of(0.05)}) {
            Optimize<Void> t = Optimize.builder(logPosterior, opt).build();
            OptimizeState s = t.init(OptimizerTestSupport.start(manager));
            for (int i = 0; i < 300; i++) {
                Step<OptimizeState> step = t.updateInPlace(s, null);
                step.aux().close();
                s = step.state();
            }
            assertArrayEquals(MODE, TestArrays.flat(s.params()), 1e-4, opt.getClass().getName());
        }
    }

    @Test
    void update_recordsLogPosteriorBeforeTheStep_andReturnsAux() {
        Optimize<Void> t = Optimize.builder(logPosterior, Sgd.of(0.1)).build();
        TensorTree start = OptimizerTestSupport.start(manager);
        double[] x0 = TestArrays.flat(start);
        OptimizeState s0 = t.init(start);
        Step<OptimizeState> step = t.update(s0, null);
        assertEquals(hostLogPosterior(x0), Scalars.value(step.state().logPosterior()), 1e-12);
        assertEquals(1, step.aux().size());
        assertArrayEquals(x0, TestArrays.doubles(step.aux().get(0)), "aux is the model output");
        // one ascent step: x1 = x0 + lr H (mode - x0)
        double[] x1 = x0.clone();
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 5; j++) {
                x1[i] += 0.1 * h[i][j] * (MODE[j] - x0[j]);
            }
        }
        assertArrayEquals(x1, TestArrays.flat(step.state().params()), 1e-12);
        assertArrayEquals(x0, TestArrays.flat(s0.params()), "pure update leaves the input");
        assertArrayEquals(x0, TestArrays.flat(start), "init copied the caller's parameters");
    }

    @Test
    void float32Params_initAndCloseLeaveNoArrayBehind() {
        Optimize<Void> t = Optimize.builder(logPosterior, Adam.of(0.1)).build();
        TensorTree start =
                OptimizerTestSupport.start(manager).map(a -> a.toType(DataType.FLOAT32, false));
        int before = manager.getManagedArrays().size();
        OptimizeState s = t.init(start);
        assertEquals(DataType.FLOAT32, s.logPosterior().getDataType());
        s.close();
        assertEquals(before, manager.getManagedArrays().size(), "arrays left by init");
    }

    @Test
    void failingStep_leavesStateUnchanged_andLeaksNothing() {
        Optimize<Void> t =
                Optimize.builder(logPosterior, Sgd.of(step -> step < 1 ? 0.1 : -0.1)).build();
        OptimizeState s = t.init(OptimizerTestSupport.start(manager));
        Step<OptimizeState> first = t.updateInPlace(s, null);
        first.aux().close();
        OptimizeState one = first.state();
        double[] params = TestArrays.flat(one.params());
        int before = manager.getManagedArrays().size();
        var pure = assertThrows(IllegalArgumentException.class, () -> t.update(one, null));
        assertTrue(pure.getMessage().contains("lr") && pure.getMessage().contains("step 1"));
        assertEquals(before, manager.getManagedArrays().size(), "arrays leaked by a failed update");
        assertThrows(IllegalArgumentException.class, () -> t.updateInPlace(one, null));
        assertEquals(before, manager.getManagedArrays().size(), "arrays leaked by a failed step");
        assertArrayEquals(params, TestArrays.flat(one.params()));
        assertEquals(1, one.step());
    }

    @Test
    void builder_rejectsNulls() {
        var a = assertThrows(NullPointerException.class, () -> Optimize.builder(null, Sgd.of(0.1)));
        assertEquals("logPosterior", a.getMessage());
        var b =
                assertThrows(
                        NullPointerException.class, () -> Optimize.builder(logPosterior, null));
        assertEquals("optimizer", b.getMessage());
    }
}
