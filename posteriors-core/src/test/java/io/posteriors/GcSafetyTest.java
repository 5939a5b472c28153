package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

/**
 * Gradients stay right when the garbage collector runs between the forward and the backward pass.
 * DJL wraps the scalar of a number operand ({@code x.mul(3.0)}) around a Java buffer that it frees
 * once collected, while autograd keeps that scalar for the backward pass; the library pins such
 * buffers for the duration of a derivative call (see {@code internal.Scoped}).
 */
class GcSafetyTest {

    /** Collects garbage and reuses freed native memory with other values. */
    private static void churn(NDManager manager) {
        for (int i = 0; i < 3; i++) {
            System.gc();
            try (NDArray junk = manager.create(new double[] {1e300, -7e300, 1e300, 5e300})) {
                junk.getShape();
            }
        }
    }

    @Test
    void gradientOfNumberOperands_survivesGarbageCollection() {
        try (NDManager manager = NDManager.newBaseManager()) {
            TensorTree x = TensorTree.of(manager.create(new double[] {0.5, -1.0, 2.0}));
            LogProbFn<Void> f =
                    (p, b) -> {
                        // d/dx sum(3 x + x^2 / 2 - x / 4) = 3 + x - 0.25
                        NDArray v = p.get("x").mul(3.0).add(p.get("x").square().div(2.0));
                        NDArray w = v.sub(p.get("x").mul(0.25)).sum();
                        churn(manager);
                        return LogProb.of(w);
                    };
            for (int rep = 0; rep < 40; rep++) {
                double[] g = Autodiff.grad(f, x, null).get("x").toDoubleArray();
                assertEquals(3.25, g[0], 1e-12, "rep " + rep);
                assertEquals(1.75, g[1], 1e-12, "rep " + rep);
                assertEquals(4.75, g[2], 1e-12, "rep " + rep);
                double[] h =
                        Autodiff.hvp(f, x, null, x.map(NDArray::onesLike)).get("x").toDoubleArray();
                assertEquals(1.0, h[0], 1e-12, "rep " + rep);
            }
        }
    }
}
