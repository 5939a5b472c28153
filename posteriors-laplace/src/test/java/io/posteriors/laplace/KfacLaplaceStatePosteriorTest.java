package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.posteriors.KroneckerFactors;
import io.posteriors.TensorTree;
import io.posteriors.testing.GaussianPosteriorContract;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shared Gaussian posterior contract for {@link KfacLaplaceState}: one 2-by-2 layer with bias
 * (six entries, correlated through the Kronecker factors) and a two-entry fallback leaf, float64,
 * per-leaf prior. Its covariance is read through {@code projectCovariance(I)}, so the Monte Carlo
 * check compares the samples with the Kronecker factors' covariance.
 */
class KfacLaplaceStatePosteriorTest implements GaussianPosteriorContract<KfacLaplaceState> {

    @Override
    public KfacLaplaceState posterior(NDManager manager) {
        Map<String, NDArray> leaves = new LinkedHashMap<>();
        leaves.put("w", manager.create(new double[][] {{1.0, -2.0}, {0.5, 0.1}}));
        leaves.put("b", manager.create(new double[] {0.3, -0.4}));
        leaves.put("e", manager.create(new double[] {2.0, -1.0}));
        TensorTree mean = TensorTree.of(leaves);
        NDArray a =
                manager.create(
                        new double[][] {{4.0, 1.0, 0.5}, {1.0, 3.0, -0.7}, {0.5, -0.7, 2.0}});
        NDArray g = manager.create(new double[][] {{2.0, 0.9}, {0.9, 1.0}});
        TensorTree fallback = TensorTree.of("e", manager.create(new double[] {3.0, 0.5}));
        PriorPrecision prior = PriorPrecision.of(Map.of("w", 0.4, "b", 0.4, "e", 1.5));
        return new KfacLaplaceState(
                mean, List.of(new KroneckerFactors.Layer("w", "b", a, g)), fallback, prior, 2, 1);
    }
}
