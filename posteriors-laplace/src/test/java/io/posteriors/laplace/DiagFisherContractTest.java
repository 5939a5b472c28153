package io.posteriors.laplace;

import ai.djl.ndarray.NDManager;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.laplace.Fixtures.XY;
import io.posteriors.testing.TransformContract;

/**
 * The shared transform contract for {@link DiagFisher}: diagonal empirical Fisher with a
 * whole-batch log posterior (perSample false).
 */
class DiagFisherContractTest implements TransformContract<DiagLaplaceState, XY> {

    @Override
    public Transform<DiagLaplaceState, XY> transform(NDManager manager) {
        return DiagFisher.builder(Fixtures.meanLogPosterior(20)).initPrecDiag(0.5).build();
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
