package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Random;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LinalgTest {

    private NDManager manager;
    private final Random random = new Random(41);

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private double[][] randomMatrix(int rows, int cols) {
        double[][] a = new double[rows][cols];
        for (double[] row : a) {
            for (int j = 0; j < cols; j++) {
                row[j] = random.nextGaussian();
            }
        }
        return a;
    }

    private double[][] randomSpd(int n) {
        RealMatrix q = new Array2DRowRealMatrix(randomMatrix(n, n));
        RealMatrix a = q.multiply(q.transpose());
        for (int i = 0; i < n; i++) {
            a.addToEntry(i, i, 0.5);
        }
        return a.getData();
    }

    private static void assertMatrixClose(double[][] expected, double[][] actual, double tol) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], actual[i], tol, "row " + i);
        }
    }

    @Test
    void cholesky_matchesCommonsMath() {
        double[][] a = randomSpd(5);
        NDArray l = Linalg.cholesky(manager.create(a));
        double[][] expected =
                new CholeskyDecomposition(new Array2DRowRealMatrix(a)).getL().getData();
        assertMatrixClose(expected, TestArrays.matrix(l), 1e-12);
    }

    @Test
    void cholesky_batchOfMatrices_factorsEach() {
        double[][] a = randomSpd(3);
        double[][] b = randomSpd(3);
        double[] stacked = new double[18];
        int k = 0;
        for (double[][] m : new double[][][] {a, b}) {
            for (double[] row : m) {
                for (double v : row) {
                    stacked[k++] = v;
                }
            }
        }
        NDArray l = Linalg.cholesky(manager.create(stacked, new Shape(2, 3, 3)));
        assertEquals(new Shape(2, 3, 3), l.getShape());
        assertMatrixClose(
                new CholeskyDecomposition(new Array2DRowRealMatrix(a)).getL().getData(),
                TestArrays.matrix(l.get(0)),
                1e-12);
        assertMatrixClose(
                new CholeskyDecomposition(new Array2DRowRealMatrix(b)).getL().getData(),
                TestArrays.matrix(l.get(1)),
                1e-12);
    }

    @Test
    void cholesky_notPositiveDefinite_namesTheMinor_andLeaksNothing() {
        // leading 2x2 minor has determinant 1 - 4 < 0
        double[][] a = {{1, 2, 0}, {2, 1, 0}, {0, 0, 1}};
        NDArray m = manager.create(a);
        Linalg.cholesky(manager.create(randomSpd(2))); // load the module before counting
        int before = manager.getManagedArrays().size();
        var e = assertThrows(IllegalArgumentException.class, () -> Linalg.cholesky(m));
        assertTrue(e.getMessage().contains("positive definite"), e.getMessage());
        assertTrue(e.getMessage().contains("minor 2"), e.getMessage());
        assertEquals(before, manager.getManagedArrays().size());
        var s =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Linalg.cholesky(manager.zeros(new Shape(2, 3))));
        assertTrue(s.getMessage().contains("square") && s.getMessage().contains("(2, 3)"));
    }

    @Test
    void solveLowerAndUpper_matchCommonsMath() {
        int n = 4;
        double[][] l = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                l[i][j] = random.nextGaussian();
            }
            l[i][i] = 1 + Math.abs(l[i][i]);
        }
        double[][] b = randomMatrix(n, 2);
        RealMatrix lm = new Array2DRowRealMatrix(l);
        RealMatrix bm = new Array2DRowRealMatrix(b);
        double[][] xl = new LUDecomposition(lm).getSolver().solve(bm).getData();
        double[][] xu = new LUDecomposition(lm.transpose()).getSolver().solve(bm).getData();
        NDArray la = manager.create(l);
        NDArray ba = manager.create(b);
        assertMatrixClose(xl, TestArrays.matrix(Linalg.solveLower(la, ba)), 1e-12);
        assertMatrixClose(xu, TestArrays.matrix(Linalg.solveUpper(la.transpose(), ba)), 1e-12);
        // only the named triangle is read
        NDArray full = la.add(manager.create(randomMatrix(n, n)).mul(manager.create(upperMask(n))));
        assertMatrixClose(xl, TestArrays.matrix(Linalg.solveLower(full, ba)), 1e-12);
    }

    private static double[][] upperMask(int n) {
        double[][] m = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                m[i][j] = 1;
            }
        }
        return m;
    }

    @Test
    void trilIndices_areRowMajorLowerTriangle() {
        for (int n = 1; n <= 5; n++) {
            NDArray idx = Linalg.trilIndices(n, manager.zeros(new Shape(1)));
            int m = n * (n + 1) / 2;
            assertEquals(new Shape(2, m), idx.getShape());
            assertEquals(DataType.INT64, idx.getDataType());
            long[] got = idx.toLongArray();
            int k = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j <= i; j++) {
                    assertEquals(i, got[k], "row of entry " + k);
                    assertEquals(j, got[m + k], "column of entry " + k);
                    k++;
                }
            }
        }
        assertThrows(
                IllegalArgumentException.class,
                () -> Linalg.trilIndices(0, manager.zeros(new Shape(1))));
    }

    @Test
    void tril_zeroesTheStrictUpperTriangle() {
        double[][] a = randomMatrix(3, 4);
        double[][] got = TestArrays.matrix(Linalg.tril(manager.create(a)));
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 4; j++) {
                assertEquals(j <= i ? a[i][j] : 0.0, got[i][j]);
            }
        }
    }

    @Test
    void eigh_matchesCommonsMathEigenvalues_andReconstructs() {
        double[][] a = randomSpd(4);
        NDList r = Linalg.eigh(manager.create(a));
        double[] values = TestArrays.doubles(r.get(0));
        double[] expected =
                new EigenDecomposition(new Array2DRowRealMatrix(a)).getRealEigenvalues();
        Arrays.sort(expected);
        assertArrayEquals(expected, values, 1e-10);
        // V diag(w) V^T == A
        NDArray v = r.get(1);
        NDArray rebuilt = v.mul(r.get(0)).matMul(v.transpose());
        assertMatrixClose(a, TestArrays.matrix(rebuilt), 1e-10);
    }
}
