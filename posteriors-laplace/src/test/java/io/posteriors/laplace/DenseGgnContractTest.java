package io.posteriors.laplace;

import ai.djl.ndarray.NDManager;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.laplace.Fixtures.XY;
import io.posteriors.testing.TransformContract;

/** The shared transform contract for {@link DenseGgn}: dense GGN of logistic regression. */
class DenseGgnContractTest implements TransformContract<DenseLaplaceState, XY> {

    @Override
    public Transform<DenseLaplaceState, XY> transform(NDManager manager) {
        return DenseGgn.builder(Fixtures.linear(), Fixtures.bernoulliOuter()).initPrec(0.5).build();
    }

    @Override
    public TensorTree initialParams(NDManager manager) {
        return Fixtures.params(manager);
    }

    @Override
    public XY batch(NDManager manager) {
        return Fixtures.logistic(manager, 8);
    }
}
