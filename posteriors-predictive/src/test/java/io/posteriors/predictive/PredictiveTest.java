package io.posteriors.predictive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import io.posteriors.DiagGaussianPosterior;
import io.posteriors.FunctionalModel;
import io.posteriors.SamplePosterior;
import io.posteriors.TensorTree;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Monte Carlo and linearised predictives against closed forms on linear models. */
class PredictiveTest {

    /** A diagonal Gaussian given by its mean and variances: a test posterior of no method. */
    record Diag(TensorTree mean, TensorTree var) implements DiagGaussianPosterior {
        @Override
        public TensorTree varianceDiag() {
            return var.copy();
        }
    }

    private NDManager m;

    @BeforeEach
    void open() {
        m = NDManager.newBaseManager();
        Engine.getInstance().setRandomSeed(3);
    }

    @AfterEach
    void close() {
        m.close();
    }

    /** A Linear block with {@code units} outputs over 2 inputs, float64, with fixed weights. */
    private FunctionalModel linear(int units) {
        Linear block = Linear.builder().setUnits(units).build();
        block.initialize(m, DataType.FLOAT64, new Shape(1, 2));
        return FunctionalModel.of(block);
    }

    private TensorTree params(FunctionalModel model, double[] w, double[] b, int units) {
        List<String> names = model.parameterNames();
        return TensorTree.of(
                        java.util.Map.of(
                                names.get(0), m.create(w).reshape(units, 2),
                                names.get(1), m.create(b)))
                .subset(names);
    }

    @Test
    void linearised_linearRegression_equalsExactGaussianPredictive() {
        FunctionalModel model = linear(1);
        TensorTree mean = params(model, new double[] {0.5, -1.0}, new double[] {0.2}, 1);
        TensorTree var = params(model, new double[] {0.3, 0.1}, new double[] {0.05}, 1);
        Diag post = new Diag(mean, var);
        double[][] x = {{1.0, 2.0}, {-0.5, 0.3}, {0, 0}};
        Predictive p =
                Predictive.linearised(post, model)
                        .likelihood(Likelihood.normal(0.4))
                        .temperature(0.5)
                        .build();
        try (Prediction.Regression r = (Prediction.Regression) p.predict(new NDList(m.create(x)))) {
            double[] mu = r.mean().toDoubleArray();
            double[] epi = r.epistemic().toDoubleArray();
            double[] ale = r.aleatoric().toDoubleArray();
            for (int i = 0; i < x.length; i++) {
                // y = w.x + b with independent w, b: mean w.x + b, variance T (Σ x_j^2 v_j + v_b)
                double want = 0.5 * x[i][0] - 1.0 * x[i][1] + 0.2;
                double wantVar = 0.5 * (0.3 * x[i][0] * x[i][0] + 0.1 * x[i][1] * x[i][1] + 0.05);
                assertEquals(want, mu[i], 1e-12, "mean " + i);
                assertEquals(wantVar, epi[i], 1e-12, "epistemic variance " + i);
                assertEquals(0.16, ale[i], 1e-12, "aleatoric variance " + i);
            }
        }
    }

    @Test
    void monteCarlo_linearRegression_convergesToExactVariance() {
        FunctionalModel model = linear(1);
        TensorTree mean = params(model, new double[] {0.5, -1.0}, new double[] {0.2}, 1);
        TensorTree var = params(model, new double[] {0.3, 0.1}, new double[] {0.05}, 1);
        int s = 20_000;
        Predictive p =
                Predictive.monteCarlo(new Diag(mean, var), model)
                        .likelihood(Likelihood.normal(0.4))
                        .samples(s)
                        .build();
        try (Prediction.Regression r =
                (Prediction.Regression) p.predict(new NDList(m.create(new double[][] {{1, 2}})))) {
            double want = 0.3 + 0.4 + 0.05;
            // the sample variance of S Gaussian draws has standard error sqrt(2 / S) sigma^2
            assertEquals(want, r.epistemic().getDouble(0, 0), 5 * Math.sqrt(2.0 / s) * want);
            assertEquals(-1.3, r.mean().getDouble(0, 0), 5 * Math.sqrt(want / s));
        }
    }

    @Test
    void linearisedProbit_binary_matchesClosedFormAndMonteCarlo() {
        FunctionalModel model = linear(1);
        TensorTree mean = params(model, new double[] {1.5, -0.5}, new double[] {0.1}, 1);
        TensorTree var = params(model, new double[] {2.0, 0.5}, new double[] {0.3}, 1);
        double[][] x = {{1.0, 0.5}, {-2.0, 1.0}};
        Predictive p =
                Predictive.linearised(new Diag(mean, var), model)
                        .likelihood(Likelihood.bernoulli())
                        .build();
        try (Prediction.Classification c =
                (Prediction.Classification) p.predict(new NDList(m.create(x)))) {
            java.util.Random rng = new java.util.Random(1);
            for (int i = 0; i < x.length; i++) {
                double mu = 1.5 * x[i][0] - 0.5 * x[i][1] + 0.1;
                double s2 = 2.0 * x[i][0] * x[i][0] + 0.5 * x[i][1] * x[i][1] + 0.3;
                double probit = 1 / (1 + Math.exp(-mu / Math.sqrt(1 + Math.PI * s2 / 8)));
                assertEquals(probit, c.probs().getDouble(i, 1), 1e-12, "probit " + i);
                assertEquals(1 - probit, c.probs().getDouble(i, 0), 1e-12, "complement " + i);
                // against E[sigmoid(z)], z ~ N(mu, s2), by 10^6 draws: the approximation's error
                // is known to stay below 0.02; the Monte Carlo error is about 4e-4
                double sum = 0;
                int n = 1_000_000;
                for (int k = 0; k < n; k++) {
                    sum += 1 / (1 + Math.exp(-(mu + Math.sqrt(s2) * rng.nextGaussian())));
                }
                assertEquals(sum / n, probit, 0.02, "probit against Monte Carlo " + i);
            }
        }
    }

