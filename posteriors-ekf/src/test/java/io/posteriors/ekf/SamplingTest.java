package io.posteriors.ekf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.TensorTree;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Samples reproduce the state's Gaussian. With n independent draws the sample mean of coordinate i
 * has standard error {@code sqrt(S_ii / n)} and the sample covariance of (i, j) has standard error
 * {@code sqrt((S_ii S_jj + S_ij^2) / n)} (Gaussian fourth moments; for i = j this is {@code S_ii
 * sqrt(2 / n)}), so each is checked at 5 standard errors: a two-sided failure chance below 6e-7 per
 * check for a correct sampler, under a fixed seed.
 */
class SamplingTest {

    private static final int N = 20_000;
    private static final double Z = 5;

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        Engine.getInstance().setRandomSeed(2024);
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private TensorTree tree(float[] a, float b) {
        Map<String, NDArray> m = new LinkedHashMap<>();
        m.put("a", manager.create(a));
        m.put("b", manager.create(new float[][] {{b}}));
        return TensorTree.of(m);
    }

    @Test
    void diagEkf_samples_reproduceMeanAndSd() {
        DiagEkf<Void> t =
                DiagEkf.<Void>builder((p, b) -> null, 1.0)
                        .initSds(tree(new float[] {0.5f, 2f}, 1f))
                        .build();
        DiagEkfState s = t.init(tree(new float[] {1f, -2f}, 0.5f));
        TensorTree draws = s.sample(N);
        assertEquals(new Shape(N, 2), draws.get("a").getShape());
        assertEquals(new Shape(N, 1, 1), draws.get("b").getShape());
        double[][] x = rows(draws.ravelBatched(N));
        double[] mean = {1, -2, 0.5};
        double[] sd = {0.5, 2, 1};
        double[][] cov = new double[3][3];
        for (int i = 0; i < 3; i++) {
            cov[i][i] = sd[i] * sd[i];
        }
        checkMoments(x, mean, cov);
        TensorTree one = s.sample(1).map(a -> a.get(0));
        assertTrue(one.sameStructure(s.params()), "one sample has the parameters' structure");
    }

    @Test
    void denseEkf_samples_reproduceMeanAndCovariance_afterUpdates() {
        double[][] init = {{2, 0.6, -0.3}, {0.6, 1, 0.2}, {-0.3, 0.2, 0.5}};
        DenseEkf<Logistic.Batch> t =
                DenseEkf.builder(Logistic.perSampleLogLik(), 1.0)
                        .perSample(true)
                        .initCov(manager.create(init).toType(DataType.FLOAT32, false))
                        .build();
        DenseEkfState s = t.init(Logistic.params(manager, 0.5, -1, 0.2, DataType.FLOAT32));
        Random rng = new Random(1);
        for (int i = 0; i < 3; i++) {
            s = t.updateInPlace(s, Logistic.batch(manager, rng, 4, DataType.FLOAT32)).state();
        }
        double[] mean = EmpiricalRecursionTest.flat(s.params());
        double[] c = s.cov().toType(DataType.FLOAT64, false).toDoubleArray();
        double[][] cov = new double[3][3];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                cov[i][j] = c[3 * i + j];
            }
        }
        TensorTree draws = s.sample(N);
        assertEquals(new Shape(N, 2), draws.get("w").getShape());
        assertEquals(new Shape(N, 1), draws.get("b").getShape());
        checkMoments(rows(draws.ravelBatched(N)), mean, cov);
        TensorTree one = s.sample(1).map(a -> a.get(0));
        assertTrue(one.sameStructure(s.params()), "one sample has the parameters' structure");
    }

    private static double[][] rows(NDArray m) {
        long n = m.getShape().get(0);
        int d = (int) m.getShape().get(1);
        double[] flat = m.toType(DataType.FLOAT64, false).toDoubleArray();
        double[][] out = new double[(int) n][d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * d, out[i], 0, d);
        }
        return out;
    }

    private static void checkMoments(double[][] x, double[] mean, double[][] cov) {
        int d = mean.length;
        double n = x.length;
        double[] m = new double[d];
        for (double[] row : x) {
            for (int i = 0; i < d; i++) {
                m[i] += row[i] / n;
            }
        }
        for (int i = 0; i < d; i++) {
            double se = Math.sqrt(cov[i][i] / n);
            assertEquals(mean[i], m[i], Z * se, "mean of coordinate " + i);
        }
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                double s = 0;
                for (double[] row : x) {
                    s += (row[i] - m[i]) * (row[j] - m[j]);
                }
                s /= n - 1;
                double se = Math.sqrt((cov[i][i] * cov[j][j] + cov[i][j] * cov[i][j]) / n);
                assertEquals(cov[i][j], s, Z * se, "covariance " + i + "," + j);
            }
        }
    }
}
