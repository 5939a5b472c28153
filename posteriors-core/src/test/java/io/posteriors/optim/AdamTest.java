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

class AdamTest {

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
     * Runs the optimiser and a Java transcription of Kingma and Ba's Algorithm 1 (with AdamW's
     * decoupled decay): {@code m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; mhat = m / (1 -
     * b1^t); vhat = v / (1 - b2^t); x = x - lr mhat / (sqrt(vhat) + eps) - lr wd x}.
     */
    private void compare(Adam adam, Schedule lr, double b1, double b2, double eps, double wd) {
        TensorTree x = OptimizerTestSupport.start(manager);
        OptimState state = adam.init(x);
        assertEquals(2, state.slots().size());
        double[] hx = X0.clone();
        double[] m = new double[hx.length];
        double[] v = new double[hx.length];
        for (int t = 1; t <= 6; t++) {
            try (TensorTree g = OptimizerTestSupport.grad(x)) {
                state = adam.stepInPlace(x, g, state);
            }
            double[] g = OptimizerTestSupport.grad(hx);
            double rate = lr.at(t - 1);
            for (int i = 0; i < hx.length; i++) {
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                double mhat = m[i] / (1 - Math.pow(b1, t));
                double vhat = v[i] / (1 - Math.pow(b2, t));
                hx[i] = hx[i] - rate * mhat / (Math.sqrt(vhat) + eps) - rate * wd * hx[i];
            }
            assertEquals(t, state.count());
            assertArrayEquals(hx, OptimizerTestSupport.host(x), 1e-12, "params at step " + t);
            assertArrayEquals(m, TestArrays.flat(state.slots().get(0)), 1e-12, "m at step " + t);
            assertArrayEquals(v, TestArrays.flat(state.slots().get(1)), 1e-12, "v at step " + t);
        }
    }

    @Test
    void defaults_matchHandWrittenAdam() {
        compare(Adam.of(0.05), Schedule.constant(0.05), 0.9, 0.999, 1e-8, 0);
    }

    @Test
    void customBetasEpsAndWeightDecay_matchHandWrittenAdamW() {
        Schedule lr = step -> 0.1 * Math.pow(0.8, step);
        compare(Adam.of(lr).betas(0.5, 0.9).eps(1e-3).weightDecay(0.05), lr, 0.5, 0.9, 1e-3, 0.05);
    }

    @Test
    void badArguments_areRejectedNamingThem() {
        var nan = assertThrows(IllegalArgumentException.class, () -> Adam.of(Double.NaN));
        assertTrue(
                nan.getMessage().contains("lr") && nan.getMessage().contains("NaN"),
                nan.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Adam.of(-1e-3));
        var b1 = assertThrows(IllegalArgumentException.class, () -> Adam.of(0.1).betas(1, 0.9));
        assertTrue(b1.getMessage().contains("beta1") && b1.getMessage().contains("1.0"));
        var b2 = assertThrows(IllegalArgumentException.class, () -> Adam.of(0.1).betas(0.9, -0.1));
        assertTrue(b2.getMessage().contains("beta2") && b2.getMessage().contains("-0.1"));
        var eps = assertThrows(IllegalArgumentException.class, () -> Adam.of(0.1).eps(0));
        assertTrue(eps.getMessage().contains("eps"));
        var wd =
                assertThrows(
                        IllegalArgumentException.class, () -> Adam.of(0.1).weightDecay(Double.NaN));
        assertTrue(wd.getMessage().contains("weightDecay"));
        assertThrows(NullPointerException.class, () -> Adam.of((Schedule) null));
    }
}
