package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A block of one's own built from linear maps (here a low-rank adapter over a frozen layer) keeps
 * the one-pass per-sample path, with the generic path's numbers.
 */
class LinearCompositeTest {

    private record Batch(NDArray x, NDArray y) {}

    /** y = x W0ᵀ + b0 + s (x Aᵀ) Bᵀ with W0, b0 frozen constants and A, B parameters. */
    static final class Adapter extends AbstractBlock implements LinearComposite {
        private final NDArray w0;
        private final NDArray b0;
        private final int rank;
        private final double scale;
        private final Parameter a;
        private final Parameter b;

        Adapter(NDArray w0, NDArray b0, int rank, double scale) {
            this.w0 = w0;
            this.b0 = b0;
            this.rank = rank;
            this.scale = scale;
            a =
                    addParameter(
                            Parameter.builder()
                                    .setName("a")
                                    .setType(Parameter.Type.WEIGHT)
                                    .build());
            b =
                    addParameter(
                            Parameter.builder()
                                    .setName("b")
                                    .setType(Parameter.Type.WEIGHT)
                                    .build());
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore store, NDList inputs, boolean training, PairList<String, Object> p) {
            return forward(store, inputs, training, LinearComposite.plain(store, training));
        }

        @Override
        public NDList forward(
                ParameterStore store, NDList inputs, boolean training, LinearMap linear) {
            NDArray x = inputs.singletonOrThrow();
            NDArray u = linear.apply(x, a, null);
            NDArray z = linear.apply(u.mul(scale), b, null);
            return new NDList(x.matMul(w0.transpose()).add(b0).add(z));
        }

        @Override
        protected void prepare(Shape[] inputShapes) {
            a.setShape(new Shape(rank, inputShapes[0].get(1)));
            b.setShape(new Shape(w0.getShape().get(0), rank));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return new Shape[] {new Shape(inputShapes[0].get(0), w0.getShape().get(0))};
        }
    }

    private NDManager manager;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(21);
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private SequentialBlock model() {
        NDArray w0 = manager.randomNormal(new Shape(6, 4)).toType(DataType.FLOAT64, false);
        NDArray b0 = manager.randomNormal(new Shape(6)).toType(DataType.FLOAT64, false);
        SequentialBlock block = new SequentialBlock();
        block.add(new Adapter(w0, b0, 2, 0.5));
        block.add(Activation::tanh);
        block.add(Linear.builder().setUnits(3).build());
        block.initialize(manager, DataType.FLOAT64, new Shape(7, 4));
        return block;
    }

    private ModelLogPosterior<Batch> logPosterior(SequentialBlock block) {
        return ModelLogPosterior.<Batch>builder(
                        FunctionalModel.of(block),
                        bt -> new NDList(bt.x()),
                        (o, bt) -> LogLikelihoods.categorical(o, bt.y()))
                .prior(GaussianPrior.isotropic(0, 1), 40)
                .build();
    }

    private Batch batch() {
        return new Batch(
                manager.randomNormal(new Shape(7, 4)).toType(DataType.FLOAT64, false),
                manager.create(new int[] {0, 2, 1, 1, 0, 2, 2}));
    }

    @Test
    void adapter_perSampleMoments_fastPathEqualsGenericPath() {
        SequentialBlock block = model();
        ModelLogPosterior<Batch> f = logPosterior(block).perSample();
        LogProbFn<Batch> opaque = (p, b) -> f.apply(p, b);
        TensorTree params = TensorTree.fromBlock(block).copy();
        assertEquals(4, params.size(), "A, B and the head's weight and bias");
        Batch batch = batch();
        long before = f.probing().calls();
        Autodiff.GradMoments fast = Autodiff.perSampleGradMoments(f, params, batch);
        assertEquals(before + 1, f.probing().calls(), "fast path taken");
        Autodiff.GradMoments generic = Autodiff.perSampleGradMoments(opaque, params, batch);
        assertTrue(fast.values().allClose(generic.values(), 1e-12, 1e-12, false));
        assertTrue(fast.sum().allClose(generic.sum(), 1e-10, 1e-12), "sum");
        assertTrue(fast.sumOfSquares().allClose(generic.sumOfSquares(), 1e-10, 1e-12), "squares");
        assertNull(FunctionalModel.of(block).firstUncoveredLayer(), "covered");
    }

    @Test
    void adapter_diagGgn_fastPathEqualsDenseGgnDiagonal() {
        SequentialBlock block = model();
        ModelLogPosterior<Batch> f = logPosterior(block);
        TensorTree params = TensorTree.fromBlock(block).copy();
        Batch batch = batch();
        long before = f.probing().calls();
        TensorTree fast = Curvature.diagGgn(f, params, batch);
        assertEquals(before + 1, f.probing().calls(), "fast path taken");
        OuterFn<Batch> loss = (o, b) -> LogLikelihoods.categorical(o, b.y()).sum().neg();
        ForwardFn<Batch> forward =
                (p, b) ->
                        ModelOutput.of(
                                FunctionalModel.of(block)
                                        .forward(p, new NDList(b.x()))
                                        .singletonOrThrow());
        NDArray dense = Curvature.ggn(forward, loss, params, batch);
        NDArray diag = dense.diagonal();
        assertTrue(fast.ravel().allClose(diag, 1e-10, 1e-12, false), "diagonal of the GGN");
    }

    @Test
    void adapter_plainForward_matchesHandComputation() {
        SequentialBlock block = model();
        Adapter adapter = (Adapter) block.getChildren().get(0).getValue();
        TensorTree params = TensorTree.fromBlock(block).copy();
        NDArray x = batch().x();
        NDArray out =
                FunctionalModel.of(adapter)
                        .forward(TensorTree.fromBlock(adapter).copy(), new NDList(x))
                        .singletonOrThrow();
        NDArray a = params.get(params.names().get(0));
        NDArray b = params.get(params.names().get(1));
        NDArray expected =
                x.matMul(adapter.w0.transpose())
                        .add(adapter.b0)
                        .add(x.matMul(a.transpose()).matMul(b.transpose()).mul(0.5));
        assertTrue(out.allClose(expected, 1e-12, 1e-12, false));
    }
}
