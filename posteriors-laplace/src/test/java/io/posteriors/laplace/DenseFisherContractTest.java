package io.posteriors.laplace;

import ai.djl.ndarray.NDManager;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.laplace.Fixtures.XY;
import io.posteriors.testing.TransformContract;

/**
 * The shared transform contract for {@link DenseFisher}: dense empirical Fisher with a per-sample
 * log likelihood.
 */
class DenseFisherContractTest implements TransformContract<DenseLaplaceState, XY> {

    @Override
    public Transform<DenseLaplaceState, XY> transform(NDManager manager) {
        return DenseFisher.builder(Fixtures.perSampleGaussianLogLik())
                .perSample(true)
                .initPrec(0.5)
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
