package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
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

/**
 * Shared test problems: linear and logistic regression with parameters {@code w} (a vector) and
 * {@code b} (a scalar leaf), in float64 so that closed forms can be compared tightly.
 *
 * <p>The log densities here multiply only by arrays made natively ({@link #constant}), never by a
 * Java number: DJL (0.36, PyTorch engine) makes the array of a number operand ({@code a.mul(2.0)},
 * {@code a.div(n)}) from a Java direct buffer without copying and frees it when the garbage
 * collector reclaims the buffer, while the autograd graph may still hold it for the backward pass;
 * a collection between the forward and the backward pass then gives garbage gradients ({@code
 * ScratchGcTest} reproduces it). The core's {@code LogLikelihoods.normal} and {@code
 * DiagNormal.logProb(tree, double, double, ...)} still do this, so these tests use their own
 * versions until the core is fixed.
 */
final class Fixtures {

    /** Number of features. */
    static final int D = 3;

    /** Observation noise standard deviation of the regression problem. */
    static final double SIGMA = 0.5;

    /** Prior standard deviation. */
    static final double TAU = 2.0;

    private Fixtures() {}

    /**
     * A batch of inputs and targets.
     *
     * @param x inputs, shape (n, D)
     * @param y targets, shape (n)
     */
    record XY(NDArray x, NDArray y) {
        long size() {
            return x.getShape().get(0);
        }
    }

    /** Parameters w (D) and b () at fixed, non-zero values. */
    static TensorTree params(NDManager m) {
        return tree(m.create(new double[] {0.3, -0.7, 0.5}), m.create(0.2));
    }

    private static final double LOG_2PI = Math.log(2 * Math.PI);

    /** Returns a scalar with {@code like}'s type, made natively (zeros plus an in-place add). */
    static NDArray constant(NDArray like, double value) {
        return like.getManager()
                .zeros(new Shape(), like.getDataType(), like.getDevice())
                .addi(value);
    }

    /** Per-sample Gaussian log likelihood log N(y | o, sd²), summed over non-batch dimensions. */
    static NDArray gaussianLogLik(NDArray o, NDArray y, double sd) {
        long n = o.getShape().get(0);
        NDArray r = o.sub(y).reshape(n, -1);
        long d = r.getShape().get(1);
        return r.square()
                .sum(new int[] {1})
                .mul(constant(r, -0.5 / (sd * sd)))
                .add(constant(r, -d * (Math.log(sd) + 0.5 * LOG_2PI)));
    }

    /** The log density of an isotropic N(0, tau²) prior over every element of the tree. */
    static NDArray logPrior(TensorTree p, double tau) {
        NDArray total = null;
        for (NDArray a : p.leaves()) {
            NDArray term = a.square().sum().mul(constant(a, -0.5 / (tau * tau)));
            total = total == null ? term : total.add(term);
        }
        return total.add(constant(total, -p.numel() * (Math.log(tau) + 0.5 * LOG_2PI)));
    }

    /** A tree with leaves w and b, in that order. */
    static TensorTree tree(NDArray w, NDArray b) {
        Map<String, NDArray> map = new LinkedHashMap<>();
        map.put("w", w);
        map.put("b", b);
        return TensorTree.of(map);
    }

    /** Regression data y = x w + b + noise with standard deviation SIGMA. */
    static XY regression(NDManager m, int n) {
        NDArray x = m.randomNormal(new Shape(n, D)).toType(DataType.FLOAT64, false);
        NDArray w = m.create(new double[] {1.0, -2.0, 0.5});
        NDArray noise = m.randomNormal(new Shape(n)).toType(DataType.FLOAT64, false).mul(SIGMA);
        NDArray y = x.matMul(w).add(0.3).add(noise);
        return new XY(x, y);
    }

    /** Logistic regression data with labels 0/1 drawn from the model at some true parameters. */
    static XY logistic(NDManager m, int n) {
        NDArray x = m.randomNormal(new Shape(n, D)).toType(DataType.FLOAT64, false);
        NDArray w = m.create(new double[] {1.5, -1.0, 0.5});
        NDArray p = x.matMul(w).add(0.2).neg().exp().add(1).pow(-1);
        NDArray u = m.randomUniform(0, 1, new Shape(n)).toType(DataType.FLOAT64, false);
        return new XY(x, u.lt(p).toType(DataType.FLOAT64, false));
    }

    /** Splits a batch into consecutive minibatches of {@code size}. */
    static List<XY> minibatches(XY all, int size) {
        List<XY> out = new ArrayList<>();
        for (long i = 0; i < all.size(); i += size) {
            NDIndex idx = new NDIndex("{}:{}", i, Math.min(i + size, all.size()));
            out.add(new XY(all.x().get(idx), all.y().get(idx)));
        }
        return out;
    }

