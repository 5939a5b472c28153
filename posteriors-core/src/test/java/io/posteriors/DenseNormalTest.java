package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.apache.commons.math3.distribution.MultivariateNormalDistribution;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.stat.correlation.Covariance;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class DenseNormalTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** A random lower-triangular factor with diagonal in [0.5, 1.5]. */
    private static double[][] randomLower(Random r, int d) {
        double[][] l = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < i; j++) {
                l[i][j] = 0.5 * r.nextGaussian();
            }
            l[i][i] = 0.5 + r.nextDouble();
        }
        return l;
    }

    private static double[][] llt(double[][] l) {
        RealMatrix m = new Array2DRowRealMatrix(l);
        return m.multiply(m.transpose()).getData();
    }

    @Test
    void lowerToFlat_andFlatToLower_roundTripForRandomD() {
        qt().withFixedSeed(3L)
                .withExamples(50)
                .forAll(integers().between(1, 8), longs().all())
                .checkAssert(
                        (d, seed) -> {
                            try (NDManager m = manager.newSubManager()) {
                                Random r = new Random(seed);
                                int size = d * (d + 1) / 2;
                                assertEquals(size, DenseNormal.flatSize(d));
                                assertEquals(d, DenseNormal.dimensionOf(size));
                                NDArray flat = TestArrays.normal(m, r, new Shape(size));
                                NDArray lower = DenseNormal.flatToLower(flat, d);
                                assertEquals(new Shape(d, d), lower.getShape());
                                double[][] l = TestArrays.matrix(lower);
                                double[] f = TestArrays.doubles(flat);
                                int k = 0;
                                for (int i = 0; i < d; i++) {
                                    for (int j = 0; j < d; j++) {
                                        assertEquals(
                                                j <= i ? f[k++] : 0.0,
                                                l[i][j],
                                                "entry " + i + "," + j);
                                    }
                                }
                                assertArrayEquals(
                                        f, TestArrays.doubles(DenseNormal.lowerToFlat(lower)));

                                // a full matrix loses exactly its strict upper triangle
                                NDArray full = TestArrays.normal(m, r, new Shape(d, d));
                                NDArray back =
                                        DenseNormal.flatToLower(DenseNormal.lowerToFlat(full), d);
                                assertArrayEquals(
                                        TestArrays.doubles(Linalg.tril(full)),
                                        TestArrays.doubles(back));
                                // the flat order is the order of Linalg.trilIndices
                                double[] ff = TestArrays.doubles(DenseNormal.lowerToFlat(full));
                                double[][] fm = TestArrays.matrix(full);
                                long[] idx = Linalg.trilIndices(d, full).toLongArray();
                                for (int q = 0; q < size; q++) {
                                    assertEquals(fm[(int) idx[q]][(int) idx[size + q]], ff[q]);
                                }
                            }
                        });
    }

    @Test
    void flatToLower_isDifferentiable() {
        // d/dflat of sum(W * flatToLower(flat)) is the lower triangle of W, flattened
        int d = 4;
        Random r = new Random(5);
        NDArray w = TestArrays.normal(manager, r, new Shape(d, d));
        TensorTree flat = TensorTree.of(TestArrays.normal(manager, r, new Shape(10)));
        LogProbFn<Void> f =
                (p, b) -> LogProb.of(DenseNormal.flatToLower(p.get("x"), d).mul(w).sum());
        try (TensorTree g = Autodiff.grad(f, flat, null)) {
            assertArrayEquals(
                    TestArrays.doubles(DenseNormal.lowerToFlat(w)), TestArrays.doubles(g.get("x")));
        }
    }

    @Test
    void logProb_matchesCommonsMath_forOnePointAndABatch() {
        Random r = new Random(11);
        int d = 4;
        double[][] l = randomLower(r, d);
        double[] mean = {0.3, -1.0, 2.0, 0.0};
        MultivariateNormalDistribution ref = new MultivariateNormalDistribution(mean, llt(l));
        NDArray meanA = manager.create(mean);
        NDArray chol = manager.create(l);
        double[][] xs = new double[5][d];
        for (double[] x : xs) {
            for (int i = 0; i < d; i++) {
                x[i] = mean[i] + 2 * r.nextGaussian();
            }
        }
        NDArray one = DenseNormal.logProb(manager.create(xs[0]), meanA, chol);
        assertEquals(new Shape(), one.getShape());
        assertEquals(Math.log(ref.density(xs[0])), Scalars.value(one), 1e-10);
        NDArray many = DenseNormal.logProb(manager.create(xs), meanA, chol);
        assertEquals(new Shape(5), many.getShape());
        double[] got = TestArrays.doubles(many);
        for (int i = 0; i < xs.length; i++) {
            assertEquals(Math.log(ref.density(xs[i])), got[i], 1e-10, "point " + i);
        }
    }

    @Test
    void logProb_float32_staysFloat32() {
        NDArray mean = manager.create(new float[] {0, 1});
        NDArray chol = manager.create(new float[][] {{1, 0}, {0.5f, 2}});
        NDArray x = manager.create(new float[] {0.5f, -1});
        NDArray lp = DenseNormal.logProb(x, mean, chol);
        assertEquals(ai.djl.ndarray.types.DataType.FLOAT32, lp.getDataType());
        double expected =
                Math.log(
                        new MultivariateNormalDistribution(
                                        new double[] {0, 1}, llt(new double[][] {{1, 0}, {0.5, 2}}))
                                .density(new double[] {0.5, -1}));
        assertEquals(expected, Scalars.value(lp), 1e-5);
    }

    @Test
    @Tag("slow")
    void sample_meanAndCovarianceWithinMonteCarloError() {
        Engine.getInstance().setRandomSeed(1234);
        Random r = new Random(12);
        int d = 3;
        int n = 20_000;
        double[][] l = randomLower(r, d);
        double[][] cov = llt(l);
        double[] mean = {1.0, -2.0, 0.5};
        NDArray samples = DenseNormal.sample(manager.create(mean), manager.create(l), n);
        assertEquals(new Shape(n, d), samples.getShape());
        double[][] x = TestArrays.matrix(samples);
        double[][] empCov = new Covariance(x).getCovarianceMatrix().getData();
        for (int i = 0; i < d; i++) {
            double m = 0;
            for (double[] row : x) {
                m += row[i];
            }
            m /= n;
            // standard error of a sample mean: sqrt(Sigma_ii / n); 5 of them bound a false
            // alarm at about 6e-7 per coordinate
            double seMean = Math.sqrt(cov[i][i] / n);
            assertEquals(mean[i], m, 5 * seMean, "mean " + i);
            for (int j = 0; j <= i; j++) {
                // for Gaussian data Var(sample cov_ij) ~ (Sigma_ii Sigma_jj + Sigma_ij^2) / n
                double seCov = Math.sqrt((cov[i][i] * cov[j][j] + cov[i][j] * cov[i][j]) / n);
                assertEquals(cov[i][j], empCov[i][j], 5 * seCov, "cov " + i + "," + j);
            }
        }
    }

    @Test
    void sample_single_hasMeanShape_andIsReproducible() {
        NDArray mean = manager.create(new double[] {1, 2});
        NDArray chol = manager.create(new double[][] {{1, 0}, {0.5, 2}});
        Engine.getInstance().setRandomSeed(9);
        NDArray a = DenseNormal.sample(mean, chol);
        Engine.getInstance().setRandomSeed(9);
        NDArray b = DenseNormal.sample(mean, chol);
        assertEquals(new Shape(2), a.getShape());
        assertArrayEquals(TestArrays.doubles(a), TestArrays.doubles(b));
    }

    @Test
    void badInputs_areRejectedNamingTheParameter() {
        NDArray mean = manager.create(new double[] {1, 2});
        NDArray chol = manager.create(new double[][] {{1, 0}, {0.5, 2}});
        var e1 =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                DenseNormal.logProb(
                                        manager.create(new double[] {1, 2, 3}), mean, chol));
        assertTrue(e1.getMessage().contains("x must have shape (2)"), e1.getMessage());
        var e2 =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                DenseNormal.sample(
                                        mean, manager.eye(3).toType(mean.getDataType(), false), 4));
        assertTrue(e2.getMessage().contains("chol") && e2.getMessage().contains("(3, 3)"));
        var e3 =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> DenseNormal.lowerToFlat(manager.zeros(new Shape(2, 3))));
        assertTrue(e3.getMessage().contains("square") && e3.getMessage().contains("(2, 3)"));
        var e4 =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> DenseNormal.flatToLower(manager.zeros(new Shape(5)), 3));
        assertTrue(e4.getMessage().contains("6") && e4.getMessage().contains("(5)"));
        var e5 = assertThrows(IllegalArgumentException.class, () -> DenseNormal.dimensionOf(4));
        assertTrue(e5.getMessage().contains("got 4"), e5.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DenseNormal.sample(mean, chol, 0));
        assertThrows(
                IllegalArgumentException.class,
                () ->
                        DenseNormal.logProb(
                                mean,
                                mean,
                                chol.toType(ai.djl.ndarray.types.DataType.FLOAT32, false)));
    }
}
