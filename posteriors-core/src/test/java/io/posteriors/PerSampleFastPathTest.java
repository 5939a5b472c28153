package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The fast per-sample path (probes on Linear outputs, outer products) against the generic path (one
 * reverse pass per sample) and against explicit per-sample loops.
 */
class PerSampleFastPathTest {

    private record Batch(NDArray x, NDArray y) {}

    private NDManager manager;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(3);
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private Block mlp(boolean withLayerNorm, boolean nested) {
        SequentialBlock block = new SequentialBlock();
        block.add(Linear.builder().setUnits(6).build());
        block.add(Activation::tanh);
        if (withLayerNorm) {
            block.add(LayerNorm.builder().build());
        }
        SequentialBlock inner = new SequentialBlock();
        inner.add(Linear.builder().setUnits(5).optBias(false).build());
        inner.add(Activation::relu);
        if (nested) {
            block.add(inner);
        } else {
            block.addAll(inner.getChildren().values());
        }
        block.add(Linear.builder().setUnits(3).build());
        block.initialize(manager, DataType.FLOAT64, new Shape(7, 4));
        return block;
    }

    private ModelLogPosterior<Batch> logPosterior(Block block, boolean prior) {
        var b =
                ModelLogPosterior.<Batch>builder(
                        FunctionalModel.of(block),
                        batch -> new NDList(batch.x()),
                        (o, batch) -> LogLikelihoods.categorical(o, batch.y()));
        if (prior) {
            b.prior(p -> DiagNormal.logProb(p, 0.0, 1.0, true), 100);
        }
        return b.build();
    }

    private Batch batch() {
        return new Batch(
                manager.randomNormal(new Shape(7, 4)).toType(DataType.FLOAT64, false),
                manager.create(new int[] {0, 1, 2, 2, 1, 0, 1}));
    }

    private void assertFastEqualsGeneric(Block block, boolean prior, boolean expectFast) {
        ModelLogPosterior<Batch> f = logPosterior(block, prior).perSample();
        LogProbFn<Batch> opaque = (p, b) -> f.apply(p, b); // hides the structure: generic path
        TensorTree params = TensorTree.fromBlock(block).copy();
        Batch batch = batch();
        long before = f.probing().calls();
        Autodiff.GradMoments fast = Autodiff.perSampleGradMoments(f, params, batch);
        assertEquals(expectFast ? before + 1 : before, f.probing().calls(), "path taken");
        Autodiff.GradMoments generic = Autodiff.perSampleGradMoments(opaque, params, batch);
        assertTrue(fast.values().allClose(generic.values(), 1e-12, 1e-12, false));
        assertTrue(fast.sum().allClose(generic.sum(), 1e-10, 1e-12), "sum of gradients");
        assertTrue(fast.sumOfSquares().allClose(generic.sumOfSquares(), 1e-10, 1e-12), "squares");
        // independent: the sum of per-sample gradients is the gradient of the summed values
        TensorTree total =
                Autodiff.grad((p, b) -> LogProb.of(f.apply(p, b).value().sum()), params, batch);
        assertTrue(fast.sum().allClose(total, 1e-10, 1e-12), "sum equals batch gradient");
    }

    @Test
    void fastPath_mlpWithPrior_equalsGenericPath() {
        assertFastEqualsGeneric(mlp(false, false), true, true);
    }

    @Test
    void fastPath_nestedBlocksNoBiasNoPrior_equalsGenericPath() {
        assertFastEqualsGeneric(mlp(false, true), false, true);
    }

    @Test
    void unsupportedLayer_fallsBackToGenericPath_withSameNumbers() {
        // LayerNorm has parameters the fast path does not know: the call must still be exact
        assertFastEqualsGeneric(mlp(true, false), true, false);
    }

    @Test
    void structure_ofAWrapper_selectsTheFastPath_lambdaHasNone() {
        Block block = mlp(false, false);
        ModelLogPosterior<Batch> f = logPosterior(block, true).perSample();
        LogProbFn<Batch> lambda = f::apply;
        LogProbFn<Batch> wrapper =
                new LogProbFn<>() {
                    @Override
                    public LogProb apply(TensorTree p, Batch b) {
                        return f.apply(p, b);
                    }

                    @Override
                    public Optional<ModelLogPosterior<Batch>> structure() {
                        return Optional.of(f);
                    }
                };
        assertTrue(lambda.structure().isEmpty());
        assertSame(f, f.structure().orElseThrow());
        TensorTree params = TensorTree.fromBlock(block).copy();
        Batch batch = batch();
        long before = f.probing().calls();
        Autodiff.GradMoments fast = Autodiff.perSampleGradMoments(wrapper, params, batch);
        assertEquals(before + 1, f.probing().calls(), "the wrapper's structure is used");
        Autodiff.GradMoments generic = Autodiff.perSampleGradMoments(lambda, params, batch);
        assertEquals(before + 1, f.probing().calls(), "a lambda takes the generic path");
        assertTrue(fast.sumOfSquares().allClose(generic.sumOfSquares(), 1e-10, 1e-12));
        assertSame(f, PerSample.perSamplify(wrapper));
    }

