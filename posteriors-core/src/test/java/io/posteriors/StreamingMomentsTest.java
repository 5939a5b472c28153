package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.apache.commons.math3.stat.correlation.Covariance;
import org.apache.commons.math3.stat.descriptive.moment.Mean;
import org.apache.commons.math3.stat.descriptive.moment.Variance;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class StreamingMomentsTest {

    private static final Map<String, Shape> SHAPES = new LinkedHashMap<>();

    static {
        SHAPES.put("w", new Shape(2, 2));
        SHAPES.put("b", new Shape(1));
    }

    private NDManager manager;
    private double[][] rows;
    private TensorTree[] samples;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        Random r = new Random(51);
        int n = 40;
        samples = new TensorTree[n];
        rows = new double[n][];
        for (int i = 0; i < n; i++) {
            // correlated, shifted coordinates so the covariance has structure
            TensorTree t = TestArrays.normalTree(manager, r, SHAPES);
            samples[i] = t.map(a -> a.add(3).mul(a.sum().add(2)));
            rows[i] = TestArrays.flat(samples[i]);
        }
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private double[] column(int j) {
        double[] c = new double[rows.length];
        for (int i = 0; i < rows.length; i++) {
            c[i] = rows[i][j];
        }
        return c;
    }

    @Test
    void fullCovariance_matchesCommonsMath() {
        try (StreamingMoments moments = new StreamingMoments(true)) {
            for (TensorTree s : samples) {
                moments.add(s);
            }
            assertEquals(rows.length, moments.count());
            NDArray mean = moments.mean();
            NDArray cov = moments.covariance();
            assertEquals(DataType.FLOAT64, mean.getDataType());
            assertEquals(new Shape(5, 5), cov.getShape());
            double[] m = TestArrays.doubles(mean);
            for (int j = 0; j < 5; j++) {
                assertEquals(new Mean().evaluate(column(j)), m[j], 1e-12);
            }
            double[][] expected = new Covariance(rows).getCovarianceMatrix().getData();
            double[][] got = TestArrays.matrix(cov);
            for (int i = 0; i < 5; i++) {
                assertArrayEquals(expected[i], got[i], 1e-10 * (1 + Math.abs(expected[i][i])));
            }
        }
    }

    @Test
    void diagonalMode_matchesCommonsMathVariance() {
        try (StreamingMoments moments = new StreamingMoments(false)) {
            for (TensorTree s : samples) {
                moments.add(s);
            }
            NDArray var = moments.covariance();
            assertEquals(new Shape(5), var.getShape());
            double[] v = TestArrays.doubles(var);
            double[] m = TestArrays.doubles(moments.mean());
            for (int j = 0; j < 5; j++) {
                // Commons Math's Variance is the unbiased (n - 1) estimator by default
                assertEquals(new Variance().evaluate(column(j)), v[j], 1e-10 * (1 + v[j]));
                assertEquals(new Mean().evaluate(column(j)), m[j], 1e-12);
            }
        }
    }

    @Test
    void float32Samples_accumulateInFloat64() {
        try (StreamingMoments moments = new StreamingMoments(false)) {
            for (TensorTree s : samples) {
                moments.add(s.map(a -> a.toType(DataType.FLOAT32, false)));
            }
            assertEquals(DataType.FLOAT64, moments.mean().getDataType());
            double[] m = TestArrays.doubles(moments.mean());
            assertEquals(new Mean().evaluate(column(0)), m[0], 1e-5 * (1 + Math.abs(m[0])));
        }
    }

    @Test
    void addingSamples_leavesThemUntouched_andLeaksNothing() {
        try (StreamingMoments moments = new StreamingMoments(true)) {
            moments.add(samples[0]);
            moments.add(samples[1]);
            int before = manager.getManagedArrays().size();
            for (int i = 2; i < 10; i++) {
                moments.add(samples[i]);
            }
            assertEquals(before, manager.getManagedArrays().size());
            // a one-leaf float64 tree ravels to a view of its leaf; adding must not write to it
            TensorTree single = TensorTree.of(manager.create(new double[] {1, 2, 3, 4, 5}));
            double[] copy = TestArrays.flat(single);
            moments.add(single);
            assertArrayEquals(copy, TestArrays.flat(single));
        }
        for (int i = 0; i < 10; i++) {
            assertArrayEquals(rows[i], TestArrays.flat(samples[i]));
        }
    }

    @Test
    void tooFewSamples_andBadSamples_areRejected() {
        try (StreamingMoments moments = new StreamingMoments(true)) {
            var none = assertThrows(IllegalStateException.class, moments::mean);
            assertTrue(
                    none.getMessage().contains("at least 1")
                            && none.getMessage().contains("got 0"));
            moments.add(samples[0]);
            assertEquals(1, moments.count());
            assertArrayEquals(rows[0], TestArrays.doubles(moments.mean()), 1e-15);
            var one = assertThrows(IllegalStateException.class, moments::covariance);
            assertTrue(
                    one.getMessage().contains("at least 2") && one.getMessage().contains("got 1"),
                    one.getMessage());
            TensorTree other = TensorTree.of(manager.zeros(new Shape(4), DataType.FLOAT64));
            var wrong = assertThrows(IllegalArgumentException.class, () -> moments.add(other));
            assertTrue(
                    wrong.getMessage().contains("5") && wrong.getMessage().contains("got 4"),
                    wrong.getMessage());
            assertEquals(1, moments.count(), "a rejected sample is not counted");
            assertThrows(NullPointerException.class, () -> moments.add(null));
            moments.close();
            assertThrows(IllegalStateException.class, () -> moments.add(samples[1]));
            assertThrows(IllegalStateException.class, moments::mean);
        }
    }
}
