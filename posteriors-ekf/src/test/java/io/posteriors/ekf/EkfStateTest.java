package io.posteriors.ekf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.InitialValue;
import io.posteriors.LogProb;
import io.posteriors.PerSample;
import io.posteriors.Schedule;
import io.posteriors.State;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.testing.GaussianPosteriorContract;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The states as Gaussian posteriors (the shared contract, after a few filter updates in float64),
 * state copies, and the checks of initial parameters, gradients and record options.
 */
class EkfStateTest {

    private final NDManager manager = NDManager.newBaseManager();

    @AfterEach
    void closeManager() {
        manager.close();
    }

    /** Runs three updates on fresh float64 logistic data from {@code params}. */
    private static <S extends State> S filtered(
            Transform<S, Logistic.Batch> t, NDManager m, TensorTree params) {
        Random rng = new Random(11);
        S s = t.init(params);
        for (int i = 0; i < 3; i++) {
            var step = t.updateInPlace(s, Logistic.batch(m, rng, 6, DataType.FLOAT64));
            step.aux().close();
            s = step.state();
        }
        return s;
    }

    private static TensorTree params(NDManager m) {
        return Logistic.params(m, 0.3, -0.4, 0.1, DataType.FLOAT64);
    }

    /** The diagonal filter's state after updates, from per-leaf initial standard deviations. */
    @Nested
    class DiagGaussian implements GaussianPosteriorContract<DiagEkfState> {
        @Override
        public DiagEkfState posterior(NDManager m) {
            TensorTree sds = params(m).map(a -> a.onesLike().mul(0.8));
            return filtered(
                    DiagEkf.builder(Logistic.perSampleLogLik(), 2.0)
                            .perSample(true)
                            .initSds(sds)
                            .transitionSd(0.05)
                            .build(),
                    m,
                    params(m));
        }
    }

    /** The dense filter's state after updates, from a correlated initial covariance. */
    @Nested
    class DenseGaussian implements GaussianPosteriorContract<DenseEkfState> {
        @Override
        public DenseEkfState posterior(NDManager m) {
            double[][] init = {{1.2, 0.3, -0.2}, {0.3, 0.8, 0.1}, {-0.2, 0.1, 0.6}};
            return filtered(
                    DenseEkf.builder(Logistic.perSampleLogLik(), 2.0)
                            .perSample(true)
                            .initCov(m.create(init))
                            .transitionCov(0.01)
                            .build(),
                    m,
                    params(m));
        }
    }

    @Test
    void copy_isIndependentOfTheOriginal() {
        var diag = DiagEkf.builder(Logistic.perSampleLogLik(), 1.0).perSample(true).build();
        var dense = DenseEkf.builder(Logistic.perSampleLogLik(), 1.0).perSample(true).build();
        copyIsIndependent(diag, diag.init(params(manager)));
        copyIsIndependent(dense, dense.init(params(manager)));
    }

