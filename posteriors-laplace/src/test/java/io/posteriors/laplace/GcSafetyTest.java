package io.posteriors.laplace;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.posteriors.Autodiff;
import io.posteriors.LogProb;
import io.posteriors.TensorTree;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The log densities stay correct when the garbage collector runs between their evaluation and the
 * backward pass, as it does when a Laplace posterior is the prior of a long training run: they must
 * not multiply by arrays that DJL builds from Java buffers (see {@link Fixtures}).
 */
class GcSafetyTest {

    private NDManager manager;
    private TensorTree mean;
    private TensorTree x;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        mean = Fixtures.tree(manager.create(new double[] {1.0, -2.0, 0.5}), manager.create(3.0));
        x = Fixtures.tree(manager.create(new double[] {0.0, 1.0, 2.0}), manager.create(2.5));
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** Collects garbage and allocates direct buffers, so that freed native memory is reused. */
    private void churn() {
        for (int i = 0; i < 5; i++) {
            System.gc();
            try (NDArray junk = manager.create(new double[] {1e300, 1e300, 1e300, 1e300})) {
                junk.getShape();
            }
        }
    }

    /** d/dx log N(x | μ, T prec^-1) with GC between the forward and the backward pass. */
    private double[] gradient(Function<TensorTree, NDArray> logProb) {
        TensorTree g =
                Autodiff.grad(
                        (p, b) -> {
                            NDArray v = logProb.apply(p);
                            churn();
                            return LogProb.of(v);
                        },
                        x,
                        null);
        return g.ravel().toDoubleArray();
    }

    @Test
    void diagLogProb_gradientSurvivesGarbageCollection() {
        double[] prec = {4.0, 0.25, 1.0, 9.0};
        DiagLaplaceState s =
                DiagFisher.<Void>builder((p, b) -> LogProb.of(p.get("b")))
                        .initPrecDiag(
                                Fixtures.tree(
                                        manager.create(new double[] {4.0, 0.25, 1.0}),
                                        manager.create(9.0)))
                        .build()
                        .init(mean);
        double[] g = gradient(p -> s.logProb(p, 0.5));
        double[] xs = x.ravel().toDoubleArray();
        double[] mu = mean.ravel().toDoubleArray();
        for (int j = 0; j < 4; j++) {
            assertEquals(-prec[j] * (xs[j] - mu[j]) / 0.5, g[j], 1e-12, "entry " + j);
        }
    }

    @Test
    void denseLogProb_gradientSurvivesGarbageCollection() {
        NDArray prec = manager.eye(4).toType(ai.djl.ndarray.types.DataType.FLOAT64, false).mul(2);
        DenseLaplaceState s =
                DenseGgn.<Void>builder((p, b) -> null, (o, b) -> o)
                        .initPrec(prec)
                        .build()
                        .init(mean);
        double[] g = gradient(p -> s.logProb(p, 0.5));
        double[] xs = x.ravel().toDoubleArray();
        double[] mu = mean.ravel().toDoubleArray();
        for (int j = 0; j < 4; j++) {
            assertEquals(-2 * (xs[j] - mu[j]) / 0.5, g[j], 1e-12, "entry " + j);
        }
    }
}
