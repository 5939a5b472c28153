package io.posteriors.ekf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import io.posteriors.ForwardFn;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.ModelOutput;
import io.posteriors.OuterFn;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Logistic regression with two features and a bias, parameters {w: (2), b: (1)}, as the test model:
 * its per-sample gradients {@code (y_i - sigmoid(z_i)) [x_i, 1]} and GGN {@code sum_i s_i (1 - s_i)
 * [x_i, 1][x_i, 1]^T} are known in closed form for the references.
 */
final class Logistic {

    private Logistic() {}

    /** A batch: features (n, 2) and 0/1 labels (n), with host copies for the reference. */
    record Batch(NDArray x, NDArray y, double[][] xs, double[] ys) {}

    static Batch batch(NDManager m, Random rng, int n, DataType type) {
        double[][] xs = new double[n][2];
        double[] ys = new double[n];
        for (int i = 0; i < n; i++) {
            xs[i][0] = rng.nextGaussian();
            xs[i][1] = rng.nextGaussian();
            double z = 1.5 * xs[i][0] - 0.7 * xs[i][1] + 0.3;
            ys[i] = rng.nextDouble() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
        }
        return new Batch(
                m.create(xs).toType(type, false), m.create(ys).toType(type, false), xs, ys);
    }

    static TensorTree params(NDManager m, double w0, double w1, double b, DataType type) {
        Map<String, NDArray> p = new LinkedHashMap<>();
        p.put("w", m.create(new double[] {w0, w1}).toType(type, false));
        p.put("b", m.create(new double[] {b}).toType(type, false));
        return TensorTree.of(p);
    }

    static NDArray logits(TensorTree p, Batch b) {
        return b.x().matMul(p.get("w").reshape(2, 1)).reshape(-1).add(p.get("b"));
    }

    /** y z - softplus(z), elementwise. */
    static NDArray bernoulli(NDArray z, NDArray y) {
        NDArray softplus = z.maximum(0).add(z.abs().neg().exp().add(1).log());
        return y.mul(z).sub(softplus);
    }

    static LogProbFn<Batch> perSampleLogLik() {
        return (p, b) -> {
            NDArray z = logits(p, b);
            return LogProb.of(bernoulli(z, b.y()), z);
        };
    }

    static LogProbFn<Batch> meanLogLik() {
        return (p, b) -> LogProb.of(bernoulli(logits(p, b), b.y()).mean());
    }

    static LogProbFn<Batch> sumLogLik() {
        return (p, b) -> LogProb.of(bernoulli(logits(p, b), b.y()).sum());
    }

    /**
     * Splits a batch into its one-sample batches by hand (host copies included), as a user's batch
     * splitter would.
     */
    static List<Batch> rows(Batch b) {
        List<Batch> out = new ArrayList<>();
        for (int i = 0; i < b.ys().length; i++) {
            NDIndex row = new NDIndex("{}:{}", i, i + 1);
            out.add(
                    new Batch(
                            b.x().get(row),
                            b.y().get(row),
                            new double[][] {b.xs()[i]},
                            new double[] {b.ys()[i]}));
        }
        return out;
    }

    static ForwardFn<Batch> forward() {
        return (p, b) -> ModelOutput.of(logits(p, b));
    }

    /**
     * The summed log likelihood as a function of the logits, matching {@link #perSampleLogLik()}.
     */
    static OuterFn<Batch> outerSum() {
        return (z, b) -> bernoulli(z, b.y()).sum();
    }

    // ----- host references -----

    static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    /** Per-sample gradients (n, 3) at theta = (w0, w1, b). */
    static double[][] perSampleGrads(double[] theta, Batch b) {
        int n = b.ys().length;
        double[][] g = new double[n][3];
        for (int i = 0; i < n; i++) {
            double[] x = b.xs()[i];
            double r = b.ys()[i] - sigmoid(theta[0] * x[0] + theta[1] * x[1] + theta[2]);
            g[i][0] = r * x[0];
            g[i][1] = r * x[1];
            g[i][2] = r;
        }
        return g;
    }

    /** The GGN of the mean negative log likelihood, (1/n) sum_i s_i (1 - s_i) a_i a_i^T. */
    static double[][] meanGgn(double[] theta, Batch b) {
        int n = b.ys().length;
        double[][] f = new double[3][3];
        for (int i = 0; i < n; i++) {
            double[] x = b.xs()[i];
            double[] a = {x[0], x[1], 1};
            double s = sigmoid(theta[0] * x[0] + theta[1] * x[1] + theta[2]);
            for (int r = 0; r < 3; r++) {
                for (int c = 0; c < 3; c++) {
                    f[r][c] += s * (1 - s) * a[r] * a[c] / n;
                }
            }
        }
        return f;
    }
}