    private <S extends State> void copyIsIndependent(Transform<S, Logistic.Batch> t, S s) {
        @SuppressWarnings("unchecked")
        S copy = (S) s.copy();
        assertEquals(s.step(), copy.step());
        List<NDArray> a = s.arrays();
        List<NDArray> b = copy.arrays();
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertNotSame(a.get(i), b.get(i), "array " + i + " is new");
            assertArrayEquals(a.get(i).toDoubleArray(), b.get(i).toDoubleArray(), "array " + i);
        }
        List<double[]> before = b.stream().map(NDArray::toDoubleArray).toList();
        t.updateInPlace(s, Logistic.batch(manager, new Random(3), 5, DataType.FLOAT64))
                .aux()
                .close();
        for (int i = 0; i < b.size(); i++) {
            assertArrayEquals(before.get(i), b.get(i).toDoubleArray(), "copy array " + i);
        }
        s.close();
        assertTrue(copy.arrays().stream().noneMatch(NDArray::isReleased), "copy stays open");
    }

    @Test
    void init_nanInParams_isReportedAtInitNamingTheLeaf() {
        TensorTree p = Logistic.params(manager, 0.1, 0.2, Double.NaN, DataType.FLOAT32);
        for (Transform<?, Logistic.Batch> t :
                List.of(
                        DiagEkf.builder(Logistic.meanLogLik(), 1.0).build(),
                        DenseEkf.builder(Logistic.meanLogLik(), 1.0).build())) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> t.init(p));
            assertTrue(
                    e.getMessage().contains("params must be finite")
                            && e.getMessage().contains("leaf 'b'")
                            && e.getMessage().contains("step 0"),
                    e.getMessage());
        }
    }

    @Test
    void update_nonFiniteGradient_isReportedWithTheLeafAndTheStep() {
        // sqrt(|w|) is finite at w = 0, its derivative is not
        io.posteriors.LogProbFn<Logistic.Batch> f =
                (p, b) ->
                        LogProb.of(p.get("w").abs().sqrt().sum().add(p.get("b").sum()).reshape(1));
        TensorTree zero = Logistic.params(manager, 0, 0, 0, DataType.FLOAT64);
        Logistic.Batch batch = Logistic.batch(manager, new Random(1), 2, DataType.FLOAT64);
        for (Transform<?, Logistic.Batch> t :
                List.<Transform<?, Logistic.Batch>>of(
                        DiagEkf.builder(f, 1.0).perSample(true).build(),
                        DenseEkf.builder(f, 1.0).perSample(true).build())) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> update(t, zero, batch));
            assertTrue(
                    e.getMessage().contains("gradient must be finite")
                            && e.getMessage().contains("leaf 'w'")
                            && e.getMessage().contains("step 0"),
                    e.getMessage());
        }
    }

    private static <S extends State> void update(
            Transform<S, Logistic.Batch> t, TensorTree params, Logistic.Batch batch) {
        t.update(t.init(params), batch);
    }

    @Test
    void records_rejectInconsistentOptions() {
        InitialValue one = InitialValue.of(1.0, "x");
        assertRejected(
                () -> diag(one, Logistic.forward(), null),
                "forward and outerLogLikelihood must be given together",
                "only forward");
        assertRejected(
                () -> diag(InitialValue.of(manager.eye(3), "initSds"), null, null),
                "initSds must be a number or a tree");
        assertRejected(
                () -> dense(InitialValue.of(params(manager), "initCov"), one, 1.0),
                "initCov must be a number or a (P, P) matrix");
        assertRejected(() -> dense(one, one, 0.0), "lr must be positive", "at step 0");
        assertRejected(
                () -> dense(InitialValue.of(manager.eye(3).neg(), "initCov"), one, 1.0),
                "initCov must be positive definite");
        assertRejected(
                () -> dense(one, InitialValue.of(-0.5, "transitionCov"), 1.0),
                "transitionCov must be non-negative");
    }

    private static DiagEkf<Logistic.Batch> diag(
            InitialValue initSds,
            io.posteriors.ForwardFn<Logistic.Batch> forward,
            io.posteriors.OuterFn<Logistic.Batch> outer) {
        return new DiagEkf<>(
                Logistic.meanLogLik(),
                Schedule.constant(1.0),
                initSds,
                0,
                forward,
                outer,
                false,
                PerSample::split);
    }

    private static DenseEkf<Logistic.Batch> dense(
            InitialValue initCov, InitialValue transitionCov, double lr) {
        return new DenseEkf<>(
                Logistic.meanLogLik(),
                step -> lr,
                initCov,
                transitionCov,
                null,
                null,
                false,
                PerSample::split);
    }

    private static void assertRejected(Runnable build, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build::run);
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), e.getMessage());
        }
    }

    @Test
    void denseState_singularCovariance_samplesButHasNoCholeskyFactor() {
        TensorTree p = TensorTree.of("x", manager.create(new double[] {1, 2}));
        NDArray cov = manager.create(new double[][] {{1, 1}, {1, 1}});
        DenseEkfState s = new DenseEkfState(p, cov, manager.create(Double.NaN), 0);
        TensorTree draws = s.sample(50);
        double[] x = draws.get("x").toDoubleArray();
        for (int i = 0; i < 50; i++) {
            // the draws lie on the line x1 - x0 = 1 that the covariance allows
            assertEquals(1, x[2 * i + 1] - x[2 * i], 1e-9, "draw " + i);
        }
        assertArrayEquals(new double[] {1, 1}, s.varianceDiag().get("x").toDoubleArray(), 0);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, s::covarianceCholesky);
        assertTrue(e.getMessage().contains("cov must be positive definite"), e.getMessage());
    }
}
