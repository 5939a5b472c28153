package io.posteriors.vi;

import ai.djl.ndarray.NDManager;
import io.posteriors.optim.Adam;
import io.posteriors.testing.GaussianPosteriorContract;

/**
 * The shared Gaussian posterior contract for {@link DenseViState} (float64, three parameters), with
 * a factor that has a negative diagonal entry, so the Cholesky factor differs from the stored one.
 */
class DenseViStatePosteriorTest implements GaussianPosteriorContract<DenseViState> {

    @Override
    public DenseViState posterior(NDManager manager) {
        double[][] l = {{2, 0, 0}, {0.5, -1, 0}, {-1, 0.25, 3}};
        return DenseVi.builder(Gaussians.denseLogProb(), Adam.of(1e-2))
                .initL(manager.create(l))
                .build()
                .init(Gaussians.vectorTree(manager, 1, -0.5, 0.3));
    }
}
