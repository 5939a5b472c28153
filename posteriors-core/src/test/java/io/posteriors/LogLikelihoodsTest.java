package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LogLikelihoodsTest {

    private NDManager manager;
    private final Random random = new Random(31);

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** log softmax(z)[k] = z_k - max - log sum exp(z - max), in plain Java. */
    private static double logSoftmax(double[] z, int k) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double s = 0;
        for (double v : z) {
            s += Math.exp(v - max);
        }
        return z[k] - max - Math.log(s);
    }

    @Test
    void categorical_matchesHandComputedLogSoftmax_forIntAndLongLabels() {
        int n = 6;
        int c = 4;
        double[][] z = new double[n][c];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < c; j++) {
                z[i][j] = 3 * random.nextGaussian();
            }
            labels[i] = random.nextInt(c);
        }
        z[0][1] = 500; // large logits must not overflow
        NDArray logits = manager.create(z);
        NDArray[] labelArrays = {
            manager.create(labels), manager.create(labels).toType(DataType.INT64, false)
        };
        for (NDArray y : labelArrays) {
            NDArray ll = LogLikelihoods.categorical(logits, y);
            assertEquals(new Shape(n), ll.getShape());
            double[] got = TestArrays.doubles(ll);
            for (int i = 0; i < n; i++) {
                assertEquals(logSoftmax(z[i], labels[i]), got[i], 1e-12, "sample " + i);
            }
        }
    }

    @Test
    void categorical_float32_staysFloat32() {
        NDArray logits = manager.create(new float[][] {{1, 2, 3}, {0, 0, 0}});
        NDArray ll = LogLikelihoods.categorical(logits, manager.create(new int[] {2, 0}));
        assertEquals(DataType.FLOAT32, ll.getDataType());
        double[] got = TestArrays.doubles(ll);
        assertEquals(logSoftmax(new double[] {1, 2, 3}, 2), got[0], 1e-6);
        assertEquals(-Math.log(3), got[1], 1e-6);
    }

    @Test
    void normal_matchesCommonsMath_summedOverNonBatchDims() {
        int n = 5;
        double sd = 0.7;
        double[][][] out = new double[n][2][3];
        double[][][] tgt = new double[n][2][3];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 2; j++) {
                for (int k = 0; k < 3; k++) {
                    out[i][j][k] = random.nextGaussian();
                    tgt[i][j][k] = random.nextGaussian();
                }
            }
        }
        NDArray ll =
                LogLikelihoods.normal(
                        manager.create(flat(out), new Shape(n, 2, 3)),
                        manager.create(flat(tgt), new Shape(n, 2, 3)),
                        sd);
        assertEquals(new Shape(n), ll.getShape());
        double[] got = TestArrays.doubles(ll);
        for (int i = 0; i < n; i++) {
            double expected = 0;
            for (int j = 0; j < 2; j++) {
                for (int k = 0; k < 3; k++) {
                    expected += new NormalDistribution(out[i][j][k], sd).logDensity(tgt[i][j][k]);
                }
            }
            assertEquals(expected, got[i], 1e-12, "sample " + i);
        }
        // a vector of outputs: one scalar observation per sample
        NDArray v =
                LogLikelihoods.normal(
                        manager.create(new double[] {1, 2}),
                        manager.create(new double[] {1.5, 0}),
                        2);
        double[] gv = TestArrays.doubles(v);
        assertEquals(new NormalDistribution(1, 2).logDensity(1.5), gv[0], 1e-12);
        assertEquals(new NormalDistribution(2, 2).logDensity(0), gv[1], 1e-12);
    }

    @Test
    void normal_float32_staysFloat32() {
        NDArray ll =
                LogLikelihoods.normal(
                        manager.create(new float[][] {{1, 2}}),
                        manager.create(new float[][] {{0, 2}}),
                        0.5);
        assertEquals(DataType.FLOAT32, ll.getDataType());
        double expected =
                new NormalDistribution(1, 0.5).logDensity(0)
                        + new NormalDistribution(2, 0.5).logDensity(2);
        assertEquals(expected, TestArrays.doubles(ll)[0], 1e-5);
    }

    private static double[] flat(double[][][] a) {
        return java.util.Arrays.stream(a)
                .flatMap(java.util.Arrays::stream)
                .flatMapToDouble(java.util.Arrays::stream)
                .toArray();
    }

    @Test
    void badInputs_areRejectedWithShapes() {
        NDArray logits = manager.zeros(new Shape(3, 2));
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> LogLikelihoods.categorical(logits, manager.zeros(new Shape(4))));
        assertTrue(
                e.getMessage().contains("(3, 2)") && e.getMessage().contains("(4)"),
                e.getMessage());
        var f =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> LogLikelihoods.normal(logits, manager.zeros(new Shape(2, 3)), 1));
        assertTrue(f.getMessage().contains("(3, 2)") && f.getMessage().contains("(2, 3)"));
        var g =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> LogLikelihoods.normal(logits, logits, -1));
        assertTrue(g.getMessage().contains("sd") && g.getMessage().contains("-1.0"));
        assertThrows(NullPointerException.class, () -> LogLikelihoods.categorical(null, logits));
    }
}
