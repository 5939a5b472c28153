package io.posteriors.sgmcmc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import java.util.Locale;
import org.apache.commons.math3.stat.descriptive.moment.Mean;
import org.apache.commons.math3.stat.descriptive.moment.Variance;
import org.junit.jupiter.api.Test;

/**
 * One step of each sampler on a target with a constant gradient {@code a} (log p = aᵀθ) over D =
 * 100,000 coordinates: the D coordinates are D independent draws of the step's noise, whose mean
 * and variance are checked against the update equations with T ≠ 1 and β ≠ 0, so a wrong
 * temperature or gradient-noise factor is caught. The deterministic parts are checked to 1e-12.
 *
 * <p>Tolerances: the sample mean of D normal draws of variance v has standard error sqrt(v / D),
 * the sample variance a relative standard error sqrt(2 / D) = 0.45%; both are checked to 5 standard
 * errors. The alternative reading of β (noise ε (2T − ε β) for SGLD, 0.06 instead of 0.09 here) is
 * 33% away.
 */
class NoiseTest {

    private static final int D = 100_000;
    private static final double A = 0.7;

    private static LogProbFn<Void> linear() {
        return (p, b) -> LogProb.of(p.get("x").sum().mul(A));
    }

    private static TensorTree start(NDManager m) {
        return TensorTree.of(m.randomNormal(0, 1, new Shape(D), DataType.FLOAT64));
    }

