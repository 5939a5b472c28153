package io.posteriors.sgmcmc;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.TensorTree;
import java.util.LinkedHashMap;
import java.util.Map;

/** A small Bayesian linear regression with two parameter leaves, for the contract tests. */
final class Regression {

    /** A batch of inputs and targets. */
    record Batch(NDArray x, NDArray y) {}

    private Regression() {}

    /** Returns a batch of 16 samples with three features, drawn from the engine generator. */
    static Batch batch(NDManager m, DataType type) {
        NDArray x = m.randomNormal(0, 1, new Shape(16, 3), type);
        NDArray w = m.create(new double[] {0.5, -1.0, 2.0}).toType(type, false);
        NDArray y = x.matMul(w).add(0.3).add(m.randomNormal(0, 0.1f, new Shape(16), type));
        return new Batch(x, y);
    }

    /** Returns parameters {w: (3), b: ()} on the manager. */
    static TensorTree params(NDManager m, DataType type) {
        Map<String, NDArray> p = new LinkedHashMap<>();
        p.put("w", m.create(new double[] {0.1, 0.2, -0.3}).toType(type, false));
        p.put("b", m.create(0.05).toType(type, false));
        return TensorTree.of(p);
    }

    /**
     * Returns the mean Gaussian log likelihood (noise sd 1) plus an N(0, 1) log prior over 100
     * samples, with the residuals as aux.
     */
    static LogProbFn<Batch> logPosterior() {
        return (p, b) -> {
            NDArray residual = b.y().sub(b.x().matMul(p.get("w")).add(p.get("b")));
            NDArray ll = residual.square().mean().mul(-0.5);
            NDArray prior = p.get("w").square().sum().add(p.get("b").square()).mul(-0.5 / 100);
            return LogProb.of(ll.add(prior), residual);
        };
    }
}