    @Test
    void monteCarlo_samplePosterior_averagesSoftmaxAndSplitsUncertainty() {
        FunctionalModel model = linear(3);
        TensorTree a = params(model, new double[] {1, 0, 0, 1, -1, -1}, new double[] {0, 0, 0}, 3);
        TensorTree b = params(model, new double[] {-1, 0, 0, -1, 1, 1}, new double[] {0, 1, 0}, 3);
        try (SamplePosterior post = SamplePosterior.of(List.of(a, b))) {
            double[] x = {0.7, -0.2};
            Predictive p = Predictive.monteCarlo(post, model).keepSamples(true).build();
            try (Prediction.Classification c =
                    (Prediction.Classification)
                            p.predict(new NDList(m.create(new double[][] {x})))) {
                double[] pa = softmax(new double[] {0.7, -0.2, -0.5});
                double[] pb = softmax(new double[] {-0.7, 0.2 + 1, 0.5});
                double[] mean = new double[3];
                for (int k = 0; k < 3; k++) {
                    mean[k] = 0.5 * (pa[k] + pb[k]);
                    assertEquals(mean[k], c.probs().getDouble(0, k), 1e-12, "mean " + k);
                }
                double total = entropy(mean);
                double aleatoric = 0.5 * (entropy(pa) + entropy(pb));
                assertEquals(total, c.total().getDouble(0), 1e-12);
                assertEquals(aleatoric, c.aleatoric().getDouble(0), 1e-12);
                assertEquals(total - aleatoric, c.epistemic().getDouble(0), 1e-12);
                assertTrue(c.epistemic().getDouble(0) > 0);
                assertEquals(new Shape(2, 1, 3), c.sampleProbs().getShape());
            }
        }
    }

    @Test
    void temperatureZero_isAPointMass_withZeroEpistemic() {
        FunctionalModel model = linear(3);
        TensorTree mean =
                params(model, new double[] {1, 0, 0, 1, -1, -1}, new double[] {0, 0.5, 0}, 3);
        TensorTree var = mean.map(a -> a.onesLike());
        NDArray x = m.create(new double[][] {{0.3, 0.4}, {-1, 2}});
        for (Predictive p :
                List.of(
                        Predictive.monteCarlo(new Diag(mean, var), model).temperature(0).build(),
                        Predictive.linearised(new Diag(mean, var), model).temperature(0).build())) {
            try (Prediction.Classification c =
                    (Prediction.Classification) p.predict(new NDList(x))) {
                for (double e : c.epistemic().toDoubleArray()) {
                    assertEquals(0, e, 1e-15);
                }
                double[] h = c.total().toDoubleArray();
                double[] al = c.aleatoric().toDoubleArray();
                for (int i = 0; i < h.length; i++) {
                    assertEquals(h[i], al[i], 1e-15);
                }
            }
        }
    }

    @Test
    void samplePosterior_withTemperature_isRejected() {
        FunctionalModel model = linear(1);
        TensorTree a = params(model, new double[] {1, 0}, new double[] {0}, 1);
        try (SamplePosterior post = SamplePosterior.of(List.of(a))) {
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> Predictive.monteCarlo(post, model).temperature(0.5).build());
            assertTrue(e.getMessage().startsWith("temperature must be 1"), e.getMessage());
        }
    }

    @Test
    void predict_leavesOnlyItsResultOnTheManager() {
        FunctionalModel model = linear(3);
        TensorTree mean =
                params(model, new double[] {1, 0, 0, 1, -1, -1}, new double[] {0, 0.5, 0}, 3);
        TensorTree var = mean.map(a -> a.onesLike().mul(0.1));
        NDArray x = m.create(new double[][] {{0.3, 0.4}});
        Predictive lin = Predictive.linearised(new Diag(mean, var), model).build();
        lin.predict(new NDList(x)).close();
        int before = m.getManagedArrays().size();
        lin.predict(new NDList(x)).close();
        Predictive.monteCarlo(new Diag(mean, var), model).build().predict(new NDList(x)).close();
        assertEquals(before, m.getManagedArrays().size(), "arrays leaked");
    }

    static double[] softmax(double[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            out[i] = Math.exp(z[i] - max);
            sum += out[i];
        }
        for (int i = 0; i < z.length; i++) {
            out[i] /= sum;
        }
        return out;
    }

    static double entropy(double[] p) {
        double h = 0;
        for (double v : p) {
            h -= v > 0 ? v * Math.log(v) : 0;
        }
        return h;
    }
}