    @Test
    void sgld_oneStep_noiseHasVarianceLrTemperatureTimesTwoMinusLrTemperatureBeta() {
        double eps = 0.1;
        double t = 0.5;
        double beta = 4;
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(21);
            TensorTree x0 = start(m);
            var sampler = Sgld.<Void>builder(linear(), eps).temperature(t).beta(beta).build();
            Step<SgldState> step = sampler.update(sampler.init(x0), null);
            double[] before = x0.get("x").toDoubleArray();
            double[] after = step.state().params().get("x").toDoubleArray();
            double[] noise = new double[D];
            for (int i = 0; i < D; i++) {
                noise[i] = after[i] - before[i] - eps * A;
            }
            assertNormal(noise, eps * t * (2 - eps * t * beta), "sgld noise");
        }
    }

    @Test
    void sghmc_oneStep_momentaNoiseAndDrift() {
        double eps = 0.1;
        double alpha = 2;
        double beta = 4;
        double sigma = 2;
        double t = 0.5;
        double m0 = 0.5;
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(22);
            TensorTree x0 = start(m);
            var sampler =
                    Sghmc.<Void>builder(linear(), eps)
                            .alpha(alpha)
                            .beta(beta)
                            .sigma(sigma)
                            .temperature(t)
                            .momenta(m0)
                            .build();
            SghmcState s = sampler.update(sampler.init(x0), null).state();
            double prec = 1 / (sigma * sigma);
            double[] x = x0.get("x").toDoubleArray();
            double[] x1 = s.params().get("x").toDoubleArray();
            double[] m1 = s.momenta().get("x").toDoubleArray();
            double[] noise = new double[D];
            for (int i = 0; i < D; i++) {
                noise[i] = m1[i] - (1 - eps * alpha * prec) * m0 - eps * A;
                assertEquals(x[i] + eps * prec * m1[i], x1[i], 1e-12, "drift uses the new m");
            }
            assertNormal(noise, eps * t * (2 * alpha - eps * t * beta), "sghmc noise");
        }
    }

    @Test
    void sgnht_oneStep_momentaNoiseDriftAndThermostat() {
        double eps = 0.1;
        double alpha = 2;
        double beta = 4;
        double sigma = 2;
        double t = 0.5;
        double m0 = 0.5;
        double xi0 = 3;
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(23);
            TensorTree x0 = start(m);
            var sampler =
                    Sgnht.<Void>builder(linear(), eps)
                            .alpha(alpha)
                            .beta(beta)
                            .sigma(sigma)
                            .temperature(t)
                            .momenta(m0)
                            .xi(xi0)
                            .build();
            SgnhtState s = sampler.update(sampler.init(x0), null).state();
            double prec = 1 / (sigma * sigma);
            double[] x = x0.get("x").toDoubleArray();
            double[] x1 = s.params().get("x").toDoubleArray();
            double[] m1 = s.momenta().get("x").toDoubleArray();
            double[] noise = new double[D];
            double kinetic = 0;
            for (int i = 0; i < D; i++) {
                noise[i] = m1[i] - (1 - eps * xi0 * prec) * m0 - eps * A;
                assertEquals(x[i] + eps * prec * m1[i], x1[i], 1e-12, "drift uses the new m");
                kinetic += m1[i] * m1[i];
            }
            assertNormal(noise, eps * t * (2 * alpha - eps * t * beta), "sgnht noise");
            double xi1 = xi0 + eps * (prec * kinetic / D - t);
            assertEquals(xi1, s.xi().toDoubleArray()[0], 1e-12, "thermostat update");
        }
    }

    @Test
    void baoa_oneStep_ornsteinUhlenbeckNoiseAndHalfDrifts() {
        double eps = 0.1;
        double alpha = 2;
        double sigma = 2;
        double t = 0.5;
        double m0 = 0.5;
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(24);
            TensorTree x0 = start(m);
            var sampler =
                    Baoa.<Void>builder(linear(), eps)
                            .alpha(alpha)
                            .sigma(sigma)
                            .temperature(t)
                            .momenta(m0)
                            .build();
            BaoaState s = sampler.update(sampler.init(x0), null).state();
            double prec = 1 / (sigma * sigma);
            double c = Math.exp(-alpha * prec * eps);
            double u = m0 + eps * A;
            double[] x = x0.get("x").toDoubleArray();
            double[] x1 = s.params().get("x").toDoubleArray();
            double[] m1 = s.momenta().get("x").toDoubleArray();
            double[] noise = new double[D];
            for (int i = 0; i < D; i++) {
                noise[i] = m1[i] - c * u;
                double expected = x[i] + 0.5 * eps * prec * u + 0.5 * eps * prec * m1[i];
                assertEquals(expected, x1[i], 1e-12, "two half drifts around the O step");
            }
            assertNormal(noise, sigma * sigma * t * (1 - c * c), "baoa noise");
        }
    }

    @Test
    void sghmc_defaultMomenta_areStandardNormalWhateverSigma() {
        // posteriors draws the initial momenta from N(0, 1) (torch.randn_like), not N(0, σ²)
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(25);
            SghmcState s = Sghmc.<Void>builder(linear(), 0.1).sigma(3.0).build().init(start(m));
            assertNormal(s.momenta().get("x").toDoubleArray(), 1.0, "default momenta");
        }
    }

    @Test
    void sgld_temperatureZero_drawsNoNoise() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(26);
            TensorTree x0 = start(m);
            var sampler = Sgld.<Void>builder(linear(), 0.1).temperature(0.0).build();
            SgldState s = sampler.update(sampler.init(x0), null).state();
            double[] x = x0.get("x").toDoubleArray();
            double[] x1 = s.params().get("x").toDoubleArray();
            for (int i = 0; i < D; i += 997) {
                assertEquals(x[i] + 0.1 * A, x1[i], 1e-15);
            }
        }
    }

    private static void assertNormal(double[] draws, double variance, String what) {
        double mean = new Mean().evaluate(draws);
        double var = new Variance().evaluate(draws);
        double meanTol = 5 * Math.sqrt(variance / draws.length);
        double varTol = 5 * Math.sqrt(2.0 / draws.length) * variance;
        String msg =
                String.format(
                        Locale.ROOT,
                        "%s: mean %.5f (tolerance %.5f), variance %.5f expected %.5f ± %.5f",
                        what,
                        mean,
                        meanTol,
                        var,
                        variance,
                        varTol);
        assertTrue(Math.abs(mean) < meanTol, msg);
        assertTrue(Math.abs(var - variance) < varTol, msg);
    }
}
