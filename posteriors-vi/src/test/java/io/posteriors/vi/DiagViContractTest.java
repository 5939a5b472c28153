package io.posteriors.vi;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.optim.Adam;
import io.posteriors.testing.TransformContract;

/** The shared transform contract for {@link DiagVi} (Adam, two samples, float32). */
class DiagViContractTest implements TransformContract<DiagViState, Gaussians.DiagTarget> {

    @Override
    public Transform<DiagViState, Gaussians.DiagTarget> transform(NDManager manager) {
        return DiagVi.builder(Gaussians.diagLogProb(), Adam.of(1e-2))
                .nSamples(2)
                .initLogSds(-0.5)
                .build();
    }

    @Override
    public TensorTree initialParams(NDManager manager) {
        return Gaussians.tree(manager, 0.1, -0.2, 0.3).map(a -> a.toType(DataType.FLOAT32, false));
    }

    @Override
    public Gaussians.DiagTarget batch(NDManager manager) {
        return new Gaussians.DiagTarget(
                Gaussians.tree(manager, 1.5, -0.7, 0.4).map(a -> a.toType(DataType.FLOAT32, false)),
                Gaussians.tree(manager, 0.5, 1.8, 0.9).map(a -> a.toType(DataType.FLOAT32, false)));
    }
}
