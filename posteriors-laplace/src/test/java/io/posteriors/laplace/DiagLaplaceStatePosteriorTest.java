package io.posteriors.laplace;

import ai.djl.ndarray.NDManager;
import io.posteriors.TensorTree;
import io.posteriors.testing.GaussianPosteriorContract;

/** The shared Gaussian posterior contract for {@link DiagLaplaceState}: four float64 entries. */
class DiagLaplaceStatePosteriorTest implements GaussianPosteriorContract<DiagLaplaceState> {

    @Override
    public DiagLaplaceState posterior(NDManager manager) {
        TensorTree mean =
                Fixtures.tree(manager.create(new double[] {1.0, -2.0, 0.5}), manager.create(3.0));
        TensorTree prec =
                Fixtures.tree(manager.create(new double[] {4.0, 0.25, 1.0}), manager.create(9.0));
        return new DiagLaplaceState(mean, prec, 0);
    }
}
