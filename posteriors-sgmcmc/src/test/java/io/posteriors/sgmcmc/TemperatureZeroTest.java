package io.posteriors.sgmcmc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.Schedule;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.optim.Optimize;
import io.posteriors.optim.OptimizeState;
import io.posteriors.optim.Sgd;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * At temperature 0 the samplers are optimisers: their trajectories are compared step by step with
 * {@link Optimize} and {@link Sgd} (which minimise the negative log posterior), or, for SGNHT, with
 * a plain double-precision loop of the update equations.
 */
class TemperatureZeroTest {

    private static final int STEPS = 40;

    @Test
    void sgld_temperatureZero_equalsSgdExactly() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(1);
            Regression.Batch batch = Regression.batch(m, DataType.FLOAT32);
            TensorTree init = Regression.params(m, DataType.FLOAT32);
            Transform<SgldState, Regression.Batch> sgld =
                    Sgld.builder(Regression.logPosterior(), 0.05).temperature(0.0).build();
            Transform<OptimizeState, Regression.Batch> sgd =
                    Optimize.builder(Regression.logPosterior(), Sgd.of(0.05)).build();
            // float32, same operations: SGLD adds lr·g where SGD subtracts lr·(−g), bit for bit.
            assertSameTrajectory(sgld, sgd, init, batch, 0.0);
        }
    }

    @Test
    void sgld_temperatureZeroWithLrSchedule_equalsSgdWithTheSameSchedule() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(2);
            Regression.Batch batch = Regression.batch(m, DataType.FLOAT32);
            TensorTree init = Regression.params(m, DataType.FLOAT32);
            Schedule lr = Schedule.inverseDecay(0.1, 5, 0.55);
            Transform<SgldState, Regression.Batch> sgld =
                    Sgld.builder(Regression.logPosterior(), lr).temperature(0.0).build();
            Transform<OptimizeState, Regression.Batch> sgd =
                    Optimize.builder(Regression.logPosterior(), Sgd.of(lr)).build();
            assertSameTrajectory(sgld, sgd, init, batch, 0.0);
        }
    }

    /**
     * SGHMC at T = 0, with v = ε σ⁻² m: m' = (1 − ε α σ⁻²) m + ε g and θ' = θ + ε σ⁻² m' give v' =
     * (1 − ε α σ⁻²) v + ε² σ⁻² g and θ' = θ + v'. PyTorch's SGD with momentum on −log p keeps b' =
     * μ b − g and θ' = θ − lr b', that is v = −lr b. The two agree when μ = 1 − ε α σ⁻², lr = ε²
     * σ⁻² and b₀ = −m₀ / ε.
     */
    @Test
    void sghmc_temperatureZero_equalsSgdWithMomentum() {
        double eps = 0.1;
        double alpha = 1.0;
        double sigma = 1.5;
        double m0 = 0.3;
        double prec = 1 / (sigma * sigma);
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(3);
            Regression.Batch batch = Regression.batch(m, DataType.FLOAT64);
            TensorTree init = Regression.params(m, DataType.FLOAT64);
            Transform<SghmcState, Regression.Batch> sghmc =
                    Sghmc.builder(Regression.logPosterior(), eps)
                            .alpha(alpha)
                            .sigma(sigma)
                            .momenta(m0)
                            .temperature(0.0)
                            .build();
            Sgd sgd = Sgd.of(eps * eps * prec).momentum(1 - eps * alpha * prec);
            Transform<OptimizeState, Regression.Batch> opt =
                    Optimize.builder(Regression.logPosterior(), sgd).build();
            assertSameTrajectory(sghmc, opt, init, batch, -m0 / eps);
        }
    }

    /**
     * BAOA at T = 0 with c = exp(−α σ⁻² ε): with u the momenta after the kick, θ' = θ + (ε / 2) σ⁻²
     * (1 + c) u and u' = c u + ε g(θ'), so v = (ε / 2) σ⁻² (1 + c) u obeys θ' = θ + v, v' = c v +
     * (ε² / 2) σ⁻² (1 + c) g(θ'): SGD with momentum c and learning rate (ε² / 2) σ⁻² (1 + c), from
     * the buffer b₀ = −m₀ / (ε c).
     */
    @Test
    void baoa_temperatureZero_equalsSgdWithMomentum() {
        double eps = 0.2;
        double alpha = 0.8;
        double sigma = 1.2;
        double m0 = -0.4;
        double prec = 1 / (sigma * sigma);
        double c = Math.exp(-alpha * prec * eps);
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(4);
            Regression.Batch batch = Regression.batch(m, DataType.FLOAT64);
            TensorTree init = Regression.params(m, DataType.FLOAT64);
            Transform<BaoaState, Regression.Batch> baoa =
                    Baoa.builder(Regression.logPosterior(), eps)
                            .alpha(alpha)
                            .sigma(sigma)
                            .momenta(m0)
                            .temperature(0.0)
                            .build();
            Sgd sgd = Sgd.of(0.5 * eps * eps * prec * (1 + c)).momentum(c);
            Transform<OptimizeState, Regression.Batch> opt =
                    Optimize.builder(Regression.logPosterior(), sgd).build();
            assertSameTrajectory(baoa, opt, init, batch, -m0 / (eps * c));
        }
    }

    @Test
    void sgnht_temperatureZero_followsTheUpdateEquationsAndTheThermostatOnlyGrows() {
        // log p(x) = −½ xᵀ A x + bᵀ x, gradient b − A x, in plain doubles as the reference
        double[][] a = {{2.0, 0.3, 0.0}, {0.3, 1.0, -0.2}, {0.0, -0.2, 0.5}};
        double[] b = {0.4, -0.1, 0.2};
        double eps = 0.05;
        double alpha = 0.5;
        double sigma = 0.8;
        double prec = 1 / (sigma * sigma);
        double[] x = {1.0, -2.0, 0.5};
        double[] mom = {0.3, 0.3, 0.3};
        double xi = 1.5;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray an = m.create(a);
            NDArray bn = m.create(b);
            LogProbFn<Void> lp =
                    (p, batch) -> {
                        NDArray v = p.get("x");
                        NDArray quad = v.matMul(an).mul(v).sum().mul(-0.5);
                        return LogProb.of(quad.add(v.mul(bn).sum()));
                    };
            Transform<SgnhtState, Void> t =
                    Sgnht.<Void>builder(lp, eps)
                            .alpha(alpha)
                            .sigma(sigma)
                            .momenta(0.3)
                            .xi(xi)
                            .temperature(0.0)
                            .build();
            SgnhtState s = t.init(TensorTree.of(m.create(x)));
            double previousXi = xi;
            for (int step = 0; step < STEPS; step++) {
                double kinetic = 0;
                for (int i = 0; i < 3; i++) {
                    double g = b[i];
                    for (int j = 0; j < 3; j++) {
                        g -= a[i][j] * x[j];
                    }
                    mom[i] = mom[i] + eps * g - eps * prec * xi * mom[i];
                }
                for (int i = 0; i < 3; i++) {
                    x[i] += eps * prec * mom[i];
                    kinetic += mom[i] * mom[i];
                }
                xi += eps * prec * kinetic / 3;
                Step<SgnhtState> next = t.updateInPlace(s, null);
                next.aux().close();
                s = next.state();
                assertArrayClose(x, s.params().get("x").toDoubleArray(), 1e-12, "params", step);
                assertArrayClose(mom, s.momenta().get("x").toDoubleArray(), 1e-12, "momenta", step);
                double got = s.xi().toDoubleArray()[0];
                assertEquals(xi, got, 1e-12 * (1 + Math.abs(xi)), "xi at step " + step);
                assertTrue(got >= previousXi, "xi must not decrease at T = 0");
                previousXi = got;
            }
        }
    }

    /**
     * Runs a sampler and an optimiser side by side, the optimiser's momentum buffer (if any)
     * started at {@code buffer0}, and compares the parameters after every step.
     */
    private static <S extends io.posteriors.State> void assertSameTrajectory(
            Transform<S, Regression.Batch> sampler,
            Transform<OptimizeState, Regression.Batch> optimizer,
            TensorTree init,
            Regression.Batch batch,
            double buffer0) {
        S s = sampler.init(init);
        OptimizeState o = optimizer.init(init);
        List<TensorTree> slots = o.optimState().slots();
        if (!slots.isEmpty()) {
            slots.get(0).forEach((k, a) -> a.set(new NDIndex("..."), buffer0));
        }
        double tol = init.dataType() == DataType.FLOAT32 ? 0.0 : 1e-12;
        for (int step = 0; step < STEPS; step++) {
            Step<S> a = sampler.updateInPlace(s, batch);
            a.aux().close();
            s = a.state();
            Step<OptimizeState> b = optimizer.updateInPlace(o, batch);
            b.aux().close();
            o = b.state();
            for (String k : init.names()) {
                double[] x = s.params().get(k).toType(DataType.FLOAT64, false).toDoubleArray();
                double[] y = o.params().get(k).toType(DataType.FLOAT64, false).toDoubleArray();
                assertArrayClose(y, x, tol, "leaf " + k, step);
            }
        }
        assertTrue(!s.params().allClose(init, 1e-3, 1e-3), "the trajectory must actually move");
    }

    private static void assertArrayClose(
            double[] expected, double[] actual, double rtol, String what, int step) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            double scale = rtol * (1 + Math.abs(expected[i]));
            assertTrue(
                    Math.abs(expected[i] - actual[i]) <= scale,
                    String.format(
                            java.util.Locale.ROOT,
                            "%s entry %d at step %d: expected %s, got %s",
                            what,
                            i,
                            step,
                            expected[i],
                            actual[i]));
        }
    }
}
