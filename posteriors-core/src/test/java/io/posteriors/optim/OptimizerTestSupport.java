package io.posteriors.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.posteriors.TensorTree;
import io.posteriors.TestArrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A separable quadratic objective {@code f(x) = 1/2 sum_i a_i (x_i - c_i)^2} over a two-leaf tree,
 * with its gradient on the device and on the host, for checking optimisers against hand-written
 * Java implementations of their equations.
 */
final class OptimizerTestSupport {

    static final double[] A = {1.0, 0.5, 2.0, 0.1, 3.0};
    static final double[] C = {0.3, -1.0, 2.0, 0.5, -0.2};
    static final double[] X0 = {1.0, 1.0, -1.0, 0.0, 0.7};

    private OptimizerTestSupport() {}

    /** Returns the starting point as a tree with leaves w (2, 2) and b (1). */
    static TensorTree start(NDManager m) {
        Map<String, NDArray> leaves = new LinkedHashMap<>();
        leaves.put("w", m.create(new double[] {X0[0], X0[1], X0[2], X0[3]}, new Shape(2, 2)));
        leaves.put("b", m.create(new double[] {X0[4]}));
        return TensorTree.of(leaves);
    }

    /** Returns the gradient of f at the tree's point, as a new tree. */
    static TensorTree grad(TensorTree x) {
        TensorTree a = x.unravel(x.manager().create(A));
        TensorTree c = x.unravel(x.manager().create(C));
        return x.zip3(a, c, (xi, ai, ci) -> xi.sub(ci).mul(ai));
    }

    /** Returns the gradient of f at a host point. */
    static double[] grad(double[] x) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            g[i] = A[i] * (x[i] - C[i]);
        }
        return g;
    }

    /** Returns the tree's elements in ravel order. */
    static double[] host(TensorTree t) {
        return TestArrays.flat(t);
    }
}
