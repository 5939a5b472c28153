package io.posteriors.optim;

import static io.posteriors.optim.OptimizerTestSupport.X0;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import io.posteriors.Schedule;
import io.posteriors.TensorTree;
import io.posteriors.TestArrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SgdTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /**
     * Runs {@code steps} steps of the optimiser on the quadratic and the same number of steps of
     * the PyTorch SGD equations in Java: {@code d = g + wd x; b = mu b + d (b = d at the first
     * step); x = x - lr_t d_or_b}.
     */
    private void compare(Sgd sgd, Schedule lr, double mu, double wd, int steps) {
        TensorTree x = OptimizerTestSupport.start(manager);
        OptimState state = sgd.init(x);
        assertEquals(mu > 0 ? 1 : 0, state.slots().size());
        double[] hx = X0.clone();
        double[] buf = new double[hx.length];
        for (int t = 0; t < steps; t++) {
            try (TensorTree g = OptimizerTestSupport.grad(x)) {
                state = sgd.stepInPlace(x, g, state);
            }
            assertEquals(t + 1, state.count());
            double[] hg = OptimizerTestSupport.grad(hx);
            double rate = lr.at(t);
            for (int i = 0; i < hx.length; i++) {
                double d = hg[i] + wd * hx[i];
                if (mu > 0) {
                    buf[i] = mu * buf[i] + d;
                    d = buf[i];
                }
                hx[i] -= rate * d;
            }
            assertArrayEquals(hx, OptimizerTestSupport.host(x), 1e-13, "step " + (t + 1));
            if (mu > 0) {
                assertArrayEquals(buf, TestArrays.flat(state.slots().get(0)), 1e-13);
            }
        }
    }

    @Test
    void plain_matchesHandWrittenSgd() {
        compare(Sgd.of(0.1), Schedule.constant(0.1), 0, 0, 5);
    }

    @Test
    void momentum_matchesHandWrittenHeavyBall() {
        compare(Sgd.of(0.05).momentum(0.9), Schedule.constant(0.05), 0.9, 0, 6);
    }

    @Test
    void momentumAndWeightDecayWithSchedule_matchHandWrittenSgd() {
        Schedule lr = step -> 0.1 / (1 + step);
        compare(Sgd.of(lr).momentum(0.5).weightDecay(0.01), lr, 0.5, 0.01, 6);
    }

    @Test
    void step_leaksNoArray() {
        TensorTree x = OptimizerTestSupport.start(manager);
        Sgd sgd = Sgd.of(0.1).momentum(0.9).weightDecay(0.1);
        OptimState state = sgd.init(x);
        TensorTree g = OptimizerTestSupport.grad(x);
        int before = manager.getManagedArrays().size();
        for (int i = 0; i < 5; i++) {
            state = sgd.stepInPlace(x, g, state);
        }
        assertEquals(before, manager.getManagedArrays().size());
    }

    @Test
    void badArguments_areRejectedNamingThem() {
        var lr = assertThrows(IllegalArgumentException.class, () -> Sgd.of(-1));
        assertTrue(
                lr.getMessage().contains("lr") && lr.getMessage().contains("-1.0"),
                lr.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Sgd.of(0));
        assertThrows(IllegalArgumentException.class, () -> Sgd.of(Double.NaN));
        var mu = assertThrows(IllegalArgumentException.class, () -> Sgd.of(0.1).momentum(1));
        assertTrue(mu.getMessage().contains("momentum") && mu.getMessage().contains("1.0"));
        var wd = assertThrows(IllegalArgumentException.class, () -> Sgd.of(0.1).weightDecay(-0.5));
        assertTrue(wd.getMessage().contains("weightDecay") && wd.getMessage().contains("-0.5"));
        var n = assertThrows(NullPointerException.class, () -> Sgd.of((Schedule) null));
        assertEquals("lr", n.getMessage());

        TensorTree x = OptimizerTestSupport.start(manager);
        Sgd bad = Sgd.of(step -> step < 2 ? 0.1 : -0.1);
        OptimState state = bad.init(x);
        TensorTree g = OptimizerTestSupport.grad(x);
        state = bad.stepInPlace(x, g, state);
        state = bad.stepInPlace(x, g, state);
        double[] before = OptimizerTestSupport.host(x);
        OptimState last = state;
        var s = assertThrows(IllegalArgumentException.class, () -> bad.stepInPlace(x, g, last));
        assertTrue(
                s.getMessage().contains("lr")
                        && s.getMessage().contains("-0.1")
                        && s.getMessage().contains("step 2"),
                s.getMessage());
        assertArrayEquals(before, OptimizerTestSupport.host(x), "a rejected step changes nothing");
        var shape =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Sgd.of(0.1).stepInPlace(x, g.subset(k -> k.equals("w")), last));
        assertTrue(shape.getMessage().contains("grad"), shape.getMessage());
    }
}
