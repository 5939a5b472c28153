package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link PerSample}: the per-sample form of a batch function against the function evaluated on each
 * sample by hand, per-sample gradients against their closed form, the automatic splitting of every
 * supported batch type, and the errors for batches it cannot split.
 */
class PerSampleTest {

    /** A batch record with a non-array component, which every part shares. */
    record Batch(NDArray x, NDArray y, String tag) {}

    /** A record whose arrays disagree on the number of samples. */
    record Ragged(NDArray a, NDArray b) {}

    private static final int N = 5;

    private NDManager manager;
    private double[][] xs;
    private double[] ys;
    private NDArray x;
    private NDArray y;
    private TensorTree params;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(11);
        manager = NDManager.newBaseManager();
        Random rng = new Random(4);
        xs = new double[N][2];
        ys = new double[N];
        for (int i = 0; i < N; i++) {
            xs[i][0] = rng.nextGaussian();
            xs[i][1] = rng.nextGaussian();
            ys[i] = rng.nextGaussian();
        }
        x = manager.create(xs);
        y = manager.create(ys);
        params = TensorTree.of("w", manager.create(new double[] {0.4, -0.3}));
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** The mean over the batch of -(y_i - x_i w)^2 / 2, a scalar for any batch size. */
    private static LogProbFn<Batch> meanGaussian() {
        return (p, b) -> {
            NDArray r = b.y().sub(b.x().matMul(p.get("w")));
            return LogProb.of(r.square().mul(-0.5).mean(), r);
        };
    }

    private double residual(int i) {
        return ys[i] - (xs[i][0] * 0.4 - xs[i][1] * 0.3);
    }

    @Test
    void perSamplify_meanFunction_returnsEachSamplesValue_andStacksTheAux() {
        LogProb lp = PerSample.perSamplify(meanGaussian()).apply(params, new Batch(x, y, "train"));
        assertEquals(new Shape(N), lp.value().getShape());
        double[] v = lp.value().toDoubleArray();
        for (int i = 0; i < N; i++) {
            double r = residual(i);
            assertEquals(-0.5 * r * r, v[i], 1e-12, "sample " + i);
        }
        assertEquals(1, lp.aux().size());
        // each call's aux is the residual of its one-sample batch, shape (1): stacked (N, 1)
        assertEquals(new Shape(N, 1), lp.aux().get(0).getShape());
        assertEquals(residual(3), lp.aux().get(0).getDouble(3, 0), 1e-12);
    }

    @Test
    void perSamplify_perSampleGradients_equalTheClosedForm() {
        // d/dw of -(y_i - x_i w)^2 / 2 is r_i x_i
        Autodiff.ValueAndGrad vg =
                Autodiff.perSampleValueAndGrad(
                        PerSample.perSamplify(meanGaussian()), params, new Batch(x, y, "t"));
        double[][] g = new double[N][];
        NDArray grad = vg.grad().get("w");
        assertEquals(new Shape(N, 2), grad.getShape());
        for (int i = 0; i < N; i++) {
            g[i] = grad.get(i).toDoubleArray();
            double r = residual(i);
            assertArrayEquals(new double[] {r * xs[i][0], r * xs[i][1]}, g[i], 1e-12);
        }
    }

    @Test
    void perSamplify_sumAndMean_giveTheSameValues() {
        LogProbFn<Batch> sum =
                (p, b) -> LogProb.of(b.y().sub(b.x().matMul(p.get("w"))).square().mul(-0.5).sum());
        Batch b = new Batch(x, y, "t");
        double[] fromSum = PerSample.perSamplify(sum).apply(params, b).value().toDoubleArray();
        double[] fromMean =
                PerSample.perSamplify(meanGaussian()).apply(params, b).value().toDoubleArray();
        assertArrayEquals(fromMean, fromSum, 0);
    }

    @Test
    void perSamplify_leaksNothingThroughAutodiff() {
        LogProbFn<Batch> f = PerSample.perSamplify(meanGaussian());
        Batch b = new Batch(x, y, "t");
        Autodiff.perSampleValueAndGrad(f, params, b).close();
        int before = manager.getManagedArrays().size();
        for (int k = 0; k < 3; k++) {
            Autodiff.perSampleValueAndGrad(f, params, b).close();
        }
        assertEquals(before, manager.getManagedArrays().size());
    }