    @Test
    void genericPath_isReportedOncePerFunction_withCostAndReason() {
        // an uncovered layer: reported once, naming the layer and the measured cost
        Block withNorm = mlp(true, false);
        ModelLogPosterior<Batch> f = logPosterior(withNorm, true).perSample();
        TensorTree params = TensorTree.fromBlock(withNorm).copy();
        Batch batch = batch();
        long before = SlowPathReport.count();
        Autodiff.perSampleGradMoments(f, params, batch).close();
        assertEquals(before + 1, SlowPathReport.count(), "first generic call is reported");
        String m = SlowPathReport.last();
        assertTrue(m.contains("LayerNorm"), m);
        assertTrue(m.contains("7 samples in"), m);
        Autodiff.perSampleGradMoments(f, params, batch).close();
        assertEquals(before + 1, SlowPathReport.count(), "reported once");
        // a lambda: its own report, saying it has no structure
        LogProbFn<Batch> lambda = (p, b) -> f.apply(p, b);
        Autodiff.perSampleGradMoments(lambda, params, batch).close();
        assertEquals(before + 2, SlowPathReport.count());
        assertTrue(SlowPathReport.last().contains("no structure"), SlowPathReport.last());
        // a per-sample form made afresh at every step (as Laplace and the EKF do with perSample
        // false) is one function class: reported once, not at every step
        LogProbFn<Batch> batchFn = (p, b) -> LogProb.of(f.apply(p, b).value().mean());
        // (another test in this JVM may have reported that class already)
        long afterFirst = 0;
        for (int step = 0; step < 3; step++) {
            LogProbFn<Batch> perStep = PerSample.perSampleForm(batchFn, false, null);
            Autodiff.perSampleGradMoments(perStep, params, batch).close();
            if (step == 0) {
                afterFirst = SlowPathReport.count();
                assertTrue(afterFirst <= before + 3, "at most one report for the wrapper");
            }
        }
        assertEquals(afterFirst, SlowPathReport.count(), "not reported again at later steps");
        // the fast path is not reported
        Block linear = mlp(false, false);
        ModelLogPosterior<Batch> g = logPosterior(linear, true).perSample();
        Autodiff.perSampleGradMoments(g, TensorTree.fromBlock(linear).copy(), batch).close();
        assertEquals(afterFirst, SlowPathReport.count(), "fast path silent");
    }

    @Test
    void sumOfSquares_equalsExplicitLoopOverSamples() {
        Block block = mlp(false, false);
        ModelLogPosterior<Batch> f = logPosterior(block, true);
        TensorTree params = TensorTree.fromBlock(block).copy();
        Batch batch = batch();
        Autodiff.GradMoments fast = Autodiff.perSampleGradMoments(f.perSample(), params, batch);
        // per_samplify by hand: the batch function on each one-sample batch
        TensorTree expected = params.zerosLike();
        for (int i = 0; i < 7; i++) {
            Batch one =
                    new Batch(
                            batch.x().get(new ai.djl.ndarray.index.NDIndex("{}:{}", i, i + 1)),
                            batch.y().get(new ai.djl.ndarray.index.NDIndex("{}:{}", i, i + 1)));
            TensorTree g = Autodiff.grad(f, params, one);
            expected.forEachZip(g, (e, gi) -> e.addi(gi.square()));
        }
        assertTrue(fast.sumOfSquares().allClose(expected, 1e-10, 1e-12));
        assertEquals(7, fast.values().getShape().get(0));
    }

    @Test
    void modelLogPosterior_valueIsMeanLogLikelihoodPlusPriorOverN() {
        Block block = mlp(false, false);
        ModelLogPosterior<Batch> f = logPosterior(block, true);
        TensorTree params = TensorTree.fromBlock(block).copy();
        Batch batch = batch();
        NDArray logits =
                FunctionalModel.of(block).forward(params, new NDList(batch.x())).singletonOrThrow();
        double expected =
                LogLikelihoods.categorical(logits, batch.y()).mean().getDouble()
                        + DiagNormal.logProb(params, 0.0, 1.0, true).getDouble() / 100;
        assertEquals(expected, f.apply(params, batch).value().getDouble(), 1e-12);
        NDArray perSample = f.perSample().apply(params, batch).value();
        assertEquals(7 * expected, perSample.sum().getDouble(), 1e-10);
    }

