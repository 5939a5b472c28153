package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ConjugateGradientsTest {

    /** A tree of 10 elements over two leaves, so the solver works across leaves. */
    private static final Map<String, Shape> SHAPES = new LinkedHashMap<>();

    static {
        SHAPES.put("w", new Shape(2, 3));
        SHAPES.put("b", new Shape(4));
    }

    private static final int P = 10;

    private NDManager manager;
    private Random random;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        random = new Random(20240611L);
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** Returns Q Q^T / p + shift I, symmetric positive definite for shift > 0. */
    private double[][] randomSpd(int p, double shift) {
        double[][] q = new double[p][p];
        for (double[] row : q) {
            for (int j = 0; j < p; j++) {
                row[j] = random.nextGaussian();
            }
        }
        double[][] a = new double[p][p];
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < p; j++) {
                double s = 0;
                for (int k = 0; k < p; k++) {
                    s += q[i][k] * q[j][k];
                }
                a[i][j] = s / p + (i == j ? shift : 0);
            }
        }
        return a;
    }

    /** The operator v -> A v on trees with {@code like}'s structure, through the raveled order. */
    private UnaryOperator<TensorTree> operator(double[][] a, TensorTree like) {
        NDArray matrix = manager.create(a).toType(like.dataType(), false);
        return v -> {
            try (NDArray flat = v.ravel();
                    NDArray col = flat.reshape(-1, 1);
                    NDArray prod = matrix.matMul(col);
                    NDArray out = prod.reshape(-1)) {
                return like.unravel(out);
            }
        };
    }

    private double[] randomVector(int p) {
        double[] v = new double[p];
        for (int i = 0; i < p; i++) {
            v[i] = random.nextGaussian();
        }
        return v;
    }

    private TensorTree tree(double[] flat) {
        TensorTree like = TestArrays.normalTree(manager, new Random(0), SHAPES);
        return like.unravel(manager.create(flat));
    }

    private static double[] matVec(double[][] a, double[] x) {
        return new Array2DRowRealMatrix(a).operate(x);
    }

    private static double[] cholSolve(double[][] a, double[] b) {
        return new CholeskyDecomposition(new Array2DRowRealMatrix(a))
                .getSolver()
                .solve(new ArrayRealVector(b))
                .toArray();
    }

    private static double condition(double[][] a) {
        double[] ev = new EigenDecomposition(new Array2DRowRealMatrix(a)).getRealEigenvalues();
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        for (double e : ev) {
            min = Math.min(min, e);
            max = Math.max(max, e);
        }
        return max / min;
    }

    private static double[] minus(double[] x, double[] y) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i] - y[i];
        }
        return d;
    }

    @Test
    void solve_randomSpdSystems_meetTolerance_andMatchCholesky() {
        double tol = 1e-10;
        for (int trial = 0; trial < 5; trial++) {
            double[][] a = randomSpd(P, 0.1 + trial);
            double[] bv = randomVector(P);
            TensorTree b = tree(bv);
            ConjugateGradients.Result r =
                    ConjugateGradients.builder(operator(a, b)).tolerance(tol).build().solve(b);
            assertTrue(r.converged(), "trial " + trial + " converged");
            assertTrue(r.iterations() >= 1 && r.iterations() <= P, "iterations " + r.iterations());
            assertTrue(r.residualNorm() <= tol * TestArrays.norm(bv), "reported residual");
            assertSame(manager, r.x().manager(), "result on b's manager");
            assertTrue(r.x().sameStructure(b));

            double[] x = TestArrays.flat(r.x());
            double[] exact = cholSolve(a, bv);
            // the true residual may drift from the recurrence's by rounding; allow 10x
            double trueRes = TestArrays.norm(minus(bv, matVec(a, x))) / TestArrays.norm(bv);
            assertTrue(trueRes <= 10 * tol, "true relative residual " + trueRes);
            // forward error bound: ||x - x*|| / ||x*|| <= cond(A) ||b - A x|| / ||b||
            double err = TestArrays.norm(minus(x, exact)) / TestArrays.norm(exact);
            assertTrue(
                    err <= condition(a) * trueRes + 1e-14,
                    "relative error " + err + " vs cond*res " + condition(a) * trueRes);
            r.close();
        }
    }

    @Test
    void solve_defaultOptions_reachDefaultRelativeTolerance() {
        double[][] a = randomSpd(P, 0.5);
        double[] bv = randomVector(P);
        TensorTree b = tree(bv);
        try (ConjugateGradients.Result r = ConjugateGradients.solve(operator(a, b), b)) {
            assertTrue(r.converged());
            double[] x = TestArrays.flat(r.x());
            double res = TestArrays.norm(minus(bv, matVec(a, x)));
            assertTrue(res <= 1e-4 * TestArrays.norm(bv), "default tolerance 1e-5, res " + res);
        }
    }

    @Test
    void solve_withDamping_solvesShiftedSystem() {
        double[][] a = randomSpd(P, 0.05);
        double damping = 0.7;
        double[][] shifted = new double[P][];
        for (int i = 0; i < P; i++) {
            shifted[i] = a[i].clone();
            shifted[i][i] += damping;
        }
        double[] bv = randomVector(P);
        TensorTree b = tree(bv);
        try (ConjugateGradients.Result r =
                ConjugateGradients.builder(operator(a, b))
                        .damping(damping)
                        .tolerance(1e-12)
                        .build()
                        .solve(b)) {
            assertTrue(r.converged());
            double[] x = TestArrays.flat(r.x());
            double[] exact = cholSolve(shifted, bv);
            double[] undamped = cholSolve(a, bv);
            assertTrue(TestArrays.maxAbsDiff(x, exact) < 1e-9, "matches (A + damping I)^-1 b");
            assertTrue(TestArrays.maxAbsDiff(x, undamped) > 1e-3, "damping changed the answer");
        }
    }

    @Test
    void solve_jacobiPreconditioner_cutsIterationsOnIllConditionedSystem() {
        int p = 30;
        // A = D + E: diagonal spread over four decades, off-diagonal entries at most 0.5 / p, so
        // every row is diagonally dominant (sum |E_ij| < 0.5 < min D = 1) and D^-1/2 A D^-1/2 has
        // eigenvalues in [0.5, 1.5], while A itself has condition number near 1e4.
        double[][] a = new double[p][p];
        for (int i = 0; i < p; i++) {
            a[i][i] = Math.pow(10, 4.0 * i / (p - 1));
            for (int j = 0; j < i; j++) {
                double e = (2 * random.nextDouble() - 1) * 0.5 / p;
                a[i][j] = e;
                a[j][i] = e;
            }
        }
        assertTrue(condition(a) > 5e3, "ill-conditioned: " + condition(a));
        double[] diag = new double[p];
        for (int i = 0; i < p; i++) {
            diag[i] = a[i][i];
        }
        double[] bv = randomVector(p);
        TensorTree b = TensorTree.of("x", manager.create(bv));
        TensorTree d = TensorTree.of("x", manager.create(diag));
        double tol = 1e-8;
        ConjugateGradients.Result plain =
                ConjugateGradients.builder(operator(a, b))
                        .tolerance(tol)
                        .maxIterations(10 * p)
                        .build()
                        .solve(b);
        ConjugateGradients.Result jacobi =
                ConjugateGradients.builder(operator(a, b))
                        .tolerance(tol)
                        .maxIterations(10 * p)
                        .preconditioner(r -> r.zip(d, NDArray::div))
                        .build()
                        .solve(b);
        assertTrue(plain.converged() && jacobi.converged());
        double[] exact = cholSolve(a, bv);
        double scale = TestArrays.norm(exact);
        assertTrue(TestArrays.norm(minus(TestArrays.flat(plain.x()), exact)) < 1e-3 * scale);
        assertTrue(TestArrays.norm(minus(TestArrays.flat(jacobi.x()), exact)) < 1e-6 * scale);
        assertTrue(
                2 * jacobi.iterations() <= plain.iterations(),
                "jacobi " + jacobi.iterations() + " vs plain " + plain.iterations());
        plain.close();
        jacobi.close();
    }

    @Test
    void solve_hessianVectorProducts_findNewtonSolutionOfQuadratic() {
        // negative log density 1/2 x^T H x - c^T x over the raveled tree: Hessian H, minimiser
        // H^-1 c; the solver only sees H through exact Hessian-vector products
        double[][] h = randomSpd(P, 0.3);
        double[] c = randomVector(P);
        TensorTree params = tree(randomVector(P));
        NDArray hm = manager.create(h);
        NDArray cm = manager.create(c);
        LogProbFn<Void> negLogDensity =
                (x, batch) -> {
                    NDArray flat = x.ravel();
                    NDArray quad = flat.matMul(hm.matMul(flat.reshape(-1, 1)).reshape(-1));
                    return LogProb.of(quad.mul(0.5).sub(flat.matMul(cm)));
                };
        TensorTree rhs = params.unravel(cm);
        // warm up: the first product loads the TorchScript module, which is not a leak
        Autodiff.hvp(negLogDensity, params, null, rhs).close();
        int before = manager.getManagedArrays().size();
        try (ConjugateGradients.Result r =
                ConjugateGradients.builder(v -> Autodiff.hvp(negLogDensity, params, null, v))
                        .tolerance(1e-12)
                        .build()
                        .solve(rhs)) {
            assertTrue(r.converged());
            double[] x = TestArrays.flat(r.x());
            assertTrue(TestArrays.maxAbsDiff(x, cholSolve(h, c)) < 1e-9);
        }
        assertEquals(before, manager.getManagedArrays().size(), "arrays leaked by the solve");
    }

    @Test
    void solve_stopsAtMaxIterations_andReportsNotConverged() {
        double[][] a = randomSpd(P, 0.01);
        double[] bv = randomVector(P);
        TensorTree b = tree(bv);
        try (ConjugateGradients.Result r =
                ConjugateGradients.builder(operator(a, b))
                        .tolerance(1e-12)
                        .maxIterations(2)
                        .build()
                        .solve(b)) {
            assertEquals(2, r.iterations());
            assertFalse(r.converged());
            assertTrue(r.residualNorm() > 1e-12 * TestArrays.norm(bv));
            double[] x = TestArrays.flat(r.x());
            double res = TestArrays.norm(minus(bv, matVec(a, x)));
            assertEquals(
                    res, r.residualNorm(), 1e-9 * (1 + res), "reported residual is the true one");
        }
    }

    @Test
    void solve_fromExactStart_takesNoIteration_andLeavesX0Untouched() {
        double[][] a = randomSpd(P, 1);
        double[] bv = randomVector(P);
        TensorTree b = tree(bv);
        double[] exact = cholSolve(a, bv);
        TensorTree x0 = tree(exact);
        ConjugateGradients cg = ConjugateGradients.builder(operator(a, b)).tolerance(1e-8).build();
        try (ConjugateGradients.Result r = cg.solve(b, x0)) {
            assertEquals(0, r.iterations());
            assertTrue(r.converged());
            assertTrue(r.x().allClose(x0, 0, 0));
            assertTrue(r.x().get("w") != x0.get("w"), "the result is a copy of x0");
        }
        double[] start = randomVector(P);
        TensorTree x1 = tree(start);
        try (ConjugateGradients.Result r = cg.solve(b, x1)) {
            assertTrue(r.converged());
            assertTrue(TestArrays.maxAbsDiff(TestArrays.flat(r.x()), exact) < 1e-6);
        }
        assertEquals(0, TestArrays.maxAbsDiff(TestArrays.flat(x1), start));
    }

    @Test
    void solve_zeroRightHandSide_returnsZeroWithoutIterating() {
        double[][] a = randomSpd(P, 1);
        TensorTree b = tree(new double[P]);
        try (ConjugateGradients.Result r = ConjugateGradients.solve(operator(a, b), b)) {
            assertEquals(0, r.iterations());
            assertTrue(r.converged());
            assertEquals(0, TestArrays.norm(TestArrays.flat(r.x())));
        }
    }

    @Test
    void solve_float32_reachesFloat32Tolerance() {
        double[][] a = randomSpd(P, 1);
        double[] bv = randomVector(P);
        TensorTree b = tree(bv).map(v -> v.toType(DataType.FLOAT32, false));
        try (ConjugateGradients.Result r =
                ConjugateGradients.builder(operator(a, b)).tolerance(1e-5).build().solve(b)) {
            assertTrue(r.converged());
            assertEquals(DataType.FLOAT32, r.x().dataType());
            double[] x = TestArrays.flat(r.x());
            assertTrue(TestArrays.maxAbsDiff(x, cholSolve(a, bv)) < 1e-4);
        }
    }

    @Test
    void solve_leaksNoArray() {
        double[][] a = randomSpd(P, 0.2);
        TensorTree b = tree(randomVector(P));
        UnaryOperator<TensorTree> op = operator(a, b);
        ConjugateGradients cg =
                ConjugateGradients.builder(op)
                        .damping(0.1)
                        .preconditioner(r -> r.map(v -> v.mul(0.5)))
                        .build();
        cg.solve(b).close();
        int before = manager.getManagedArrays().size();
        for (int i = 0; i < 3; i++) {
            cg.solve(b, b).close();
        }
        assertEquals(before, manager.getManagedArrays().size());
    }

    @Test
    void builder_badOptions_areRejectedWithNameRuleAndValue() {
        UnaryOperator<TensorTree> id = v -> v;
        var e1 =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ConjugateGradients.builder(id).damping(-1));
        assertTrue(e1.getMessage().contains("damping") && e1.getMessage().contains("-1.0"));
        var e2 =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ConjugateGradients.builder(id).tolerance(0));
        assertTrue(e2.getMessage().contains("tolerance") && e2.getMessage().contains("positive"));
        assertThrows(
                IllegalArgumentException.class,
                () -> ConjugateGradients.builder(id).tolerance(Double.NaN));
        var e3 =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ConjugateGradients.builder(id).maxIterations(0));
        assertTrue(e3.getMessage().contains("maxIterations") && e3.getMessage().contains("0"));
        assertThrows(
                IllegalArgumentException.class,
                () -> ConjugateGradients.builder(id).absoluteTolerance(-1e-3));
        var e4 = assertThrows(NullPointerException.class, () -> ConjugateGradients.builder(null));
        assertEquals("a", e4.getMessage());
        assertThrows(
                NullPointerException.class,
                () -> ConjugateGradients.builder(id).preconditioner(null));
    }

    @Test
    void solve_badInputs_areRejectedAndLeakNothing() {
        double[][] a = randomSpd(P, 1);
        TensorTree b = tree(randomVector(P));
        ConjugateGradients cg = ConjugateGradients.builder(operator(a, b)).build();
        TensorTree wrong = TensorTree.of("w", manager.zeros(new Shape(2, 3)));
        var e = assertThrows(IllegalArgumentException.class, () -> cg.solve(b, wrong));
        assertTrue(e.getMessage().contains("x0"), e.getMessage());
        assertThrows(NullPointerException.class, () -> cg.solve(null));

        int before = manager.getManagedArrays().size();
        ConjugateGradients negative = ConjugateGradients.builder(v -> v.map(NDArray::neg)).build();
        var e2 = assertThrows(IllegalArgumentException.class, () -> negative.solve(b));
        assertTrue(e2.getMessage().contains("positive definite"), e2.getMessage());
        ConjugateGradients badShape =
                ConjugateGradients.builder(v -> v.subset(n -> n.equals("w"))).build();
        var e3 = assertThrows(IllegalArgumentException.class, () -> badShape.solve(b));
        assertTrue(e3.getMessage().contains("result of a"), e3.getMessage());
        assertEquals(before, manager.getManagedArrays().size(), "failed solves leak nothing");

        TensorTree nan = b.map(v -> v.mul(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> cg.solve(nan));
    }
}
