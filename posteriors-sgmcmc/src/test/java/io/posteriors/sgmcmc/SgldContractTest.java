package io.posteriors.sgmcmc;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.testing.TransformContract;

/** The shared transform contract for {@link Sgld}, on a two-leaf regression posterior. */
class SgldContractTest implements TransformContract<SgldState, Regression.Batch> {

    @Override
    public Transform<SgldState, Regression.Batch> transform(NDManager manager) {
        return Sgld.builder(Regression.logPosterior(), 1e-2).temperature(0.5).beta(0.1).build();
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
