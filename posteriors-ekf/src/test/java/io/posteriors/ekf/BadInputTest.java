package io.posteriors.ekf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.State;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Bad input gets a clear exception naming the parameter, the rule and the value, or the step. */
class BadInputTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private static void assertMessage(Throwable e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks " + p);
        }
    }

    private TensorTree params() {
        return Logistic.params(manager, 0.1, 0.2, 0.3, DataType.FLOAT32);
    }

    @Test
    void builders_rejectNonPositiveLr() {
        for (double lr : new double[] {0, -0.1, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertMessage(
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> DiagEkf.builder(Logistic.meanLogLik(), lr)),
                    "lr must be positive",
                    String.valueOf(lr));
            assertMessage(
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> DenseEkf.builder(Logistic.meanLogLik(), lr)),
                    "lr must be positive",
                    String.valueOf(lr));
        }
    }

    @Test
    void builders_rejectNegativeTransitionNoise() {
        var diag = DiagEkf.builder(Logistic.meanLogLik(), 1.0);
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> diag.transitionSd(-0.1)),
                "transitionSd must be non-negative",
                "-0.1");
        var dense = DenseEkf.builder(Logistic.meanLogLik(), 1.0);
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> dense.transitionCov(-1e-3)),
                "transitionCov must be non-negative",
                "-0.001");
        NDArray indefinite = manager.create(new float[][] {{1, 0}, {0, -0.5f}});
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> dense.transitionCov(indefinite)),
                "transitionCov must be positive semi-definite",
                "-0.5");
        NDArray asymmetric = manager.create(new float[][] {{1, 0.5f}, {0, 1}});
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> dense.transitionCov(asymmetric)),
                "transitionCov must be symmetric");
        NDArray notSquare = manager.zeros(new ai.djl.ndarray.types.Shape(2, 3));
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> dense.transitionCov(notSquare)),
                "transitionCov must be a square matrix",
                "(2, 3)");
        NDArray nan = manager.create(new float[][] {{1, Float.NaN}, {Float.NaN, 1}});
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> dense.transitionCov(nan)),
                "transitionCov must be finite");
    }

    @Test
    void init_rejectsMatricesOfTheWrongSize() {
        NDArray q = manager.eye(4).mul(0.1f);
        DenseEkf<Logistic.Batch> t =
                DenseEkf.builder(Logistic.meanLogLik(), 1.0).transitionCov(q).build();
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> t.init(params())),
                "transitionCov must have shape (3, 3) for 3 parameters",
                "(4, 4)");
        DenseEkf<Logistic.Batch> u =
                DenseEkf.builder(Logistic.meanLogLik(), 1.0).initCov(manager.eye(2)).build();
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> u.init(params())),
                "initCov must have shape (3, 3)");
    }

    @Test
    void builders_rejectBadInitialSpread() {
        assertMessage(
                assertThrows(
                        IllegalArgumentException.class,
                        () -> DiagEkf.builder(Logistic.meanLogLik(), 1.0).initSds(0)),
                "initSds must be positive",
                "0.0");
        TensorTree negative = params().map(a -> a.sub(1));
        assertMessage(
                assertThrows(
                        IllegalArgumentException.class,
                        () -> DiagEkf.builder(Logistic.meanLogLik(), 1.0).initSds(negative)),
                "initSds must be positive",
                "leaf 'w'");
        TensorTree other = TensorTree.of("w", manager.ones(new ai.djl.ndarray.types.Shape(2)));
        DiagEkf<Logistic.Batch> t =
                DiagEkf.builder(Logistic.meanLogLik(), 1.0).initSds(other).build();
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> t.init(params())),
                "initSds must have the same leaves");
        assertMessage(
                assertThrows(
                        IllegalArgumentException.class,
                        () -> DenseEkf.builder(Logistic.meanLogLik(), 1.0).initCov(-2)),
                "initCov must be positive",
                "-2.0");
        NDArray singular = manager.create(new float[][] {{1, 1}, {1, 1}});
        assertMessage(
                assertThrows(
                        IllegalArgumentException.class,
                        () -> DenseEkf.builder(Logistic.meanLogLik(), 1.0).initCov(singular)),
                "initCov must be positive definite");
    }

    @Test
    void builders_rejectNulls() {
        assertMessage(
                assertThrows(NullPointerException.class, () -> DiagEkf.builder(null, 1.0)),
                "logLikelihood");
        assertMessage(
                assertThrows(
                        NullPointerException.class,
                        () -> DenseEkf.builder(Logistic.meanLogLik(), 1.0).ggn(null, null)),
                "forward");
        assertMessage(
                assertThrows(
                        NullPointerException.class,
                        () ->
                                DiagEkf.builder(Logistic.meanLogLik(), 1.0)
                                        .ggn(Logistic.forward(), null)),
                "outerLogLikelihood");
    }

    @Test
    void init_rejectsClosedParameters() {
        TensorTree p = params();
        p.get("b").close();
        assertThrows(
                IllegalStateException.class,
                () -> DiagEkf.builder(Logistic.meanLogLik(), 1.0).build().init(p));
        assertThrows(
                IllegalStateException.class,
                () -> DenseEkf.builder(Logistic.meanLogLik(), 1.0).build().init(p));
    }

    @Test
    void scheduledLr_nonPositiveAtAStep_isReportedWithTheStep() {
        DiagEkf<Logistic.Batch> t =
                DiagEkf.builder(Logistic.meanLogLik(), step -> 1.0 - 0.5 * step).build();
        DiagEkfState s = t.init(params());
        Logistic.Batch b = Logistic.batch(manager, new Random(1), 4, DataType.FLOAT32);
        s = t.updateInPlace(s, b).state();
        s = t.updateInPlace(s, b).state();
        DiagEkfState before = s;
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> t.updateInPlace(before, b));
        assertMessage(e, "lr must be positive", "0.0", "at step 2");
    }

    @Test
    void diagEkf_nanLogLikelihood_isReportedWithTheStep_andLeavesStateUnchanged() {
        nanAtStep3(DiagEkf.builder(Logistic.perSampleLogLik(), 1.0).perSample(true).build());
        nanAtStep3(DiagEkf.builder(Logistic.meanLogLik(), 1.0).build());
        nanAtStep3(
                DiagEkf.builder(Logistic.meanLogLik(), 1.0)
                        .ggn(Logistic.forward(), Logistic.outerSum())
                        .build());
    }

    @Test
    void denseEkf_nanLogLikelihood_isReportedWithTheStep_andLeavesStateUnchanged() {
        nanAtStep3(DenseEkf.builder(Logistic.perSampleLogLik(), 1.0).perSample(true).build());
        nanAtStep3(DenseEkf.builder(Logistic.meanLogLik(), 1.0).transitionCov(0.1).build());
        nanAtStep3(
                DenseEkf.builder(Logistic.meanLogLik(), 1.0)
                        .ggn(Logistic.forward(), Logistic.outerSum())
                        .build());
    }

    private <S extends State> void nanAtStep3(Transform<S, Logistic.Batch> t) {
        Random rng = new Random(2);
        S s = t.init(params());
        for (int i = 0; i < 3; i++) {
            Step<S> step = t.updateInPlace(s, Logistic.batch(manager, rng, 4, DataType.FLOAT32));
            step.aux().close();
            s = step.state();
        }
        Logistic.Batch good = Logistic.batch(manager, rng, 4, DataType.FLOAT32);
        Logistic.Batch bad =
                new Logistic.Batch(good.x().mul(Float.NaN), good.y(), good.xs(), good.ys());
        List<float[]> before = s.arrays().stream().map(NDArray::toFloatArray).toList();
        S current = s;
        int arrays = manager.getManagedArrays().size();
        IllegalArgumentException pure =
                assertThrows(IllegalArgumentException.class, () -> t.update(current, bad));
        assertMessage(pure, "step 3", "finite");
        assertEquals(arrays, manager.getManagedArrays().size(), "a failed update leaks nothing");
        IllegalArgumentException inPlace =
                assertThrows(IllegalArgumentException.class, () -> t.updateInPlace(current, bad));
        assertMessage(inPlace, "step 3", "finite");
        List<float[]> after = s.arrays().stream().map(NDArray::toFloatArray).toList();
        for (int i = 0; i < before.size(); i++) {
            assertArrayEquals(before.get(i), after.get(i), "array " + i + " unchanged");
        }
        // the filter goes on from the untouched state
        Step<S> next = t.updateInPlace(current, good);
        assertEquals(4, next.state().step());
    }

    @Test
    void perSample_withAScalarLogLikelihood_isReportedWithTheStep() {
        LogProbFnScalar f = new LogProbFnScalar();
        DenseEkf<Logistic.Batch> t = DenseEkf.builder(f::apply, 1.0).perSample(true).build();
        DenseEkfState s = t.init(params());
        Logistic.Batch b = Logistic.batch(manager, new Random(3), 4, DataType.FLOAT32);
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> t.update(s, b)),
                "step 0",
                "vector");
        DiagEkf<Logistic.Batch> d =
                DiagEkf.builder(f::apply, 1.0)
                        .perSample(true)
                        .ggn(Logistic.forward(), Logistic.outerSum())
                        .build();
        DiagEkfState ds = d.init(params());
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> d.update(ds, b)),
                "step 0",
                "vector");
    }

    @Test
    void perSampleFalse_withAVectorLogLikelihood_isReportedWithTheStep_andNamesTheFix() {
        DiagEkf<Logistic.Batch> t = DiagEkf.builder(Logistic.perSampleLogLik(), 1.0).build();
        DiagEkfState s = t.init(params());
        Logistic.Batch b = Logistic.batch(manager, new Random(3), 4, DataType.FLOAT32);
        int arrays = manager.getManagedArrays().size();
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> t.update(s, b)),
                "step 0",
                "scalar",
                "perSample(true)");
        assertEquals(arrays, manager.getManagedArrays().size(), "a failed update leaks nothing");
    }

    @Test
    void perSampleFalse_withAnUnsplittableBatch_namesTheSplitter_andASplitterFixesIt() {
        LogProbFn<double[]> f =
                (p, b) -> LogProb.of(p.get("b").sum().mul(b[0]).add(p.get("w").sum()));
        DenseEkf<double[]> t = DenseEkf.<double[]>builder(f, 1.0).build();
        DenseEkfState s = t.init(params());
        assertMessage(
                assertThrows(
                        IllegalArgumentException.class, () -> t.update(s, new double[] {1, 2})),
                "step 0",
                "batchSplitter");
        DenseEkf<double[]> split =
                DenseEkf.<double[]>builder(f, 1.0)
                        .batchSplitter(b -> List.of(new double[] {b[0]}, new double[] {b[1]}))
                        .build();
        try (DenseEkfState next = split.update(split.init(params()), new double[] {1, 2}).state()) {
            assertEquals(1, next.step());
        }
    }

    /** A log likelihood that returns a scalar where a per-sample vector is expected. */
    private static final class LogProbFnScalar {
        LogProb apply(TensorTree p, Logistic.Batch b) {
            return LogProb.of(Logistic.bernoulli(Logistic.logits(p, b), b.y()).sum());
        }
    }
}
