package io.posteriors.laplace;

import ai.djl.ndarray.NDManager;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.laplace.Fixtures.XY;
import io.posteriors.testing.TransformContract;

/** The shared transform contract for {@link DiagGgn}: diagonal GGN of logistic regression. */
class DiagGgnContractTest implements TransformContract<DiagLaplaceState, XY> {

    @Override
    public Transform<DiagLaplaceState, XY> transform(NDManager manager) {
        return DiagGgn.builder(Fixtures.linear(), Fixtures.bernoulliOuter())
                .initPrecDiag(0.5)
                .build();
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