    @Test
    void split_record_slicesArrays_keepsDimension_andSharesOtherComponents() {
        List<Batch> parts = PerSample.split(new Batch(x, y, "train"));
        assertEquals(N, parts.size());
        for (int i = 0; i < N; i++) {
            Batch part = parts.get(i);
            assertEquals(new Shape(1, 2), part.x().getShape());
            assertEquals(new Shape(1), part.y().getShape());
            assertArrayEquals(xs[i], part.x().toDoubleArray(), 0);
            assertEquals(ys[i], part.y().getDouble(0), 0);
            assertSame("train", part.tag());
        }
    }

    @Test
    void split_ndArrayNdListTreeAndList_allSliceAlongDimensionZero() {
        List<NDArray> arrays = PerSample.split(x);
        assertEquals(N, arrays.size());
        assertArrayEquals(xs[2], arrays.get(2).toDoubleArray(), 0);

        List<NDList> lists = PerSample.split(new NDList(x, y));
        assertEquals(N, lists.size());
        assertEquals(ys[4], lists.get(4).get(1).getDouble(0), 0);

        List<TensorTree> trees = PerSample.split(TensorTree.of("x", x));
        assertEquals(new Shape(1, 2), trees.get(1).get("x").getShape());

        List<Object> list = new ArrayList<>();
        list.add(x);
        list.add(List.of(y));
        list.add(7);
        List<List<Object>> parts = PerSample.split(list);
        assertEquals(N, parts.size());
        @SuppressWarnings("unchecked")
        List<Object> inner = (List<Object>) parts.get(3).get(1);
        assertEquals(ys[3], ((NDArray) inner.get(0)).getDouble(0), 0);
        assertEquals(7, parts.get(3).get(2));
        assertThrows(UnsupportedOperationException.class, () -> parts.get(0).add(1));
    }

    @Test
    void sampleCount_isTheCommonLeadingDimension_orEmpty() {
        assertEquals(OptionalLong.of(N), PerSample.sampleCount(new Batch(x, y, "t")));
        assertEquals(OptionalLong.empty(), PerSample.sampleCount("no arrays"));
        assertEquals(OptionalLong.empty(), PerSample.sampleCount(new Ragged(x, y.get("0:3"))));
        assertEquals(OptionalLong.empty(), PerSample.sampleCount(manager.create(1.0)));
    }

