package io.posteriors.laplace;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import io.posteriors.Autodiff;
import io.posteriors.FunctionalModel;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.laplace.Fixtures.XY;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DiagFisherTest {

    private static final int N = 40;

    private NDManager manager;
    private XY data;
    private TensorTree params;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(42);
        manager = NDManager.newBaseManager();
        data = Fixtures.regression(manager, N);
        params = Fixtures.params(manager);
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** Σ_i g_i² of the hand-written per-sample gradients (see {@link Fixtures}). */
    private double[] expectedSquares(XY batch) {
        double[] sum = new double[Fixtures.D + 1];
        for (double[] g : Fixtures.perSampleGradients(params, batch, N)) {
            for (int j = 0; j < g.length; j++) {
                sum[j] += g[j] * g[j];
            }
        }
        return sum;
    }

    private static void assertClose(double[] expected, double[] actual, double rtol) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertTrue(
                    Math.abs(expected[i] - actual[i]) <= rtol * Math.abs(expected[i]),
                    "entry " + i + ": expected " + expected[i] + ", got " + actual[i]);
        }
    }

    @Test
    void update_meanLogPosterior_equalsSumOfSquaredPerSampleGradients() {
        double[] expected = expectedSquares(data);
        Transform<DiagLaplaceState, XY> t =
                DiagFisher.builder(Fixtures.meanLogPosterior(N)).build();

        DiagLaplaceState mini = t.init(params);
        for (XY b : Fixtures.minibatches(data, 10)) {
            mini = t.updateInPlace(mini, b).state();
        }
        assertEquals(4, mini.step());
        assertClose(expected, mini.precDiag().ravel().toDoubleArray(), 1e-5);

        DiagLaplaceState full = t.update(t.init(params), data).state();
        assertClose(expected, full.precDiag().ravel().toDoubleArray(), 1e-5);
        assertTrue(full.params().allClose(params, 0, 0), "the mean does not move");
    }

    @Test
    void update_perSampleLogPosterior_equalsSumOfSquaredPerSampleGradients() {
        double[] expected = expectedSquares(data);
        LogProbFn<XY> perSample =
                (p, b) -> {
                    NDArray o = Fixtures.linear().apply(p, b).output();
                    NDArray ll = Fixtures.gaussianLogLik(o, b.y(), Fixtures.SIGMA);
                    return LogProb.of(
                            ll.mul(Fixtures.constant(ll, N))
                                    .add(Fixtures.logPrior(p, Fixtures.TAU)));
                };
        Transform<DiagLaplaceState, XY> t = DiagFisher.builder(perSample).perSample(true).build();
        DiagLaplaceState s = t.init(params);
        for (XY b : Fixtures.minibatches(data, 16)) {
            s = t.update(s, b).state();
        }
        assertClose(expected, s.precDiag().ravel().toDoubleArray(), 1e-5);
    }

    /** posteriors' own check, on a small MLP: the reference gradients come one sample at a time. */
    @Test
    void update_mlp_equalsSumOfGradientsSquaredOneSampleAtATime() {
        SequentialBlock block = new SequentialBlock();
        block.add(Linear.builder().setUnits(5).build());
        block.add(Activation::tanh);
        block.add(Linear.builder().setUnits(1).build());
        block.initialize(manager, DataType.FLOAT32, new Shape(1, 4));
        FunctionalModel model = FunctionalModel.of(block);
        TensorTree p = TensorTree.fromBlock(block).copy(manager);
        NDArray x = manager.randomNormal(new Shape(30, 4));
        NDArray y = manager.randomNormal(new Shape(30, 1));
        XY all = new XY(x, y);
        LogProbFn<XY> meanLogPost =
                (q, b) -> {
                    NDArray out = model.forward(q, new NDList(b.x())).singletonOrThrow();
                    NDArray ll = Fixtures.gaussianLogLik(out, b.y(), 1.0).mean();
                    return LogProb.of(
                            ll.mul(Fixtures.constant(ll, 30)).add(Fixtures.logPrior(q, 1.0)));
                };
        TensorTree expected = p.zerosLike();
        for (int i = 0; i < 30; i++) {
            XY one = new XY(x.get(i + ":" + (i + 1)), y.get(i + ":" + (i + 1)));
            TensorTree g = Autodiff.grad(meanLogPost, p, one);
            expected.forEachZip(g, (e, gi) -> e.addi(gi.square()));
        }
        Transform<DiagLaplaceState, XY> t = DiagFisher.builder(meanLogPost).build();
        DiagLaplaceState mini = t.init(p);
        for (XY b : Fixtures.minibatches(all, 7)) {
            mini = t.updateInPlace(mini, b).state();
        }
        DiagLaplaceState full = t.update(t.init(p), all).state();
        for (String k : p.names()) {
            assertTrue(
                    expected.get(k).allClose(mini.precDiag().get(k), 1e-5, 1e-5, false),
                    "minibatches, leaf " + k);
            assertTrue(
                    expected.get(k).allClose(full.precDiag().get(k), 1e-5, 1e-5, false),
                    "full batch, leaf " + k);
        }
    }

    @Test
    void update_perSampleFalse_returnsStackedAux() {
        Transform<DiagLaplaceState, XY> t =
                DiagFisher.builder(Fixtures.meanLogPosterior(N)).build();
        var step = t.update(t.init(params), Fixtures.minibatches(data, 10).get(0));
        assertEquals(1, step.aux().size());
        assertEquals(new Shape(10, 1), step.aux().get(0).getShape());
    }

    @Test
    void init_addsInitialPrecision_scalarAndTree() {
        Transform<DiagLaplaceState, XY> scalar =
                DiagFisher.builder(Fixtures.meanLogPosterior(N)).initPrecDiag(2.5).build();
        DiagLaplaceState s = scalar.init(params);
        for (double v : s.precDiag().ravel().toDoubleArray()) {
            assertEquals(2.5, v);
        }
        DiagLaplaceState s2 =
                DiagFisher.builder(Fixtures.meanLogPosterior(N))
                        .initPrecDiag(Fixtures.params(manager).map(a -> a.abs()))
                        .build()
                        .init(params);
        assertTrue(s2.precDiag().allClose(params.map(NDArray::abs), 0, 0));
    }

    @Test
    void build_negativeInitialPrecision_throws() {
        var b = DiagFisher.builder(Fixtures.meanLogPosterior(N));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> b.initPrecDiag(-1.0));
        assertTrue(e.getMessage().contains("initPrecDiag"), e.getMessage());
        TensorTree negative = params.map(a -> a.zerosLike().sub(1));
        e = assertThrows(IllegalArgumentException.class, () -> b.initPrecDiag(negative));
        assertTrue(e.getMessage().contains("initPrecDiag leaf 'w'"), e.getMessage());
    }

    @Test
    void init_mismatchedInitialPrecisionTree_throwsNamingLeaf() {
        TensorTree wrong =
                Fixtures.tree(manager.ones(new Shape(4), DataType.FLOAT64), manager.create(1.0));
        var t = DiagFisher.builder(Fixtures.meanLogPosterior(N)).initPrecDiag(wrong).build();
        int before = manager.getManagedArrays().size();
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> t.init(params));
        assertTrue(e.getMessage().contains("'w'"), e.getMessage());
        assertEquals(before, manager.getManagedArrays().size(), "a failed init leaks nothing");
    }

    @Test
    void update_nonFiniteGradient_throwsAndLeavesStateUnchanged() {
        // log posterior -sum |w|^1.5 + ... is finite at w = 0 but so is its gradient; use sqrt:
        // d/dw sqrt(w) at w = 0 is infinite.
        LogProbFn<XY> bad = (p, b) -> LogProb.of(p.get("w").sqrt().sum().add(b.y().sum().mul(0)));
        TensorTree zeros = params.zerosLike();
        Transform<DiagLaplaceState, XY> t = DiagFisher.builder(bad).initPrecDiag(1.0).build();
        DiagLaplaceState s = t.init(zeros);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> t.updateInPlace(s, data));
        assertTrue(
                e.getMessage().contains("must be finite")
                        && e.getMessage().contains("'w'")
                        && e.getMessage().contains("step 0"),
                e.getMessage());
        for (double v : s.precDiag().ravel().toDoubleArray()) {
            assertEquals(1.0, v, "the state is unchanged");
        }
        assertEquals(0, s.step());
    }

    @Test
    void update_perSampleFalseWithVectorLogPosterior_throwsClearly() {
        Transform<DiagLaplaceState, XY> t =
                DiagFisher.builder(Fixtures.perSampleGaussianLogLik()).build();
        DiagLaplaceState s = t.init(params);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> t.update(s, data));
        assertTrue(e.getMessage().contains("perSample(true)"), e.getMessage());
    }

    @Test
    void update_unsplittableBatch_throwsClearly_andSplitterFixesIt() {
        LogProbFn<double[]> f =
                (p, b) ->
                        LogProb.of(
                                p.get("w")
                                        .sum()
                                        .mul(Fixtures.constant(p.get("w"), b[0]))
                                        .add(p.get("b")));
        DiagLaplaceState s0 = DiagFisher.<double[]>builder(f).build().init(params);
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                DiagFisher.<double[]>builder(f)
                                        .build()
                                        .update(s0, new double[] {1, 2}));
        assertTrue(e.getMessage().contains("batchSplitter"), e.getMessage());

        Transform<DiagLaplaceState, double[]> split =
                DiagFisher.<double[]>builder(f)
                        .batchSplitter(b -> List.of(new double[] {b[0]}, new double[] {b[1]}))
                        .build();
        DiagLaplaceState s = split.update(split.init(params), new double[] {1, 2}).state();
        // gradients (b_i, b_i, b_i, 1): squares summed are 1 + 4 = 5 on w and 2 on b.
        assertClose(new double[] {5, 5, 5, 2}, s.precDiag().ravel().toDoubleArray(), 1e-12);
    }
}