    /** The linear model's outputs x w + b, shape (n). */
    static ForwardFn<XY> linear() {
        return (p, b) -> ModelOutput.of(b.x().matMul(p.get("w")).add(p.get("b")));
    }

    /** Summed Gaussian log likelihood of the outputs. */
    static OuterFn<XY> gaussianOuter() {
        return (o, b) -> gaussianLogLik(o, b.y(), SIGMA).sum();
    }

    /** Summed Bernoulli log likelihood of logits: y o - log(1 + e^o). */
    static OuterFn<XY> bernoulliOuter() {
        return (o, b) -> o.mul(b.y()).sub(o.exp().add(1).log()).sum();
    }

    /** Per-sample Gaussian log likelihood of the regression problem. */
    static LogProbFn<XY> perSampleGaussianLogLik() {
        return (p, b) -> {
            NDArray o = linear().apply(p, b).output();
            return LogProb.of(gaussianLogLik(o, b.y(), SIGMA), o);
        };
    }

    /**
     * The regression log posterior of a batch as posteriors writes it for per-sample methods: the
     * mean log likelihood times N plus the whole log prior, so that each one-sample batch gives
     * {@code N log p(y_i | θ) + log p(θ)}.
     */
    static LogProbFn<XY> meanLogPosterior(int n) {
        return (p, b) -> {
            NDArray o = linear().apply(p, b).output();
            NDArray ll = gaussianLogLik(o, b.y(), SIGMA).mean();
            return LogProb.of(ll.mul(constant(ll, n)).add(logPrior(p, TAU)), o);
        };
    }

    /**
     * Per-sample gradients of {@code n log N(y_i | x_i w + b, SIGMA²) + log N(θ | 0, TAU²)} by
     * hand: {@code n r_i / SIGMA² (x_i, 1) - θ / TAU²} with {@code r_i = y_i - x_i w - b}, one row
     * per sample in ravel order (w, b).
     */
    static double[][] perSampleGradients(TensorTree params, XY batch, int n) {
        double[] w = params.get("w").toDoubleArray();
        double b = params.get("b").getDouble();
        double[][] x = rows(batch.x());
        double[] y = batch.y().toDoubleArray();
        double s2 = SIGMA * SIGMA;
        double t2 = TAU * TAU;
        double[][] g = new double[x.length][D + 1];
        for (int i = 0; i < x.length; i++) {
            double o = b;
            for (int j = 0; j < D; j++) {
                o += x[i][j] * w[j];
            }
            double r = n * (y[i] - o) / s2;
            for (int j = 0; j < D; j++) {
                g[i][j] = r * x[i][j] - w[j] / t2;
            }
            g[i][D] = r - b / t2;
        }
        return g;
    }

    /** Rows of a (n, D) float64 array. */
    static double[][] rows(NDArray x) {
        long n = x.getShape().get(0);
        long d = x.getShape().get(1);
        double[] flat = x.toType(DataType.FLOAT64, false).toDoubleArray();
        double[][] out = new double[(int) n][(int) d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, (int) (i * d), out[i], 0, (int) d);
        }
        return out;
    }

    /** The design matrix with a trailing column of ones, matching the ravel order (w, b). */
    static double[][] design(NDArray x) {
        double[][] r = rows(x);
        double[][] out = new double[r.length][D + 1];
        for (int i = 0; i < r.length; i++) {
            System.arraycopy(r[i], 0, out[i], 0, D);
            out[i][D] = 1.0;
        }
        return out;
    }

    /** Reads a (P, P) array into a Java matrix. */
    static double[][] matrix(NDArray a) {
        return rows(a);
    }

    /**
     * Asserts two matrices agree to {@code rtol} relative to the largest entry of the reference.
     */
    static void assertMatrixClose(double[][] expected, double[][] actual, double rtol) {
        double scale = 0;
        for (double[] row : expected) {
            for (double v : row) {
                scale = Math.max(scale, Math.abs(v));
            }
        }
        org.junit.jupiter.api.Assertions.assertEquals(expected.length, actual.length, "rows");
        for (int i = 0; i < expected.length; i++) {
            for (int j = 0; j < expected[i].length; j++) {
                double diff = Math.abs(expected[i][j] - actual[i][j]);
                org.junit.jupiter.api.Assertions.assertTrue(
                        diff <= rtol * scale,
                        String.format(
                                "entry (%d, %d): expected %s, got %s (tolerance %s)",
                                i, j, expected[i][j], actual[i][j], rtol * scale));
            }
        }
    }
}
