package io.posteriors.spark;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import io.posteriors.ForwardFn;
import io.posteriors.FunctionalModel;
import io.posteriors.LogLikelihoods;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.ModelLogPosterior;
import io.posteriors.ModelOutput;
import io.posteriors.OuterFn;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The test problems, in float64: linear regression with parameters {@code w} (D) and {@code b} (a
 * scalar) and a small tanh MLP classifier (for K-FAC). Rows are {@code double[]} of the features
 * followed by the target (a class index for the classifier), drawn with a Java generator on the
 * driver. The log densities multiply only by arrays made natively ({@link #constant}), never by a
 * Java number, whose buffer the garbage collector may free while autograd still holds it.
 */
final class Problems {

    static final int D = 3;
    static final double SIGMA = 0.5;
    static final double TAU = 2.0;
    static final int HIDDEN = 5;
    static final int CLASSES = 3;

    private static final double LOG_2PI = Math.log(2 * Math.PI);

    private Problems() {}

    /**
     * A batch.
     *
     * @param x inputs (n, D)
     * @param y targets (n), float64 for regression and int64 class indices for classification
     */
    record XY(NDArray x, NDArray y) {}

    static List<double[]> regressionRows(int n, long seed) {
        Random r = new Random(seed);
        double[] w = {1.0, -2.0, 0.5};
        List<double[]> rows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            double[] row = new double[D + 1];
            double y = 0.3;
            for (int j = 0; j < D; j++) {
                row[j] = r.nextGaussian();
                y += w[j] * row[j];
            }
            row[D] = y + SIGMA * r.nextGaussian();
            rows.add(row);
        }
        return rows;
    }

    static List<double[]> classificationRows(int n, long seed) {
        Random r = new Random(seed);
        List<double[]> rows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            double[] row = new double[D + 1];
            for (int j = 0; j < D; j++) {
                row[j] = r.nextGaussian();
            }
            row[D] = r.nextInt(CLASSES);
            rows.add(row);
        }
        return rows;
    }

    /** The regression adapter: features to a (n, D) float64 array, targets to (n) float64. */
    static XY regressionBatch(List<double[]> rows, NDManager m) {
        double[][] x = new double[rows.size()][D];
        double[] y = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, x[i], 0, D);
            y[i] = rows.get(i)[D];
        }
        return new XY(m.create(x), m.create(y));
    }

    /** The classification adapter: features to (n, D) float64, labels to (n) int64. */
    static XY classificationBatch(List<double[]> rows, NDManager m) {
        double[][] x = new double[rows.size()][D];
        long[] y = new long[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, x[i], 0, D);
            y[i] = (long) rows.get(i)[D];
        }
        return new XY(m.create(x), m.create(y));
    }

    /** Splits rows into consecutive batches of {@code size}, as a partition does. */
    static List<List<double[]>> chunks(List<double[]> rows, int size) {
        List<List<double[]>> out = new ArrayList<>();
        for (int i = 0; i < rows.size(); i += size) {
            out.add(rows.subList(i, Math.min(i + size, rows.size())));
        }
        return out;
    }

    /** θ* of the regression problem: fixed, non-zero values near the truth. */
    static TensorTree regressionMap(NDManager m) {
        Map<String, NDArray> map = new LinkedHashMap<>();
        map.put("w", m.create(new double[] {0.9, -1.8, 0.4}));
        map.put("b", m.create(0.25));
        return TensorTree.of(map);
    }

    static NDArray constant(NDArray like, double value) {
        return like.getManager()
                .zeros(new Shape(), like.getDataType(), like.getDevice())
                .addi(value);
    }

    static ForwardFn<XY> linear() {
        return (p, b) -> ModelOutput.of(b.x().matMul(p.get("w")).add(p.get("b")));
    }

    /** Per-sample log N(y_i | o_i, SIGMA²). */
    static NDArray gaussianLogLik(NDArray o, NDArray y) {
        return o.sub(y)
                .square()
                .mul(constant(o, -0.5 / (SIGMA * SIGMA)))
                .add(constant(o, -(Math.log(SIGMA) + 0.5 * LOG_2PI)));
    }

    /** The summed Gaussian log likelihood of a batch's outputs. */
    static OuterFn<XY> gaussianOuter() {
        return (o, b) -> gaussianLogLik(o, b.y()).sum();
    }

    static NDArray logPrior(TensorTree p) {
        NDArray total = null;
        for (NDArray a : p.leaves()) {
            NDArray term = a.square().sum().mul(constant(a, -0.5 / (TAU * TAU)));
            total = total == null ? term : total.add(term);
        }
        return total;
    }

    /** One value per sample: {@code log p(y_i | θ) + log p(θ) / n}. */
    static LogProbFn<XY> perSampleLogPosterior(int n) {
        return (p, b) -> {
            NDArray o = linear().apply(p, b).output();
            NDArray prior = logPrior(p);
            return LogProb.of(gaussianLogLik(o, b.y()).add(prior.div(constant(prior, n))), o);
        };
    }

    /** The tanh MLP D-HIDDEN-CLASSES, initialised in float64. */
    static SequentialBlock mlp(NDManager m) {
        SequentialBlock block = new SequentialBlock();
        block.add(Linear.builder().setUnits(HIDDEN).build());
        block.add(Activation::tanh);
        block.add(Linear.builder().setUnits(CLASSES).build());
        block.initialize(m, DataType.FLOAT64, new Shape(1, D));
        return block;
    }

    /** The classifier's log posterior: categorical log likelihood, no prior term. */
    static ModelLogPosterior<XY> classifier(NDManager m) {
        return ModelLogPosterior.<XY>builder(
                        FunctionalModel.of(mlp(m)),
                        b -> new NDList(b.x()),
                        (o, b) -> LogLikelihoods.categorical(o, b.y()))
                .build();
    }
}
