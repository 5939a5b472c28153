package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.junit.jupiter.api.Test;

/** The Bernoulli and heteroscedastic Normal likelihoods: values, gradients and curvature. */
class LikelihoodCurvatureTest {

    private static final double[] Z = {-30, -2, -1e-3, 0, 0.5, 3, 40};

    private static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    @Test
    void bernoulli_values_matchLogSigmoidClosedForm() {
        try (NDManager m = NDManager.newBaseManager()) {
            double[] y = {1, 0, 1, 0, 1, 0, 1};
            NDArray z = m.create(Z).reshape(Z.length, 1);
            double[] got =
                    LogLikelihoods.bernoulli(z, m.create(y).reshape(Z.length, 1)).toDoubleArray();
            for (int i = 0; i < Z.length; i++) {
                // log sigma(z) = -log(1 + e^-z), log(1 - sigma(z)) = -log(1 + e^z)
                double want =
                        y[i] == 1 ? -Math.log1p(Math.exp(-Z[i])) : -Math.log1p(Math.exp(Z[i]));
                assertEquals(want, got[i], 1e-12 * Math.max(1, Math.abs(want)), "z = " + Z[i]);
            }
        }
    }

    @Test
    void bernoulli_curvature_isMinusSigmoidDerivativeEverywhereIncludingZero() {
        try (NDManager m = NDManager.newBaseManager()) {
            TensorTree z = TensorTree.of("z", m.create(Z));
            NDArray y = m.create(new double[] {1, 0, 1, 0, 1, 0, 1});
            LogProbFn<Void> f = (p, b) -> LogProb.of(LogLikelihoods.bernoulli(p.get("z"), y).sum());
            double[] grad = Autodiff.grad(f, z, null).get("z").toDoubleArray();
            double[] hv =
                    Autodiff.hvp(f, z, null, z.map(NDArray::onesLike)).get("z").toDoubleArray();
            double[] yv = {1, 0, 1, 0, 1, 0, 1};
            for (int i = 0; i < Z.length; i++) {
                double s = sigmoid(Z[i]);
                assertEquals(yv[i] - s, grad[i], 1e-12, "gradient at z = " + Z[i]);
                // the Hessian is diagonal here, so H 1 is its diagonal: -s (1 - s); 1/4 at z = 0
                assertEquals(-s * (1 - s), hv[i], 1e-9, "curvature at z = " + Z[i]);
            }
        }
    }

    @Test
    void heteroscedasticNormal_matchesCommonsMathAndItsLogVarianceGradient() {
        try (NDManager m = NDManager.newBaseManager()) {
            double[][] out = {{0.3, -1.0, 0.2, 1.5}, {2.0, 0.0, -0.7, 0.1}};
            double[][] y = {{0.1, 0.4}, {2.5, -1.0}};
            NDArray outputs = m.create(out);
            NDArray targets = m.create(y);
            double[] got = LogLikelihoods.heteroscedasticNormal(outputs, targets).toDoubleArray();
            for (int i = 0; i < 2; i++) {
                double want = 0;
                for (int j = 0; j < 2; j++) {
                    double sd = Math.sqrt(Math.exp(out[i][2 + j]));
                    want += new NormalDistribution(out[i][j], sd).logDensity(y[i][j]);
                }
                assertEquals(want, got[i], 1e-12, "sample " + i);
            }
            TensorTree p = TensorTree.of("o", outputs);
            LogProbFn<Void> f =
                    (q, b) ->
                            LogProb.of(
                                    LogLikelihoods.heteroscedasticNormal(q.get("o"), targets)
                                            .sum());
            double[] g = Autodiff.grad(f, p, null).get("o").toDoubleArray();
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 2; j++) {
                    double r = y[i][j] - out[i][j];
                    double s = out[i][2 + j];
                    assertEquals(r * Math.exp(-s), g[i * 4 + j], 1e-12, "d/d mean");
                    assertEquals(
                            0.5 * (r * r * Math.exp(-s) - 1), g[i * 4 + 2 + j], 1e-12, "d/d s");
                }
            }
        }
    }

    @Test
    void heteroscedasticNormal_oddWidth_isRejectedWithBothShapes() {
        try (NDManager m = NDManager.newBaseManager()) {
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    LogLikelihoods.heteroscedasticNormal(
                                            m.zeros(new ai.djl.ndarray.types.Shape(3, 3)),
                                            m.zeros(new ai.djl.ndarray.types.Shape(3, 2))));
            assertEquals(
                    "outputs must have shape (n, 2 d) (means, then log variances) for targets of"
                            + " shape (n, d), got (3, 3) and (3, 2)",
                    e.getMessage());
        }
    }
}
