package io.posteriors.ekf;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.testing.TransformContract;
import java.util.Random;
import org.junit.jupiter.api.Nested;

/** The shared transform contract for {@link DiagEkf}, with each curvature. */
class DiagEkfContractTest {

    /** Empirical Fisher, per-sample log likelihood, transition noise. */
    @Nested
    class EmpiricalFisher implements TransformContract<DiagEkfState, Logistic.Batch> {
        @Override
        public Transform<DiagEkfState, Logistic.Batch> transform(NDManager manager) {
            return DiagEkf.builder(Logistic.perSampleLogLik(), 0.5)
                    .perSample(true)
                    .transitionSd(0.1)
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
    class Ggn implements TransformContract<DiagEkfState, Logistic.Batch> {
        @Override
        public Transform<DiagEkfState, Logistic.Batch> transform(NDManager manager) {
            return DiagEkf.builder(Logistic.meanLogLik(), 2.0)
                    .ggn(Logistic.forward(), Logistic.outerSum())
                    .initSds(0.5)
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
}