    @Test
    void diagGgn_fastPath_equalsDiagonalOfGenericGgn() {
        for (boolean layerNorm : new boolean[] {false, true}) {
            Block block = mlp(layerNorm, !layerNorm);
            ModelLogPosterior<Batch> f = logPosterior(block, true);
            TensorTree params = TensorTree.fromBlock(block).copy();
            Batch batch = batch();
            long before = f.probing().calls();
            TensorTree fast = Curvature.diagGgn(f, params, batch);
            assertEquals(layerNorm ? before : before + 1, f.probing().calls());
            OuterFn<Batch> loss = (o, b) -> LogLikelihoods.categorical(o, b.y()).sum().neg();
            ForwardFn<Batch> forward =
                    (p, b) ->
                            ModelOutput.of(
                                    FunctionalModel.of(block)
                                            .forward(p, new NDList(b.x()))
                                            .singletonOrThrow());
            NDArray dense = Curvature.ggn(forward, loss, params, batch);
            int n = (int) params.numel();
            NDArray diagOfDense =
                    dense.mul(manager.eye(n, n, 0, DataType.FLOAT64)).sum(new int[] {1});
            assertTrue(
                    fast.ravel().allClose(diagOfDense, 1e-9, 1e-12, false),
                    "layerNorm=" + layerNorm);
        }
    }

    @Test
    void fastPath_float32WithPrior_isDifferentiableAndMatchesGeneric() {
        // float32 scalars: DJL's number operands promote 0-d float32 to float64, and a cast back
        // with toType would cut the graph; the prior must still contribute its gradient
        SequentialBlock block = new SequentialBlock();
        block.add(Linear.builder().setUnits(5).build());
        block.add(Activation::relu);
        block.add(Linear.builder().setUnits(3).build());
        block.initialize(manager, DataType.FLOAT32, new Shape(7, 4));
        ModelLogPosterior<Batch> f = logPosterior(block, true);
        TensorTree params = TensorTree.fromBlock(block).copy();
        Batch batch =
                new Batch(
                        manager.randomNormal(new Shape(7, 4)),
                        manager.create(new int[] {0, 1, 2, 2, 1, 0, 1}));
        Autodiff.GradMoments fast = Autodiff.perSampleGradMoments(f.perSample(), params, batch);
        LogProbFn<Batch> opaque = (p, b) -> f.perSample().apply(p, b);
        Autodiff.GradMoments generic = Autodiff.perSampleGradMoments(opaque, params, batch);
        assertTrue(fast.sumOfSquares().allClose(generic.sumOfSquares(), 1e-4, 1e-6));
        assertEquals(DataType.FLOAT32, f.apply(params, batch).value().getDataType());
        // the prior's share of the gradient: grad of the prior / N equals -params / 100
        TensorTree priorGrad =
                Autodiff.grad(
                        (p, b) -> LogProb.of(DiagNormal.logProb(p, 0.0, 1.0, true).div(100.0)),
                        params,
                        null);
        assertTrue(priorGrad.allClose(params.map(a -> a.div(-100f)), 1e-5, 1e-7));
    }

    @Test
    void linearizedForward_fastPath_equalsGenericJacobianPath() {
        for (boolean layerNorm : new boolean[] {false, true}) {
            Block block = mlp(layerNorm, !layerNorm);
            ModelLogPosterior<Batch> f = logPosterior(block, true);
            TensorTree params = TensorTree.fromBlock(block).copy();
            TensorTree sd = params.map(a -> a.onesLike().mul(0.3).add(a.abs().mul(0.1)));
            Batch batch = batch();
            long before = f.probing().calls();
            Curvature.Linearized fast = Curvature.linearizedForwardDiag(f, params, batch, sd);
            assertEquals(layerNorm ? before : before + 1, f.probing().calls());
            ForwardFn<Batch> forward =
                    (p, b) ->
                            ModelOutput.of(
                                    FunctionalModel.of(block)
                                            .forward(p, new NDList(b.x()))
                                            .singletonOrThrow());
            Curvature.Linearized generic =
                    Curvature.linearizedForwardDiag(forward, params, batch, sd);
            assertEquals(new Shape(7, 3, 3), fast.cov().getShape());
            assertTrue(fast.mean().allClose(generic.mean(), 1e-12, 1e-12, false));
            assertTrue(
                    fast.cov().allClose(generic.cov(), 1e-9, 1e-12, false),
                    "layerNorm=" + layerNorm);
        }
    }
}
