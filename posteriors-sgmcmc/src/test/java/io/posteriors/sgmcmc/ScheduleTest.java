package io.posteriors.sgmcmc;

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
import io.posteriors.Schedule;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.math3.stat.descriptive.moment.Variance;
import org.junit.jupiter.api.Test;

/** Learning rates and temperatures given as schedules are read at the state's step count. */
class ScheduleTest {

    private static final int D = 100_000;

    private static LogProbFn<Void> linear() {
        return (p, b) -> LogProb.of(p.get("x").sum().mul(0.7));
    }

    @Test
    void schedules_areEvaluatedAtTheStateStep() {
        List<Long> lrSteps = new ArrayList<>();
        List<Long> tSteps = new ArrayList<>();
        Schedule lr =
                step -> {
                    lrSteps.add(step);
                    return 0.01;
                };
        Schedule t =
                step -> {
                    tSteps.add(step);
                    return 1.0;
                };
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(31);
            Transform<SghmcState, Void> sampler =
                    Sghmc.<Void>builder(linear(), lr).temperature(t).build();
            SghmcState s = sampler.init(TensorTree.of(m.zeros(new Shape(3))));
            for (int i = 0; i < 3; i++) {
                Step<SghmcState> next = sampler.updateInPlace(s, null);
                next.aux().close();
                s = next.state();
            }
            // step 0 once at build, then 0, 1, 2 by the updates
            assertEquals(List.of(0L, 0L, 1L, 2L), lrSteps);
            assertEquals(List.of(0L, 0L, 1L, 2L), tSteps);
        }
    }

    @Test
    void temperatureSchedule_zeroThenTwo_givesNoNoiseThenVarianceFourLr() {
        double eps = 0.05;
        Schedule t = step -> step == 0 ? 0.0 : 2.0;
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(32);
            TensorTree x0 = TensorTree.of(m.randomNormal(0, 1, new Shape(D), DataType.FLOAT64));
            Transform<SgldState, Void> sampler =
                    Sgld.<Void>builder(linear(), eps).temperature(t).build();
            SgldState s0 = sampler.init(x0);
            SgldState s1 = sampler.update(s0, null).state();
            SgldState s2 = sampler.update(s1, null).state();
            double[] a = x0.get("x").toDoubleArray();
            double[] b = s1.params().get("x").toDoubleArray();
            double[] c = s2.params().get("x").toDoubleArray();
            double[] noise = new double[D];
            for (int i = 0; i < D; i++) {
                assertEquals(a[i] + eps * 0.7, b[i], 1e-12, "T = 0 at step 0: no noise");
                noise[i] = c[i] - b[i] - eps * 0.7;
            }
            // variance 2 ε T = 0.2; relative standard error sqrt(2 / D) = 0.45%, 5 of them
            double var = new Variance().evaluate(noise);
            assertEquals(2 * eps * 2.0, var, 5 * Math.sqrt(2.0 / D) * 0.2);
        }
    }

    @Test
    void lrScheduleTurningNegative_throwsAtThatStepAndLeavesTheStateUnchanged() {
        Schedule lr = step -> step < 2 ? 0.1 : -0.1;
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(33);
            Transform<BaoaState, Void> sampler = Baoa.<Void>builder(linear(), lr).build();
            BaoaState s = sampler.init(TensorTree.of(m.randomNormal(new Shape(4))));
            for (int i = 0; i < 2; i++) {
                Step<BaoaState> next = sampler.updateInPlace(s, null);
                next.aux().close();
                s = next.state();
            }
            List<NDArray> before = s.arrays().stream().map(NDArray::duplicate).toList();
            BaoaState current = s;
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> sampler.updateInPlace(current, null));
            assertTrue(e.getMessage().contains("lr"), e.getMessage());
            assertTrue(e.getMessage().contains("step 2"), e.getMessage());
            for (int i = 0; i < before.size(); i++) {
                assertTrue(before.get(i).contentEquals(current.arrays().get(i)), "array " + i);
            }
        }
    }
}
