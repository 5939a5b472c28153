package io.posteriors.ekf;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.Scalars;
import io.posteriors.Schedule;
import io.posteriors.TensorTree;
import java.util.Random;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.RealVector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Both filters against the recursion they define, computed independently in float64 with Commons
 * Math in precision form: {@code Sigma_p = Sigma + Q}, {@code Sigma' = (Sigma_p^-1 + lr F)^-1},
 * {@code mu' = mu + lr Sigma' g}, with g and F the closed-form gradient and curvature of logistic
 * regression at the reference's own mean (the diagonal filter keeps diag F). The filters compute
 * the same by the Woodbury identity (dense) or elementwise (diagonal), so agreement to 1e-8 of the
 * largest entry at every step of 40 checks the algebra, the curvature and the ravel order.
 *
 * <p>Every way of giving the log likelihood defines the same recursion, as in posteriors: g is the
 * gradient of the mean per-sample log likelihood and the empirical Fisher {@code F = (1/n) sum_i
 * g_i g_i^T}, whether the function returns the per-sample vector ({@code perSample(true)}) or a
 * scalar for a batch that the filter evaluates on each sample alone ({@code perSample(false)},
 * posteriors' {@code per_samplify}) — the batch mean and the batch sum both give the per-sample
 * values then — or a scalar with a hand-written batch splitter. The GGN is {@code (1/n) sum_i s_i
 * (1 - s_i) a_i a_i^T} in every case, the outer function summing over the batch.
 */
class EmpiricalRecursionTest {

    private static final double TOL = 1e-8;
    private static final int STEPS = 40;

    /** Batch sizes cycle so that the dense factor has fewer and more rows than parameters. */
    private static final int[] SIZES = {1, 2, 3, 5, 16};

    /** The curvature under test. */
    enum Curvature {
        FISHER_PER_SAMPLE,
        FISHER_PER_SAMPLIFIED_MEAN,
        FISHER_PER_SAMPLIFIED_SUM,
        FISHER_SPLITTER,
        GGN_PER_SAMPLE,
        GGN_PER_SAMPLIFIED_MEAN
    }

    private NDManager manager;
    private final Schedule lr = step -> 0.5 + 0.25 * (step % 3);

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    @ParameterizedTest
    @EnumSource(Curvature.class)
    void denseEkf_equalsPrecisionFormRecursion(Curvature curvature) {
        double[][] q = {{0.02, 0.005, 0}, {0.005, 0.01, 0.002}, {0, 0.002, 0.03}};
        DenseEkf.Builder<Logistic.Batch> b = builderDense(curvature);
        DenseEkf<Logistic.Batch> t = b.transitionCov(manager.create(q)).initCov(2.0).build();
        DenseEkfState state = t.init(Logistic.params(manager, 0.1, -0.2, 0.05, DataType.FLOAT64));
        RealVector mu = new ArrayRealVector(new double[] {0.1, -0.2, 0.05});
        RealMatrix sigma = MatrixUtils.createRealIdentityMatrix(3).scalarMultiply(2.0);
        RealMatrix qm = new Array2DRowRealMatrix(q);
        Random rng = new Random(5);
        for (int step = 0; step < STEPS; step++) {
            Logistic.Batch batch =
                    Logistic.batch(manager, rng, SIZES[step % SIZES.length], DataType.FLOAT64);
            double[] theta = mu.toArray();
            RealVector g = new ArrayRealVector(grad(theta, batch));
            RealMatrix f = new Array2DRowRealMatrix(curvature(curvature, theta, batch));
            double lrNow = lr.at(step);
            RealMatrix predictPrecision = MatrixUtils.inverse(sigma.add(qm));
            sigma = MatrixUtils.inverse(predictPrecision.add(f.scalarMultiply(lrNow)));
            mu = mu.add(sigma.operate(g).mapMultiply(lrNow));

            var next = t.updateInPlace(state, batch);
            next.aux().close();
            state = next.state();
            assertClose(mu.toArray(), flat(state.params()), "mean at step " + step);
            assertClose(flatten(sigma.getData()), state.cov().toDoubleArray(), "cov at " + step);
        }
    }

    @ParameterizedTest
    @EnumSource(Curvature.class)
    void diagEkf_equalsDiagonalRecursion(Curvature curvature) {
        double transitionSd = 0.1;
        DiagEkf.Builder<Logistic.Batch> b = builderDiag(curvature);
        DiagEkf<Logistic.Batch> t = b.transitionSd(transitionSd).initSds(1.5).build();
        DiagEkfState state = t.init(Logistic.params(manager, 0.1, -0.2, 0.05, DataType.FLOAT64));
        double[] mu = {0.1, -0.2, 0.05};
        double[] var = {2.25, 2.25, 2.25};
        Random rng = new Random(6);
        for (int step = 0; step < STEPS; step++) {
            Logistic.Batch batch =
                    Logistic.batch(manager, rng, SIZES[step % SIZES.length], DataType.FLOAT64);
            double[] g = grad(mu, batch);
            double[][] f = curvature(curvature, mu, batch);
            double lrNow = lr.at(step);
            for (int i = 0; i < 3; i++) {
                double precision = 1 / (var[i] + transitionSd * transitionSd) + lrNow * f[i][i];
                var[i] = 1 / precision;
            }
            for (int i = 0; i < 3; i++) {
                mu[i] += lrNow * var[i] * g[i];
            }
            var next = t.updateInPlace(state, batch);
            next.aux().close();
            state = next.state();
            double[] sd = flat(state.sdDiag());
            double[] v = new double[3];
            for (int i = 0; i < 3; i++) {
                v[i] = sd[i] * sd[i];
            }
            assertClose(mu, flat(state.params()), "mean at step " + step);
            assertClose(var, v, "variance at step " + step);
        }
    }

    @ParameterizedTest
    @EnumSource(Curvature.class)
    void logLikelihood_isTheMeanOverTheBatchAtTheOldMean(Curvature curvature) {
        DenseEkf<Logistic.Batch> t = builderDense(curvature).build();
        DenseEkfState state = t.init(Logistic.params(manager, 0.3, 0.1, -0.2, DataType.FLOAT64));
        Logistic.Batch batch = Logistic.batch(manager, new Random(3), 7, DataType.FLOAT64);
        double expected = 0;
        for (int i = 0; i < 7; i++) {
            double[] x = batch.xs()[i];
            double z = 0.3 * x[0] + 0.1 * x[1] - 0.2;
            expected += (batch.ys()[i] * z - Math.log1p(Math.exp(z))) / 7;
        }
        DenseEkfState next = t.update(state, batch).state();
        assertTrue(Math.abs(Scalars.value(next.logLikelihood()) - expected) < 1e-12);
        assertTrue(Double.isNaN(Scalars.value(state.logLikelihood())), "init gives NaN");
    }

    private DenseEkf.Builder<Logistic.Batch> builderDense(Curvature c) {
        return switch (c) {
            case FISHER_PER_SAMPLE ->
                    DenseEkf.builder(Logistic.perSampleLogLik(), lr).perSample(true);
            case FISHER_PER_SAMPLIFIED_MEAN -> DenseEkf.builder(Logistic.meanLogLik(), lr);
            case FISHER_PER_SAMPLIFIED_SUM -> DenseEkf.builder(Logistic.sumLogLik(), lr);
            case FISHER_SPLITTER ->
                    DenseEkf.builder(Logistic.meanLogLik(), lr).batchSplitter(Logistic::rows);
            case GGN_PER_SAMPLE ->
                    DenseEkf.builder(Logistic.perSampleLogLik(), lr)
                            .perSample(true)
                            .ggn(Logistic.forward(), Logistic.outerSum());
            case GGN_PER_SAMPLIFIED_MEAN ->
                    DenseEkf.builder(Logistic.meanLogLik(), lr)
                            .ggn(Logistic.forward(), Logistic.outerSum());
        };
    }

    private DiagEkf.Builder<Logistic.Batch> builderDiag(Curvature c) {
        return switch (c) {
            case FISHER_PER_SAMPLE ->
                    DiagEkf.builder(Logistic.perSampleLogLik(), lr).perSample(true);
            case FISHER_PER_SAMPLIFIED_MEAN -> DiagEkf.builder(Logistic.meanLogLik(), lr);
            case FISHER_PER_SAMPLIFIED_SUM -> DiagEkf.builder(Logistic.sumLogLik(), lr);
            case FISHER_SPLITTER ->
                    DiagEkf.builder(Logistic.meanLogLik(), lr).batchSplitter(Logistic::rows);
            case GGN_PER_SAMPLE ->
                    DiagEkf.builder(Logistic.perSampleLogLik(), lr)
                            .perSample(true)
                            .ggn(Logistic.forward(), Logistic.outerSum());
            case GGN_PER_SAMPLIFIED_MEAN ->
                    DiagEkf.builder(Logistic.meanLogLik(), lr)
                            .ggn(Logistic.forward(), Logistic.outerSum());
        };
    }

    /** The gradient of the mean log likelihood. */
    private static double[] grad(double[] theta, Logistic.Batch b) {
        double[][] gs = Logistic.perSampleGrads(theta, b);
        double[] g = new double[3];
        for (double[] gi : gs) {
            for (int j = 0; j < 3; j++) {
                g[j] += gi[j] / gs.length;
            }
        }
        return g;
    }

    private static double[][] curvature(Curvature c, double[] theta, Logistic.Batch b) {
        double[][] f = new double[3][3];
        switch (c) {
            case FISHER_PER_SAMPLE,
                    FISHER_PER_SAMPLIFIED_MEAN,
                    FISHER_PER_SAMPLIFIED_SUM,
                    FISHER_SPLITTER -> {
                double[][] gs = Logistic.perSampleGrads(theta, b);
                for (double[] gi : gs) {
                    for (int r = 0; r < 3; r++) {
                        for (int k = 0; k < 3; k++) {
                            f[r][k] += gi[r] * gi[k] / gs.length;
                        }
                    }
                }
            }
            case GGN_PER_SAMPLE, GGN_PER_SAMPLIFIED_MEAN -> f = Logistic.meanGgn(theta, b);
        }
        return f;
    }

    static double[] flat(TensorTree t) {
        try (NDArray r = t.ravel()) {
            return r.toType(DataType.FLOAT64, false).toDoubleArray();
        }
    }

    static double[] flatten(double[][] m) {
        double[] out = new double[m.length * m[0].length];
        for (int i = 0; i < m.length; i++) {
            System.arraycopy(m[i], 0, out, i * m[0].length, m[0].length);
        }
        return out;
    }

    /** Entrywise within TOL of the reference's largest entry. */
    static void assertClose(double[] expected, double[] actual, String what) {
        double scale = 0;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(expected[i] - actual[i]);
            assertTrue(
                    err <= TOL * scale,
                    what + ": entry " + i + " expected " + expected[i] + ", got " + actual[i]);
        }
    }
}
