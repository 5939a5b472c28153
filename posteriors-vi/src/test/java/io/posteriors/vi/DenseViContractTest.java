package io.posteriors.vi;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.optim.Adam;
import io.posteriors.testing.TransformContract;

/** The shared transform contract for {@link DenseVi} (Adam, two samples, float32). */
class DenseViContractTest implements TransformContract<DenseViState, Gaussians.DenseTarget> {

    @Override
    public Transform<DenseViState, Gaussians.DenseTarget> transform(NDManager manager) {
        return DenseVi.builder(Gaussians.denseLogProb(), Adam.of(1e-2))
                .nSamples(2)
                .initL(0.7)
                .build();
    }

    @Override
    public TensorTree initialParams(NDManager manager) {
        return Gaussians.vectorTree(manager, 0.1, -0.2, 0.3)
                .map(a -> a.toType(DataType.FLOAT32, false));
    }

    @Override
    public Gaussians.DenseTarget batch(NDManager manager) {
        Gaussians.DenseTarget t =
                Gaussians.denseTarget(
                        manager,
                        new double[] {1.0, -0.5, 0.3},
                        new double[][] {{1.0, 0.4, 0.1}, {0.4, 0.5, -0.2}, {0.1, -0.2, 0.8}});
        return new Gaussians.DenseTarget(
                t.mean().toType(DataType.FLOAT32, false),
                t.precision().toType(DataType.FLOAT32, false),
                t.meanHost(),
                t.covHost());
    }
}