    @Test
    void split_raggedRecord_namesBothComponentsAndTheirSizes() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PerSample.split(new Ragged(x, y.get("0:3"))));
        String m = e.getMessage();
        assertTrue(
                m.contains("batch.a")
                        && m.contains("batch.b")
                        && m.contains("5")
                        && m.contains("3"),
                m);
        assertTrue(m.contains("batchSplitter"), m);
    }

    @Test
    void split_batchWithoutArraysOrWithAScalar_throwsNamingTheFix() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class, () -> PerSample.split(new double[] {1, 2}));
        assertTrue(e.getMessage().contains("holds no NDArray"), e.getMessage());
        assertTrue(e.getMessage().contains("batchSplitter"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PerSample.split(new NDList(x, manager.create(2.0))));
        assertTrue(e.getMessage().contains("batch[1] is a scalar"), e.getMessage());
    }

    @Test
    void perSamplify_withASplitter_usesIt() {
        LogProbFn<double[]> f =
                (p, b) -> LogProb.of(p.get("w").sum().mul(b[0]).add(b.length - 1.0));
        LogProbFn<double[]> per =
                PerSample.perSamplify(f, b -> List.of(new double[] {b[0]}, new double[] {b[1]}));
        // each part has length 1, so entry i is b_i * (0.4 - 0.3)
        double[] v = per.apply(params, new double[] {2, 3}).value().toDoubleArray();
        assertArrayEquals(new double[] {0.2, 0.3}, v, 1e-12);
    }

    @Test
    void perSamplify_emptySplit_throws() {
        LogProbFn<double[]> per =
                PerSample.perSamplify((p, b) -> LogProb.of(p.get("w").sum()), b -> List.of());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> per.apply(params, null));
        assertTrue(e.getMessage().contains("at least one"), e.getMessage());
    }

    @Test
    void perSamplify_functionReturningAVector_throwsPointingToPerSampleTrue() {
        LogProbFn<Batch> vector =
                (p, b) -> LogProb.of(b.y().sub(b.x().matMul(p.get("w"))).square());
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PerSample.perSamplify(vector).apply(params, new Batch(x, y, "t")));
        assertTrue(
                e.getMessage().contains("scalar")
                        && e.getMessage().contains("(1)")
                        && e.getMessage().contains("perSample(true)"),
                e.getMessage());
    }

    @Test
    void perSamplify_auxOfDifferentShapes_throws() {
        LogProbFn<NDArray> f =
                (p, b) -> {
                    NDArray v = p.get("w").sum().mul(b.sum());
                    // a sample-dependent aux shape
                    int k = (int) b.getDouble(0, 0) + 1;
                    return LogProb.of(v, manager.zeros(new Shape(k)));
                };
        NDArray batch = manager.create(new double[][] {{0}, {1}});
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PerSample.perSamplify(f).apply(params, batch));
        assertTrue(e.getMessage().contains("aux array 0"), e.getMessage());
    }

    @Test
    void nullArguments_throwNamingThem() {
        NullPointerException e =
                assertThrows(NullPointerException.class, () -> PerSample.perSamplify(null));
        assertTrue(e.getMessage().contains("f"), e.getMessage());
        e =
                assertThrows(
                        NullPointerException.class,
                        () -> PerSample.perSamplify(meanGaussian(), null));
        assertTrue(e.getMessage().contains("splitter"), e.getMessage());
    }

    @Test
    void perSampleForm_followsTheFlag() {
        LogProbFn<Batch> f = meanGaussian();
        assertSame(f, PerSample.perSampleForm(f, true, null));
        LogProbFn<Batch> per = PerSample.perSampleForm(f, false, null);
        assertEquals(new Shape(N), per.apply(params, new Batch(x, y, "t")).value().getShape());
    }

    @Test
    void modelLogPosterior_isReturnedInItsExactPerSampleForm_andKeepsTheFastPath() {
        SequentialBlock block = new SequentialBlock();
        block.add(Linear.builder().setUnits(4).build());
        block.add(Activation::tanh);
        block.add(Linear.builder().setUnits(3).build());
        block.initialize(manager, DataType.FLOAT64, new Shape(N, 2));
        ModelLogPosterior<Batch> m =
                ModelLogPosterior.<Batch>builder(
                                FunctionalModel.of(block),
                                b -> new NDList(b.x()),
                                (o, b) ->
                                        LogLikelihoods.categorical(
                                                o, b.y().abs().mul(2).floor().clip(0, 2)))
                        .prior(p -> DiagNormal.logProb(p, 0.0, 1.0, true), 50)
                        .build();
        assertFalse(m.isPerSample());
        LogProbFn<Batch> fromModel = PerSample.perSamplify(m);
        assertTrue(
                fromModel instanceof ModelLogPosterior<Batch> p && p.isPerSample(),
                "the model's own per-sample form");
        assertTrue(
                PerSample.perSamplify(m, b -> List.of(b)) instanceof ModelLogPosterior<?>,
                "whatever the splitter");
        assertTrue(
                PerSample.perSampleForm(m, true, null) instanceof ModelLogPosterior<?> p
                        && p.isPerSample());

        TensorTree p = TensorTree.fromBlock(block).copy();
        Batch b = new Batch(x, y, "t");
        // the generic splitting of the same function (hidden behind a lambda) gives the same values
        LogProbFn<Batch> hidden = m::apply;
        double[] exact = fromModel.apply(p, b).value().toDoubleArray();
        double[] generic = PerSample.perSamplify(hidden).apply(p, b).value().toDoubleArray();
        assertArrayEquals(generic, exact, 1e-12);

        long before = m.probing().calls();
        Autodiff.perSampleGradMoments(fromModel, p, b).close();
        assertEquals(before + 1, m.probing().calls(), "fast path taken");
    }
}
