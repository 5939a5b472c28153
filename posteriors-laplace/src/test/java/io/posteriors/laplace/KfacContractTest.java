package io.posteriors.laplace;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import io.posteriors.FunctionalModel;
import io.posteriors.LogLikelihoods;
import io.posteriors.ModelLogPosterior;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.laplace.Fixtures.XY;
import io.posteriors.testing.TransformContract;
import org.junit.jupiter.api.Nested;

/** The shared transform contract for {@link KfacGgn} and {@link KfacFisher} on a small MLP. */
class KfacContractTest {

    private static SequentialBlock block;
    private static NDManager owner;
    private static ModelLogPosterior<XY> logPosterior;

    /** Builds the model once per test manager (init and transform may come in either order). */
    static synchronized ModelLogPosterior<XY> logPosterior(NDManager manager) {
        if (owner != manager) {
            owner = manager;
            logPosterior = build(manager);
        }
        return logPosterior;
    }

    static SequentialBlock block(NDManager manager) {
        logPosterior(manager);
        return block;
    }

    private static ModelLogPosterior<XY> build(NDManager manager) {
        block = new SequentialBlock();
        block.add(Linear.builder().setUnits(4).build());
        block.add(Activation::tanh);
        block.add(Linear.builder().setUnits(3).build());
        block.initialize(manager, DataType.FLOAT64, new Shape(1, Fixtures.D));
        return ModelLogPosterior.<XY>builder(
                        FunctionalModel.of(block),
                        b -> new NDList(b.x()),
                        (o, b) -> LogLikelihoods.categorical(o, b.y()))
                .build();
    }

    static XY data(NDManager manager) {
        return new XY(
                manager.randomNormal(new Shape(8, Fixtures.D)).toType(DataType.FLOAT64, false),
                manager.randomInteger(0, 3, new Shape(8), DataType.INT64));
    }

    /** K-FAC GGN. */
    @Nested
    class Ggn implements TransformContract<KfacLaplaceState, XY> {
        @Override
        public Transform<KfacLaplaceState, XY> transform(NDManager manager) {
            return KfacGgn.builder(logPosterior(manager)).priorPrecision(0.5).build();
        }

        @Override
        public TensorTree initialParams(NDManager manager) {
            return TensorTree.fromBlock(block(manager)).copy(manager);
        }

        @Override
        public XY batch(NDManager manager) {
            return data(manager);
        }
    }

    /** K-FAC empirical Fisher. */
    @Nested
    class Fisher implements TransformContract<KfacLaplaceState, XY> {
        @Override
        public Transform<KfacLaplaceState, XY> transform(NDManager manager) {
            return KfacFisher.builder(logPosterior(manager)).priorPrecision(0.5).build();
        }

        @Override
        public TensorTree initialParams(NDManager manager) {
            return TensorTree.fromBlock(block(manager)).copy(manager);
        }

        @Override
        public XY batch(NDManager manager) {
            return data(manager);
        }
    }
}
