package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class DiagNormalTest {

    private static final double HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

    private NDManager manager;
    private TensorTree x;
    private TensorTree mean;
    private TensorTree sd;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        Random r = new Random(21);
        Map<String, Shape> shapes = new LinkedHashMap<>();
        shapes.put("w", new Shape(2, 3));
        shapes.put("b", new Shape(3));
        x = TestArrays.normalTree(manager, r, shapes);
        mean = TestArrays.normalTree(manager, r, shapes);
        // sd in [0.3, 1.7]
        sd = TestArrays.normalTree(manager, r, shapes).map(a -> a.tanh().mul(0.7).add(1.0));
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** Sum over elements of Commons Math's log density. */
    private static double reference(double[] xs, double[] means, double[] sds) {
        double total = 0;
        for (int i = 0; i < xs.length; i++) {
            total += new NormalDistribution(means[i], sds[i]).logDensity(xs[i]);
        }
        return total;
    }

    @Test
    void logProb_treeMeanAndSd_matchesCommonsMath() {
        double[] xs = TestArrays.flat(x);
        double[] ms = TestArrays.flat(mean);
        double[] ss = TestArrays.flat(sd);
        double normalised = reference(xs, ms, ss);
        assertEquals(normalised, Scalars.value(DiagNormal.logProb(x, mean, sd, true)), 1e-12);
        // without the constant: drop -log sd - log(2 pi)/2 from every element
        double constant = 0;
        for (double s : ss) {
            constant += -Math.log(s) - HALF_LOG_2PI;
        }
        assertEquals(
                normalised - constant,
                Scalars.value(DiagNormal.logProb(x, mean, sd, false)),
                1e-12);
    }

    @Test
    void logProb_scalarMeanAndSd_matchesCommonsMath() {
        double[] xs = TestArrays.flat(x);
        double m = 0.4;
        double s = 1.7;
        double[] ms = new double[xs.length];
        double[] ss = new double[xs.length];
        java.util.Arrays.fill(ms, m);
        java.util.Arrays.fill(ss, s);
        double normalised = reference(xs, ms, ss);
        assertEquals(normalised, Scalars.value(DiagNormal.logProb(x, m, s, true)), 1e-12);
        double constant = xs.length * (-Math.log(s) - HALF_LOG_2PI);
        assertEquals(
                normalised - constant, Scalars.value(DiagNormal.logProb(x, m, s, false)), 1e-12);
        // mean 0 takes a shortcut in the implementation
        java.util.Arrays.fill(ms, 0.0);
        assertEquals(
                reference(xs, ms, ss), Scalars.value(DiagNormal.logProb(x, 0.0, s, true)), 1e-12);
    }

    @Test
    void logProb_float32_staysFloat32() {
        TensorTree x32 = x.map(a -> a.toType(DataType.FLOAT32, false));
        NDArray lp = DiagNormal.logProb(x32, 0, 1, true);
        assertEquals(DataType.FLOAT32, lp.getDataType());
        double[] zeros = new double[(int) x.numel()];
        double[] ones = new double[zeros.length];
        java.util.Arrays.fill(ones, 1.0);
        assertEquals(reference(TestArrays.flat(x32), zeros, ones), Scalars.value(lp), 1e-4);
    }

    @Test
    @Tag("slow")
    void sample_meanAndSdWithinMonteCarloError() {
        Engine.getInstance().setRandomSeed(99);
        int n = 20_000;
        TensorTree draws = DiagNormal.sample(mean, sd, n);
        assertEquals(new Shape(n, 2, 3), draws.get("w").getShape());
        assertEquals(new Shape(n, 3), draws.get("b").getShape());
        double[][] rows = TestArrays.matrix(draws.ravelBatched(n));
        double[] ms = TestArrays.flat(mean);
        double[] ss = TestArrays.flat(sd);
        for (int j = 0; j < ms.length; j++) {
            double sum = 0;
            double sq = 0;
            for (double[] row : rows) {
                sum += row[j];
            }
            double m = sum / n;
            for (double[] row : rows) {
                sq += (row[j] - m) * (row[j] - m);
            }
            double s = Math.sqrt(sq / (n - 1));
            // standard errors for Normal data: sd / sqrt(n) for the mean and about
            // sd / sqrt(2 (n - 1)) for the sample sd; 5 of them over 18 checks keep a false alarm
            // below 1e-5 overall
            assertEquals(ms[j], m, 5 * ss[j] / Math.sqrt(n), "mean of element " + j);
            assertEquals(ss[j], s, 5 * ss[j] / Math.sqrt(2.0 * (n - 1)), "sd of element " + j);
        }
    }

    @Test
    void sample_single_hasMeanShapes_andFollowsTheSeed() {
        Engine.getInstance().setRandomSeed(5);
        TensorTree a = DiagNormal.sample(mean, sd);
        Engine.getInstance().setRandomSeed(5);
        TensorTree b = DiagNormal.sample(mean, sd);
        TensorTree c = DiagNormal.sample(mean, sd);
        assertEquals(mean.shapes(), a.shapes());
        assertTrue(a.allClose(b, 0, 0));
        assertFalse(a.allClose(c, 0, 0));
        // a zero sd returns the mean
        TensorTree z = DiagNormal.sample(mean, sd.zerosLike());
        assertArrayEquals(TestArrays.flat(mean), TestArrays.flat(z));
    }

    @Test
    void badInputs_areRejectedNamingLeafAndShapes() {
        TensorTree wrong = TensorTree.of("w", manager.zeros(new Shape(2, 3), DataType.FLOAT64));
        Map<String, NDArray> m = new LinkedHashMap<>();
        m.put("w", manager.zeros(new Shape(3, 2), DataType.FLOAT64));
        m.put("b", manager.zeros(new Shape(3), DataType.FLOAT64));
        TensorTree transposed = TensorTree.of(m);
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> DiagNormal.logProb(x, transposed, sd, true));
        assertTrue(e.getMessage().contains("mean"), e.getMessage());
        assertTrue(e.getMessage().contains("'w'"), e.getMessage());
        assertTrue(e.getMessage().contains("(3, 2)") && e.getMessage().contains("(2, 3)"));
        assertThrows(IllegalArgumentException.class, () -> DiagNormal.sample(mean, wrong));
        var s =
                assertThrows(
                        IllegalArgumentException.class, () -> DiagNormal.logProb(x, 0, 0, true));
        assertTrue(s.getMessage().contains("sd") && s.getMessage().contains("0.0"));
        assertThrows(
                IllegalArgumentException.class, () -> DiagNormal.logProb(x, Double.NaN, 1, true));
        assertThrows(IllegalArgumentException.class, () -> DiagNormal.sample(mean, sd, 0));
        assertThrows(NullPointerException.class, () -> DiagNormal.logProb(null, 0, 1, true));
    }
}
