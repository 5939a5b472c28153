package io.posteriors.ekf;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.testing.TransformContract;
import java.util.Random;
import org.junit.jupiter.api.Nested;

/** The shared transform contract for {@link DenseEkf}, with each curvature. */
class DenseEkfContractTest {

    /** Empirical Fisher, per-sample log likelihood, transition noise. */
    @Nested
    class EmpiricalFisher implements TransformContract<DenseEkfState, Logistic.Batch> {
        @Override
        public Transform<DenseEkfState, Logistic.Batch> transform(NDManager manager) {
            return DenseEkf.builder(Logistic.perSampleLogLik(), 0.5)
                    .perSample(true)
                    .transitionCov(0.01)
                    .build();
        }

        @Override
        public TensorTree initialParams(NDManager manager) {
            return Logistic.params(manager, 0.2, -0.1, 0.0, DataType.FLOAT32);
        }

        @Override
        public Logistic.Batch batch(NDManager manager) {
            return Logistic.batch(manager, new Random(4), 8, DataType.FLOAT32);
        }
    }

    /** GGN curvature. */
    @Nested
    class Ggn implements TransformContract<DenseEkfState, Logistic.Batch> {
        @Override
        public Transform<DenseEkfState, Logistic.Batch> transform(NDManager manager) {
            return DenseEkf.builder(Logistic.meanLogLik(), 2.0)
                    .ggn(Logistic.forward(), Logistic.outerSum())
                    .initCov(0.25)
                    .build();
        }

        @Override
        public TensorTree initialParams(NDManager manager) {
            return Logistic.params(manager, 0.2, -0.1, 0.0, DataType.FLOAT32);
        }

        @Override
        public Logistic.Batch batch(NDManager manager) {
            return Logistic.batch(manager, new Random(5), 8, DataType.FLOAT32);
        }
    }

    /** A full transition covariance and a batch-mean log likelihood evaluated per sample. */
    @Nested
    class MatrixTransition implements TransformContract<DenseEkfState, Logistic.Batch> {
        @Override
        public Transform<DenseEkfState, Logistic.Batch> transform(NDManager manager) {
            float[][] q = {{0.02f, 0.01f, 0}, {0.01f, 0.02f, 0}, {0, 0, 0.01f}};
            return DenseEkf.builder(Logistic.meanLogLik(), 1.0)
                    .transitionCov(manager.create(q))
                    .build();
        }

        @Override
        public TensorTree initialParams(NDManager manager) {
            return Logistic.params(manager, 0.2, -0.1, 0.0, DataType.FLOAT32);
        }

        @Override
        public Logistic.Batch batch(NDManager manager) {
            return Logistic.batch(manager, new Random(6), 8, DataType.FLOAT32);
        }
    }
}
