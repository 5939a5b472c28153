package io.posteriors.benchmarks;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.posteriors.DenseNormal;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.TensorTree;

/**
 * posteriors' 2-D Gaussian test scenario ({@code
 * tests/scenarios.get_multivariate_normal_log_prob}): mean m ~ N(0, I), covariance {@code 0.3 S S^T
 * + 0.7 I} with S standard Normal (seed 42), and the log density {@code DenseNormal.logProb(x, m,
 * chol)}. The batch is ignored. W6 times SGHMC on it: per-step overhead of the framework, not
 * arithmetic.
 */
public final class GaussProblem implements AutoCloseable {

    /** A placeholder batch: the log density ignores it. */
    public static final Object NO_BATCH = new Object();

    private final NDManager manager;
    private final NDArray mean;
    private final NDArray chol;
    private final TensorTree initialParams;

    /**
     * Draws the target and the starting point (N(0, 10^2 I), as posteriors' tests) with seed 42.
     */
    public GaussProblem() {
        manager = NDManager.newBaseManager();
        Engine.getInstance().setRandomSeed(42);
        mean = manager.randomNormal(new Shape(2));
        NDArray s = manager.randomNormal(new Shape(2, 2));
        NDArray cov = s.matMul(s.transpose()).mul(0.3f).add(manager.eye(2).mul(0.7f));
        chol = io.posteriors.Linalg.cholesky(cov);
        initialParams = TensorTree.of(manager.randomNormal(new Shape(2)).mul(10f));
    }

    /**
     * Returns the log density of the target.
     *
     * @return the function
     */
    public LogProbFn<Object> logProb() {
        return (p, b) -> LogProb.of(DenseNormal.logProb(p.get("x"), mean, chol));
    }

    /**
     * Returns the log density of one point, for plain DJL code.
     *
     * @param x a point, shape (2)
     * @return the scalar log density
     */
    public NDArray logProb(NDArray x) {
        return DenseNormal.logProb(x, mean, chol);
    }

    /**
     * Returns the starting point (shared; transforms copy it in {@code init}).
     *
     * @return the parameters, one leaf "x" of shape (2)
     */
    public TensorTree initialParams() {
        return initialParams;
    }

    /**
     * Returns the manager of the problem's arrays.
     *
     * @return the manager
     */
    public NDManager manager() {
        return manager;
    }

    @Override
    public void close() {
        manager.close();
    }
}
