package io.posteriors.laplace;

import ai.djl.ndarray.NDManager;
import io.posteriors.TensorTree;
import io.posteriors.testing.GaussianPosteriorContract;

/**
 * The shared Gaussian posterior contract for {@link DenseLaplaceState}: four float64 entries with a
 * strongly correlated precision.
 */
class DenseLaplaceStatePosteriorTest implements GaussianPosteriorContract<DenseLaplaceState> {

    /**
     * A A^T + I for a fixed A: symmetric positive definite with off-diagonal entries of both signs.
     */
    static double[][] precision() {
        double[][] a = {
            {1.0, 0.5, 0, 0.2}, {0.3, 2.0, -0.4, 0}, {0, 1.0, 1.0, 0.5}, {0.7, 0, 0.1, -1}
        };
        double[][] p = new double[4][4];
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) {
                for (int k = 0; k < 4; k++) {
                    p[i][j] += a[i][k] * a[j][k];
                }
            }
            p[i][i] += 1;
        }
        return p;
    }

    @Override
    public DenseLaplaceState posterior(NDManager manager) {
        TensorTree mean =
                Fixtures.tree(manager.create(new double[] {1.0, -2.0, 0.5}), manager.create(3.0));
        return new DenseLaplaceState(mean, manager.create(precision()), 0);
    }
}
