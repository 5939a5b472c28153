package io.posteriors.vi;

import static io.posteriors.vi.Gaussians.values;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.Scalars;
import io.posteriors.Schedule;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.optim.Adam;
import io.posteriors.optim.Sgd;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DiagViTest {

    // the target of posteriors' diagonal VI test, with fixed values instead of random ones
    private static final double[] TARGET_MEAN = {1.5, -0.7, 0.4};
    private static final double[] TARGET_SD = {0.5, 1.8, 0.9};
    private static final double LR = 1e-2;
    private static final int STEPS = 1000;
    private static final int FIT_SAMPLES = 2;

    private NDManager m;
    private Gaussians.DiagTarget target;

    @BeforeEach
    void setUp() {
        m = NDManager.newBaseManager();
        target =
                new Gaussians.DiagTarget(
                        Gaussians.tree(m, TARGET_MEAN[0], TARGET_MEAN[1], TARGET_MEAN[2]),
                        Gaussians.tree(m, TARGET_SD[0], TARGET_SD[1], TARGET_SD[2]));
    }

    @AfterEach
    void tearDown() {
        m.close();
    }

    private TensorTree zeros() {
        return Gaussians.tree(m, 0, 0, 0);
    }

    // ---- the NELBO function ----

    @Test
    void nelbo_qEqualsTarget_isZero() {
        Engine.getInstance().setRandomSeed(1);
        NDArray nelbo =
                DiagVi.nelbo(Gaussians.diagLogProb(), target.mean(), target.sd(), target, 1.0, 100);
        // log p and log q are the same normalised density: every sample contributes 0 up to
        // float64 rounding of numbers of size ~10
        assertEquals(0.0, Scalars.value(nelbo), 1e-12);
        assertEquals(new Shape(), nelbo.getShape());
    }

    @Test
    void nelbo_worseQ_isLargerAndMatchesClosedFormKl() {
        Engine.getInstance().setRandomSeed(2);
        double[] mq = {0, 0, 0};
        double[] sq = {1, 1, 1};
        int n = 4000;
        double estimate =
                Scalars.value(
                        DiagVi.nelbo(
                                Gaussians.diagLogProb(),
                                zeros(),
                                Gaussians.tree(m, 1, 1, 1),
                                target,
                                1.0,
                                n));
        double kl = Gaussians.klDiag(mq, sq, TARGET_MEAN, TARGET_SD);
        // the estimate is a mean of n iid draws of log q - log p under q, whose variance is known
        // in closed form; 4 standard errors
        double se = Math.sqrt(Gaussians.logRatioVarianceDiag(mq, sq, TARGET_MEAN, TARGET_SD) / n);
        assertEquals(kl, estimate, 4 * se);
        assertTrue(estimate > 4 * se, "a worse q has a larger NELBO than the target's 0");
    }

    @Test
    void nelbo_instanceMethod_usesTheConfiguredTemperatureAndSamples() {
        DiagVi<Gaussians.DiagTarget> t =
                DiagVi.builder(Gaussians.diagLogProb(), Adam.of(LR))
                        .temperature(step -> step == 0 ? 0.3 : 5.0)
                        .nSamples(7)
                        .initLogSds(-0.2)
                        .build();
        DiagViState s = t.init(zeros());
        Engine.getInstance().setRandomSeed(3);
        double viaState = Scalars.value(t.nelbo(s, target));
        Engine.getInstance().setRandomSeed(3);
        double direct =
                Scalars.value(
                        DiagVi.nelbo(
                                Gaussians.diagLogProb(),
                                zeros(),
                                Gaussians.tree(m, 1, 1, 1).map(a -> a.mul(Math.exp(-0.2))),
                                target,
                                0.3,
                                7));
        assertEquals(direct, viaState, 1e-12);
    }

    // ---- the gradient an update follows ----

    /**
     * One update with SGD at learning rate 1 moves each variational parameter by its ELBO gradient.
     * For theta = mu + sigma eps and the Gaussian target, with d = -(theta - mu_p) / sigma_p^2 (the
     * score of the target):
     *
     * <ul>
     *   <li>without STL, d ELBO / d mu = d and d ELBO / d log sigma = d sigma eps + T (log q =
     *       -eps^2/2 - log sigma - c along the reparameterisation);
     *   <li>with STL, log q's parameters are held fixed, its score -(theta - mu) / sigma^2 = -eps /
     *       sigma enters through theta: d ELBO / d mu = d + T eps / sigma and d ELBO / d log sigma
     *       = (d + T eps / sigma) sigma eps;
     * </ul>
     *
     * <p>each averaged over the n samples. The noise is reproduced by reseeding the engine.
     */
    @ParameterizedTest
    @CsvSource({"true, 0.7", "false, 0.7", "true, 0", "false, 0"})
    void update_followsTheClosedFormElboGradient(boolean stl, double temp) {
        int n = 2;
        double[] mu0 = {0.3, -0.1, 0.2};
        double[] logSd0 = {-0.3, 0.2, 0.1};
        Map<String, NDArray> ls = new LinkedHashMap<>();
        ls.put("a", m.create(new double[] {logSd0[0], logSd0[1]}, new Shape(2, 1)));
        ls.put("b", m.create(new double[] {logSd0[2]}, new Shape(1, 1)));
        DiagVi<Gaussians.DiagTarget> t =
                DiagVi.builder(Gaussians.diagLogProb(), Sgd.of(1.0))
                        .temperature(temp)
                        .nSamples(n)
                        .stl(stl)
                        .initLogSds(TensorTree.of(ls))
                        .build();
        DiagViState s = t.init(Gaussians.tree(m, mu0[0], mu0[1], mu0[2]));

        Engine.getInstance().setRandomSeed(4);
        double[] epsA = values(m.randomNormal(0, 1, new Shape(n, 2, 1), DataType.FLOAT64));
        double[] epsB = values(m.randomNormal(0, 1, new Shape(n, 1, 1), DataType.FLOAT64));
        Engine.getInstance().setRandomSeed(4);
        DiagViState next = t.update(s, target).state();

        double[] gMu = new double[3];
        double[] gLogSd = new double[3];
        for (int smp = 0; smp < n; smp++) {
            double[] eps = {epsA[2 * smp], epsA[2 * smp + 1], epsB[smp]};
            for (int i = 0; i < 3; i++) {
                double sd = Math.exp(logSd0[i]);
                double theta = mu0[i] + sd * eps[i];
                double d = -(theta - TARGET_MEAN[i]) / (TARGET_SD[i] * TARGET_SD[i]);
                if (stl) {
                    double path = d + temp * eps[i] / sd;
                    gMu[i] += path / n;
                    gLogSd[i] += path * sd * eps[i] / n;
                } else {
                    gMu[i] += d / n;
                    gLogSd[i] += (d * sd * eps[i] + temp) / n;
                }
            }
        }
        double[] mu1 = values(next.params());
        double[] logSd1 = values(next.logSdDiag());
        for (int i = 0; i < 3; i++) {
            assertEquals(mu0[i] + gMu[i], mu1[i], 1e-10, "mean " + i);
            assertEquals(logSd0[i] + gLogSd[i], logSd1[i], 1e-10, "log sd " + i);
        }
        assertEquals(1, next.step());
        assertTrue(Double.isFinite(Scalars.value(next.nelbo())));
    }

    // ---- fitting (posteriors' scenario) ----

    /**
     * posteriors' scenario: Adam (lr 1e-2), two samples, 1000 pure updates from mean 0 and sd 1.
     *
     * <p>Tolerances. With STL the gradient vanishes identically when q equals the Gaussian target
     * (the score of p minus the score of q is zero at every theta), so nothing keeps the iterate
     * from the optimum but the optimiser, whose steps are at most about lr per coordinate: we allow
     * lr. Without STL the gradient noise does not vanish at the optimum and Adam fluctuates around
     * it: near the optimum Adam acts as SGD with step lr / s (s the gradient noise scale its second
     * moment tracks), and SGD with step eta on a quadratic of curvature h with gradient noise
     * variance s^2 has stationary variance eta s^2 / (2h) = lr s / (2h). For the mean, h = 1/sd_p^2
     * and s = 1/(sd_p sqrt(n)) give variance lr sd_p / (2 sqrt(n)); for log sd, h = 2 and s^2 =
     * Var(eps^2)/n = 2/n give lr / (2 sqrt(2n)). We allow 5 of those standard deviations. Both
     * variants must also bring KL(q || p) below 1% of its initial value.
     */
    @Tag("slow")
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void fit_diagonalGaussianTarget_recoversMeanAndSd(boolean stl) {
        Engine.getInstance().setRandomSeed(42);
        DiagVi<Gaussians.DiagTarget> t =
                DiagVi.builder(Gaussians.diagLogProb(), Adam.of(LR))
                        .nSamples(FIT_SAMPLES)
                        .stl(stl)
                        .build();
        TensorTree init = zeros();
        DiagViState s = t.init(init);
        double nelboInit =
                Scalars.value(
                        DiagVi.nelbo(
                                Gaussians.diagLogProb(),
                                init,
                                Gaussians.tree(m, 1, 1, 1),
                                target,
                                1.0,
                                1000));
        double[] last = new double[10];
        for (int i = 0; i < STEPS; i++) {
            Step<DiagViState> step = t.update(s, target);
            step.aux().close();
            s.close();
            s = step.state();
            if (i >= STEPS - 10) {
                last[i - (STEPS - 10)] = Scalars.value(s.nelbo());
            }
        }
        double[] mu = values(s.params());
        double[] sd = values(s.sdDiag());
        for (int i = 0; i < 3; i++) {
            double tolMu =
                    stl ? LR : 5 * Math.sqrt(LR * TARGET_SD[i] / (2 * Math.sqrt(FIT_SAMPLES)));
            double tolLogSd = stl ? LR : 5 * Math.sqrt(LR / (2 * Math.sqrt(2.0 * FIT_SAMPLES)));
            assertEquals(TARGET_MEAN[i], mu[i], tolMu, "mean " + i);
            assertEquals(Math.log(TARGET_SD[i]), Math.log(sd[i]), tolLogSd, "log sd " + i);
        }
        double klInit =
                Gaussians.klDiag(new double[3], new double[] {1, 1, 1}, TARGET_MEAN, TARGET_SD);
        double klEnd = Gaussians.klDiag(mu, sd, TARGET_MEAN, TARGET_SD);
        assertTrue(klEnd < 0.01 * klInit, "KL " + klEnd + " vs initial " + klInit);
        double lastMean = java.util.Arrays.stream(last).average().orElseThrow();
        assertTrue(lastMean < nelboInit, "the NELBO decreased");
        assertArrayEquals(new double[] {0, 0, 0}, values(init), 0.0, "init is untouched");
    }

    /**
     * For a Gaussian target the tempered posterior p^(1/T) is Gaussian with the same mean and sd
     * sqrt(T) sd_p. With STL the ELBO gradient at q = p^(1/T) vanishes for every noise draw (the
     * score of log p / T equals the score of q at every theta), so one SGD step leaves q exactly
     * where it is, up to float64 rounding; the untempered q is not a fixed point at T = 0.01.
     */
    @ParameterizedTest
    @ValueSource(doubles = {1.0, 0.3, 0.01})
    void update_temperedPosterior_isAFixedPointWithStl(double temp) {
        double[] logSd = new double[3];
        for (int i = 0; i < 3; i++) {
            logSd[i] = Math.log(Math.sqrt(temp) * TARGET_SD[i]);
        }
        DiagVi<Gaussians.DiagTarget> t =
                DiagVi.builder(Gaussians.diagLogProb(), Sgd.of(1.0))
                        .temperature(temp)
                        .nSamples(3)
                        .initLogSds(Gaussians.tree(m, logSd[0], logSd[1], logSd[2]))
                        .build();
        Engine.getInstance().setRandomSeed(9);
        DiagViState next = t.update(t.init(target.mean()), target).state();
        assertArrayEquals(TARGET_MEAN, values(next.params()), 1e-12);
        assertArrayEquals(logSd, values(next.logSdDiag()), 1e-12);

        DiagVi<Gaussians.DiagTarget> untempered =
                DiagVi.builder(Gaussians.diagLogProb(), Sgd.of(1.0))
                        .temperature(0.01)
                        .nSamples(3)
                        .initLogSds(target.sd().map(NDArray::log))
                        .build();
        Engine.getInstance().setRandomSeed(9);
        DiagViState moved = untempered.update(untempered.init(target.mean()), target).state();
        double[] before = values(target.sd().map(NDArray::log));
        double[] after = values(moved.logSdDiag());
        assertTrue(
                after[0] != before[0] || after[1] != before[1], "q = p is not optimal at T = 0.01");
    }

    /**
     * At T = 0 the NELBO is E_q[-log p]: q collapses onto the MAP. With plain SGD (step eta) the
     * law is explicit: once the mean is near the MAP, log sd moves by -eta sigma^2 ebar^2 / sd_p^2
     * per step (ebar^2 the mean of the n squared noises), so w = sigma^-2 grows by at least 2 eta
     * ebar^2 / sd_p^2 per step (exp(x) >= 1 + x) and w_t = w_0 + (2 eta / sd_p^2) S_t, where S_t
     * sums t draws of ebar^2 (mean 1, variance 2/n = 1): S_t / t is within 4/sqrt(t) of 1 (4
     * standard deviations; the second-order and mean-offset terms are O(eta) smaller). The spread
     * thus falls like 1/sqrt(t), with no floor. The mean is then an AR(1) process around the MAP
     * with stationary variance eta sigma^2 / (2 sd_p^2 n); we allow 5 standard deviations.
     */
    @Tag("slow")
    @Test
    void fit_temperatureZero_meanGoesToMapAndSpreadCollapses() {
        Engine.getInstance().setRandomSeed(44);
        double eta = 0.05;
        DiagVi<Gaussians.DiagTarget> t =
                DiagVi.builder(Gaussians.diagLogProb(), Sgd.of(eta))
                        .nSamples(FIT_SAMPLES)
                        .temperature(0.0)
                        .build();
        DiagViState s = run(t, t.init(zeros()), STEPS);
        double[] mu = values(s.params());
        double[] sd = values(s.sdDiag());
        for (int i = 0; i < 3; i++) {
            double sp2 = TARGET_SD[i] * TARGET_SD[i];
            double w = 1 / (sd[i] * sd[i]);
            double wLaw = 1 + 2 * eta * STEPS / sp2;
            assertEquals(1.0, w / wLaw, 4 / Math.sqrt(STEPS), "sd " + i + " = " + sd[i]);
            double tolMu = 5 * sd[i] * Math.sqrt(eta / (2 * sp2 * FIT_SAMPLES));
            assertEquals(TARGET_MEAN[i], mu[i], tolMu, "mean " + i);
        }
    }

    private DiagViState run(DiagVi<Gaussians.DiagTarget> t, DiagViState s, int steps) {
        DiagViState cur = s;
        for (int i = 0; i < steps; i++) {
            Step<DiagViState> step = t.updateInPlace(cur, target);
            step.aux().close();
            cur = step.state();
        }
        return cur;
    }

    // ---- temperature schedules ----

    @Test
    void temperatureSchedule_isEvaluatedAtTheStateStep() {
        LogProbFn<Gaussians.DiagTarget> lp = Gaussians.diagLogProb();
        DiagVi<Gaussians.DiagTarget> scheduled =
                DiagVi.builder(lp, Adam.of(LR)).temperature(step -> step == 0 ? 0.5 : 2.0).build();
        DiagVi<Gaussians.DiagTarget> half =
                DiagVi.builder(lp, Adam.of(LR)).temperature(0.5).build();
        DiagVi<Gaussians.DiagTarget> two = DiagVi.builder(lp, Adam.of(LR)).temperature(2.0).build();
        DiagViState s0 = scheduled.init(zeros());

        Engine.getInstance().setRandomSeed(5);
        DiagViState a1 = scheduled.update(s0, target).state();
        Engine.getInstance().setRandomSeed(6);
        DiagViState a2 = scheduled.update(a1, target).state();

        Engine.getInstance().setRandomSeed(5);
        DiagViState b1 = half.update(s0, target).state();
        Engine.getInstance().setRandomSeed(6);
        DiagViState b2 = two.update(b1, target).state();
        Engine.getInstance().setRandomSeed(6);
        DiagViState c2 = half.update(b1, target).state();

        assertArrayEquals(values(b1.logSdDiag()), values(a1.logSdDiag()), 0.0);
        assertArrayEquals(values(b2.logSdDiag()), values(a2.logSdDiag()), 0.0);
        assertArrayEquals(values(b2.params()), values(a2.params()), 0.0);
        assertTrue(
                Math.abs(values(c2.logSdDiag())[0] - values(a2.logSdDiag())[0]) > 1e-6,
                "the temperature of the second step matters");
    }

    @Test
    void temperatureSchedule_negativeAtAStep_throwsAndLeavesStateUnchanged() {
        DiagVi<Gaussians.DiagTarget> t =
                DiagVi.builder(Gaussians.diagLogProb(), Adam.of(LR))
                        .temperature(step -> step < 1 ? 1.0 : -0.5)
                        .build();
        DiagViState s = t.updateInPlace(t.init(zeros()), target).state();
        List<double[]> before = s.arrays().stream().map(Gaussians::values).toList();
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> t.updateInPlace(s, target));
        assertTrue(e.getMessage().contains("temperature"), e.getMessage());
        assertTrue(e.getMessage().contains("-0.5"), e.getMessage());
        assertTrue(e.getMessage().contains("step 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.update(s, target));
        for (int i = 0; i < before.size(); i++) {
            assertArrayEquals(before.get(i), values(s.arrays().get(i)), 0.0, "array " + i);
        }
    }

    @Test
    void build_scheduleNegativeAtStepZero_throws() {
        var b =
                DiagVi.builder(Gaussians.diagLogProb(), Adam.of(LR))
                        .temperature(Schedule.constant(-1));
        assertThrows(IllegalArgumentException.class, b::build);
    }

    // ---- bad input ----

    @Test
    void builder_badOptions_throwClearExceptions() {
        var b = DiagVi.builder(Gaussians.diagLogProb(), Adam.of(LR));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> b.nSamples(0));
        assertEquals("nSamples must be at least 1, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> b.temperature(-1.0));
        assertEquals("temperature must be non-negative and finite, got -1.0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.temperature(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> b.initLogSds(Double.POSITIVE_INFINITY));
        assertThrows(NullPointerException.class, () -> b.temperature((Schedule) null));
        assertThrows(NullPointerException.class, () -> b.initLogSds((TensorTree) null));
        assertThrows(NullPointerException.class, () -> DiagVi.builder(null, Adam.of(LR)));
        assertThrows(
                NullPointerException.class, () -> DiagVi.builder(Gaussians.diagLogProb(), null));
    }

    @Test
    void init_initLogSdsOfWrongStructure_throwsNamingTheLeaf() {
        Map<String, NDArray> wrongShape = new LinkedHashMap<>();
        wrongShape.put("a", m.zeros(new Shape(3, 1), DataType.FLOAT64));
        wrongShape.put("b", m.zeros(new Shape(1, 1), DataType.FLOAT64));
        DiagVi<Gaussians.DiagTarget> t =
                DiagVi.builder(Gaussians.diagLogProb(), Adam.of(LR))
                        .initLogSds(TensorTree.of(wrongShape))
                        .build();
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> t.init(zeros()));
        assertTrue(e.getMessage().contains("initLogSds"), e.getMessage());
        assertTrue(e.getMessage().contains("'a'"), e.getMessage());
        assertTrue(
                e.getMessage().contains("(3, 1)") && e.getMessage().contains("(2, 1)"),
                e.getMessage());

        DiagVi<Gaussians.DiagTarget> missing =
                DiagVi.builder(Gaussians.diagLogProb(), Adam.of(LR))
                        .initLogSds(TensorTree.of("a", m.zeros(new Shape(2, 1), DataType.FLOAT64)))
                        .build();
        e = assertThrows(IllegalArgumentException.class, () -> missing.init(zeros()));
        assertTrue(e.getMessage().contains("initLogSds"), e.getMessage());

        DiagVi<Gaussians.DiagTarget> nan =
                DiagVi.builder(Gaussians.diagLogProb(), Adam.of(LR))
                        .initLogSds(Gaussians.tree(m, 0, Double.NaN, 0))
                        .build();
        e = assertThrows(IllegalArgumentException.class, () -> nan.init(zeros()));
        assertTrue(e.getMessage().contains("initLogSds leaf 'a' must be finite"), e.getMessage());
    }

    @Test
    void update_nonScalarOrNanLogPosterior_throwsAndLeavesStateUnchanged() {
        LogProbFn<Gaussians.DiagTarget> vector =
                (p, b) -> LogProb.of(p.get("a").sum(new int[] {1}));
        DiagVi<Gaussians.DiagTarget> t = DiagVi.builder(vector, Adam.of(LR)).build();
        DiagViState s = t.init(zeros());
        List<double[]> before = s.arrays().stream().map(Gaussians::values).toList();
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> t.updateInPlace(s, target));
        assertTrue(e.getMessage().contains("logPosterior must return a scalar"), e.getMessage());

        LogProbFn<Gaussians.DiagTarget> nan =
                (p, b) -> LogProb.of(p.get("b").sum().mul(Double.NaN));
        DiagVi<Gaussians.DiagTarget> tn = DiagVi.builder(nan, Adam.of(LR)).build();
        assertThrows(IllegalArgumentException.class, () -> tn.updateInPlace(s, target));
        for (int i = 0; i < before.size(); i++) {
            assertArrayEquals(before.get(i), values(s.arrays().get(i)), 0.0, "array " + i);
        }
        assertEquals(0, s.step());
    }

    @Test
    void nelbo_badArguments_throw() {
        LogProbFn<Gaussians.DiagTarget> lp = Gaussians.diagLogProb();
        TensorTree sd = Gaussians.tree(m, 1, 1, 1);
        assertThrows(
                IllegalArgumentException.class, () -> DiagVi.nelbo(lp, zeros(), sd, target, -1, 1));
        assertThrows(
                IllegalArgumentException.class, () -> DiagVi.nelbo(lp, zeros(), sd, target, 1, 0));
        assertThrows(
                IllegalArgumentException.class,
                () -> DiagVi.nelbo(lp, zeros(), TensorTree.of("a", sd.get("a")), target, 1, 1));
    }

    // ---- init, state, aux and sampling ----

    @Test
    void init_buildsQFromTheOptions() {
        DiagVi<Gaussians.DiagTarget> scalar =
                DiagVi.builder(Gaussians.diagLogProb(), Adam.of(LR)).initLogSds(-1.5).build();
        DiagViState s = scalar.init(zeros());
        assertArrayEquals(new double[] {-1.5, -1.5, -1.5}, values(s.logSdDiag()), 0.0);
        assertTrue(Double.isNaN(Scalars.value(s.nelbo())));
        assertEquals(0, s.step());
        // Adam: two slot trees over the 3 mean and 3 log-sd elements
        assertEquals(2, s.optimState().slots().size());
        assertEquals(
                List.of("mean/a", "mean/b", "logSd/a", "logSd/b"),
                s.optimState().slots().get(0).names());

        TensorTree given = Gaussians.tree(m, 0.1, 0.2, 0.3);
        DiagVi<Gaussians.DiagTarget> tree =
                DiagVi.builder(Gaussians.diagLogProb(), Adam.of(LR)).initLogSds(given).build();
        DiagViState s2 = tree.init(zeros());
        assertArrayEquals(new double[] {0.1, 0.2, 0.3}, values(s2.logSdDiag()), 0.0);
        assertTrue(s2.logSdDiag().get("a") != given.get("a"), "init copies initLogSds");
        assertArrayEquals(
                new double[] {Math.exp(0.1), Math.exp(0.2), Math.exp(0.3)},
                values(s2.sdDiag()),
                1e-15);
    }

    @Test
    void update_severalSamples_stacksTheAuxOverSamples() {
        TensorTree init = Gaussians.tree(m, 0.3, -0.1, 0.2);
        DiagVi<Gaussians.DiagTarget> three =
                DiagVi.builder(Gaussians.diagLogProb(), Adam.of(LR)).nSamples(3).build();
        Engine.getInstance().setRandomSeed(7);
        double[] epsA = values(m.randomNormal(0, 1, new Shape(3, 2, 1), DataType.FLOAT64));
        Engine.getInstance().setRandomSeed(7);
        NDList aux = three.update(three.init(init), target).aux();
        assertEquals(1, aux.size());
        assertEquals(new Shape(3, 2, 1), aux.get(0).getShape());
        double[] expected = new double[6];
        for (int i = 0; i < 6; i++) {
            // aux = 2 theta_a with theta = mu + 1 * eps (initial sd 1)
            expected[i] = 2 * ((i % 2 == 0 ? 0.3 : -0.1) + epsA[i]);
        }
        assertArrayEquals(expected, values(aux.get(0)), 1e-12);

        DiagVi<Gaussians.DiagTarget> one =
                DiagVi.builder(Gaussians.diagLogProb(), Adam.of(LR)).build();
        assertEquals(new Shape(2, 1), one.update(one.init(init), target).aux().get(0).getShape());
    }

    /**
     * Sample mean and standard deviation of 20000 draws against the state's q: 4 standard errors,
     * sd/sqrt(n) for the mean and sd/sqrt(2n) for the standard deviation.
     */
    @Test
    void sample_matchesTheStateMoments() {
        DiagVi<Gaussians.DiagTarget> t =
                DiagVi.builder(Gaussians.diagLogProb(), Adam.of(LR))
                        .initLogSds(Gaussians.tree(m, Math.log(0.5), Math.log(2), 0))
                        .build();
        DiagViState s = t.init(Gaussians.tree(m, 1, -2, 3));
        Engine.getInstance().setRandomSeed(8);
        int n = 20000;
        TensorTree draws = s.sample(n);
        assertEquals(new Shape(n, 2, 1), draws.get("a").getShape());
        assertEquals(new Shape(n, 1, 1), draws.get("b").getShape());
        double[] mean = {1, -2, 3};
        double[] sd = {0.5, 2, 1};
        double[] a = values(draws.get("a").reshape(n, 2));
        double[] b = values(draws.get("b").reshape(n));
        for (int i = 0; i < 3; i++) {
            double sum = 0;
            double sq = 0;
            for (int k = 0; k < n; k++) {
                double x = i < 2 ? a[2 * k + i] : b[k];
                sum += x;
                sq += x * x;
            }
            double mu = sum / n;
            double sdHat = Math.sqrt(sq / n - mu * mu);
            assertEquals(mean[i], mu, 4 * sd[i] / Math.sqrt(n), "mean " + i);
            assertEquals(sd[i], sdHat, 4 * sd[i] / Math.sqrt(2.0 * n), "sd " + i);
        }
        TensorTree one = s.sample(1).map(draw -> draw.squeeze(0));
        assertTrue(one.sameStructure(s.params()));
    }

    // ---- validation gaps and the state's copy ----

    @Test
    void nelbo_nonPositiveSd_throwsNamingTheLeafAndValue() {
        LogProbFn<Gaussians.DiagTarget> lp = Gaussians.diagLogProb();
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> DiagVi.nelbo(lp, zeros(), Gaussians.tree(m, 1, -1, 1), target, 1, 1));
        assertEquals(
                "sdDiag leaf 'a' must be positive and finite, got -1.0 at flat index 1",
                e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> DiagVi.nelbo(lp, zeros(), Gaussians.tree(m, 1, 1, 0), target, 1, 1));
        assertTrue(e.getMessage().contains("sdDiag leaf 'b'"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                DiagVi.nelbo(
                                        lp,
                                        zeros(),
                                        Gaussians.tree(m, Double.NaN, 1, 1),
                                        target,
                                        1,
                                        1));
        assertTrue(e.getMessage().contains("got NaN"), e.getMessage());
    }

    @Test
    void init_nanInParams_throwsNamingTheLeafAtStepZero() {
        DiagVi<Gaussians.DiagTarget> t =
                DiagVi.builder(Gaussians.diagLogProb(), Adam.of(LR)).build();
        int before = m.getManagedArrays().size();
        TensorTree params = Gaussians.tree(m, 0, 0, Double.NaN);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> t.init(params));
        assertTrue(e.getMessage().startsWith("params must be finite"), e.getMessage());
        assertTrue(e.getMessage().contains("leaf 'b'"), e.getMessage());
        assertTrue(e.getMessage().contains("step 0"), e.getMessage());
        assertEquals(before + 2, m.getManagedArrays().size(), "init leaves only the params");
    }

    @Test
    void update_nanNelbo_isReportedAsNelboWithTheStep() {
        LogProbFn<Gaussians.DiagTarget> nan =
                (p, b) -> LogProb.of(p.get("b").sum().mul(Double.NaN));
        DiagVi<Gaussians.DiagTarget> good =
                DiagVi.builder(Gaussians.diagLogProb(), Adam.of(LR)).build();
        DiagVi<Gaussians.DiagTarget> bad = DiagVi.builder(nan, Adam.of(LR)).build();
        DiagViState s = good.updateInPlace(good.init(zeros()), target).state();
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> bad.updateInPlace(s, target));
        assertTrue(e.getMessage().startsWith("nelbo must be finite, got NaN"), e.getMessage());
        assertTrue(e.getMessage().contains("step 1"), e.getMessage());
        assertTrue(!e.getMessage().contains("log probability"), e.getMessage());
    }

    @Test
    void update_nanGradient_throwsNamingTheLeafAndLeavesStateUnchanged() {
        // sqrt(x - x) is 0 with a NaN derivative (inf - inf): a finite NELBO, a NaN gradient
        LogProbFn<Gaussians.DiagTarget> lp =
                (p, b) -> LogProb.of(p.get("b").sub(p.get("b")).sum().sqrt());
        DiagVi<Gaussians.DiagTarget> t = DiagVi.builder(lp, Adam.of(LR)).build();
        DiagViState s = t.init(zeros());
        List<double[]> before = s.arrays().stream().map(Gaussians::values).toList();
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> t.updateInPlace(s, target));
        assertTrue(e.getMessage().startsWith("nelbo gradient must be finite"), e.getMessage());
        assertTrue(e.getMessage().contains("leaf 'mean/b'"), e.getMessage());
        assertTrue(e.getMessage().contains("step 0"), e.getMessage());
        for (int i = 0; i < before.size(); i++) {
            assertArrayEquals(before.get(i), values(s.arrays().get(i)), 0.0, "array " + i);
        }
    }

    @Test
    void copy_hasEqualValuesInIndependentArrays() {
        DiagVi<Gaussians.DiagTarget> t =
                DiagVi.builder(Gaussians.diagLogProb(), Adam.of(LR)).initLogSds(-0.3).build();
        DiagViState s = t.updateInPlace(t.init(Gaussians.tree(m, 0.1, 0.2, 0.3)), target).state();
        DiagViState c = s.copy();
        assertEquals(s.step(), c.step());
        assertEquals(s.arrays().size(), c.arrays().size());
        for (int i = 0; i < s.arrays().size(); i++) {
            assertTrue(s.arrays().get(i) != c.arrays().get(i), "array " + i + " is shared");
            assertArrayEquals(values(s.arrays().get(i)), values(c.arrays().get(i)), 0.0);
        }
        List<double[]> before = s.arrays().stream().map(Gaussians::values).toList();
        c.arrays().forEach(a -> a.muli(0));
        for (int i = 0; i < before.size(); i++) {
            assertArrayEquals(before.get(i), values(s.arrays().get(i)), 0.0, "array " + i);
        }
    }

    @Test
    void varianceDiag_isExpOfTwiceTheLogSd() {
        DiagVi<Gaussians.DiagTarget> t =
                DiagVi.builder(Gaussians.diagLogProb(), Adam.of(LR))
                        .initLogSds(Gaussians.tree(m, -1, 0.5, 2))
                        .build();
        DiagViState s = t.init(zeros());
        assertArrayEquals(
                new double[] {Math.exp(-2), Math.exp(1), Math.exp(4)},
                values(s.varianceDiag()),
                1e-12);
        assertTrue(s.mean() == s.params());
    }
}
