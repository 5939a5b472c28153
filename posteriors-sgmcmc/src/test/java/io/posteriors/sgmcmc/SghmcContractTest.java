package io.posteriors.sgmcmc;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.testing.TransformContract;

/** The shared transform contract for {@link Sghmc}, on a two-leaf regression posterior. */
class SghmcContractTest implements TransformContract<SghmcState, Regression.Batch> {

    @Override
    public Transform<SghmcState, Regression.Batch> transform(NDManager manager) {
        return Sghmc.builder(Regression.logPosterior(), 1e-2)
                .alpha(0.5)
                .beta(0.1)
                .sigma(2.0)
                .temperature(0.5)
                .build();
    }

    @Override
    public TensorTree initialParams(NDManager manager) {
        return Regression.params(manager, DataType.FLOAT32);
    }

    @Override
    public Regression.Batch batch(NDManager manager) {
        return Regression.batch(manager, DataType.FLOAT32);
    }
}
