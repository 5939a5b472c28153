package io.posteriors.laplace;

import ai.djl.ndarray.NDManager;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.laplace.Fixtures.XY;
import io.posteriors.testing.TransformContract;

/**
 * The shared transform contract for {@link DenseHessian}: dense Hessian with rescale and epsilon.
 */
class DenseHessianContractTest implements TransformContract<DenseLaplaceState, XY> {

    @Override
    public Transform<DenseLaplaceState, XY> transform(NDManager manager) {
        return DenseHessian.builder(Fixtures.meanLogPosterior(20))
                .rescale(0.5)
                .epsilon(1e-3)
                .build();
    }

    @Override
    public TensorTree initialParams(NDManager manager) {
        return Fixtures.params(manager);
    }

    @Override
    public XY batch(NDManager manager) {
        return Fixtures.regression(manager, 8);
    }
}
