package io.posteriors.laplace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import io.posteriors.FunctionalModel;
import io.posteriors.ModelLogPosterior;
import io.posteriors.TensorTree;
import io.posteriors.laplace.Fixtures.XY;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.optim.MaxEval;
import org.apache.commons.math3.optim.nonlinear.scalar.GoalType;
import org.apache.commons.math3.optim.univariate.BrentOptimizer;
import org.apache.commons.math3.optim.univariate.SearchInterval;
import org.apache.commons.math3.optim.univariate.UnivariateObjectiveFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Laplace evidence against Bayesian linear regression's closed form {@code log N(y; 0, σ² I + X
 * P0^-1 Xᵀ)} (exact for a linear-Gaussian model at the MAP), and prior tuning against the
 * closed-form evidence maximiser.
 */
class EvidenceTest {

    private static final int N = 40;

    private NDManager manager;
    private XY data;
    private double[][] design;
    private double[] y;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(12);
        manager = NDManager.newBaseManager();
        data = Fixtures.regression(manager, N);
        design = Fixtures.design(data.x());
        y = data.y().toDoubleArray();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** log N(y; 0, σ² I + X̃ X̃ᵀ / α), by an n × n Cholesky factorisation. */
    private double closedForm(double alpha) {
        RealMatrix x = new Array2DRowRealMatrix(design);
        RealMatrix c =
                MatrixUtils.createRealIdentityMatrix(N)
                        .scalarMultiply(Fixtures.SIGMA * Fixtures.SIGMA)
                        .add(x.multiply(x.transpose()).scalarMultiply(1 / alpha));
        CholeskyDecomposition chol = new CholeskyDecomposition(c);
        double logDet = Math.log(chol.getDeterminant());
        double[] sol = chol.getSolver().solve(MatrixUtils.createRealVector(y)).toArray();
        double quad = 0;
        for (int i = 0; i < N; i++) {
            quad += y[i] * sol[i];
        }
        return -0.5 * quad - 0.5 * logDet - 0.5 * N * Math.log(2 * Math.PI);
    }

    /** The MAP (X̃ᵀX̃ / σ² + α I)^-1 X̃ᵀ y / σ². */
    private double[] map(double alpha) {
        RealMatrix x = new Array2DRowRealMatrix(design);
        double s2 = Fixtures.SIGMA * Fixtures.SIGMA;
        RealMatrix prec =
                x.transpose()
                        .multiply(x)
                        .scalarMultiply(1 / s2)
                        .add(
                                MatrixUtils.createRealIdentityMatrix(Fixtures.D + 1)
                                        .scalarMultiply(alpha));
        return new LUDecomposition(prec)
                .getSolver()
                .solve(x.transpose().operate(MatrixUtils.createRealVector(y)).mapDivide(s2))
                .toArray();
    }

    /** The closed-form evidence maximiser, by Brent's method in log α. */
    private double bestAlpha() {
        BrentOptimizer opt = new BrentOptimizer(1e-13, 1e-15);
        double u =
                opt.optimize(
                                new MaxEval(10_000),
                                new UnivariateObjectiveFunction(a -> closedForm(Math.exp(a))),
                                GoalType.MAXIMIZE,
                                new SearchInterval(-10, 10))
                        .getPoint();
        return Math.exp(u);
    }

    private TensorTree params(double[] theta) {
        return Fixtures.tree(
                manager.create(new double[] {theta[0], theta[1], theta[2]}),
                manager.create(theta[3]));
    }

    private DenseLaplaceState dense(double[] theta, double alpha) {
        var t =
                DenseGgn.builder(Fixtures.linear(), Fixtures.gaussianOuter())
                        .initPrec(alpha)
                        .build();
        DenseLaplaceState s = t.init(params(theta));
        return t.updateInPlace(s, data).state();
    }

    private double logLik(TensorTree p) {
        return Evidence.logLikelihood(
                Fixtures.linear(), Fixtures.gaussianOuter(), p, List.of(data));
    }

    @Test
    void logEvidence_denseLinearRegression_equalsClosedForm() {
        for (double alpha : new double[] {0.1, 1.0, 7.5}) {
            DenseLaplaceState s = dense(map(alpha), alpha);
            double got = Evidence.logEvidence(s, PriorPrecision.of(alpha), logLik(s.params()));
            double want = closedForm(alpha);
            assertEquals(want, got, 1e-8 * Math.abs(want), "alpha " + alpha);
        }
    }

    @Test
    void tunePrior_denseScalar_equalsClosedFormMaximiser() {
        double best = bestAlpha();
        DenseLaplaceState s = dense(map(best), 1.0);
        double before = s.prec().getDouble(0, 0);
        Evidence.Tuned<DenseLaplaceState> tuned =
                Evidence.tunePrior(s, PriorPrecision.of(1.0), PriorPrecision.Kind.SCALAR);
        double got = ((PriorPrecision.Scalar) tuned.prior()).value();
        assertEquals(best, got, 1e-4 * best);
        // a new state with the tuned prior; the input untouched
        assertEquals(before, s.prec().getDouble(0, 0), 0);
        assertEquals(before - 1.0 + got, tuned.state().prec().getDouble(0, 0), 1e-9 * before);
        double at = Evidence.logEvidence(tuned.state(), tuned.prior(), logLik(s.params()));
        assertEquals(closedForm(best), at, 1e-8 * Math.abs(at));
    }

    @Test
    void tunePrior_densePerLeafAndDiagonal_raiseTheEvidence() {
        double[] theta = map(0.5);
        DenseLaplaceState s = dense(theta, 0.5);
        double ll = logLik(s.params());
        double base = Evidence.logEvidence(s, PriorPrecision.of(0.5), ll);
        double scalar =
                Evidence.logEvidence(
                        Evidence.tunePrior(s, PriorPrecision.of(0.5), PriorPrecision.Kind.SCALAR)
                                .state(),
                        Evidence.tunePrior(s, PriorPrecision.of(0.5), PriorPrecision.Kind.SCALAR)
                                .prior(),
                        ll);
        var perLeaf = Evidence.tunePrior(s, PriorPrecision.of(0.5), PriorPrecision.Kind.PER_LEAF);
        double leaf = Evidence.logEvidence(perLeaf.state(), perLeaf.prior(), ll);
        var diag = Evidence.tunePrior(s, PriorPrecision.of(0.5), PriorPrecision.Kind.DIAGONAL);
        double d = Evidence.logEvidence(diag.state(), diag.prior(), ll);
        assertTrue(scalar >= base - 1e-9, scalar + " vs " + base);
        assertTrue(leaf >= scalar - 1e-7, leaf + " vs " + scalar);
        assertTrue(d >= leaf - 1e-7, d + " vs " + leaf);
    }

    @Test
    void tunePrior_diagScalar_isStationaryAndDiagonalClosedForm() {
        double[] theta = map(1.0);
        var t =
                DiagGgn.builder(Fixtures.linear(), Fixtures.gaussianOuter())
                        .initPrecDiag(2.0)
                        .build();
        DiagLaplaceState s = t.updateInPlace(t.init(params(theta)), data).state();
        double ll = logLik(s.params());
        var tuned = Evidence.tunePrior(s, PriorPrecision.of(2.0), PriorPrecision.Kind.SCALAR);
        double a = ((PriorPrecision.Scalar) tuned.prior()).value();
        double f0 = Evidence.logEvidence(tuned.state(), tuned.prior(), ll);
        for (double r : new double[] {0.99, 1.01}) {
            var other = Evidence.withPrior(tuned.state(), tuned.prior(), PriorPrecision.of(a * r));
            assertTrue(
                    Evidence.logEvidence(other, PriorPrecision.of(a * r), ll) < f0, "ratio " + r);
        }
        // per element: d/dδ [−δθ²/2 + log δ / 2 − log(δ + h) / 2] = 0
        var diag = Evidence.tunePrior(s, PriorPrecision.of(2.0), PriorPrecision.Kind.DIAGONAL);
        double[] delta = Evidence.doubles(((PriorPrecision.Diagonal) diag.prior()).values());
        double[] prec = Evidence.doubles(s.precDiag());
        for (int j = 0; j < theta.length; j++) {
            double h = prec[j] - 2.0;
            double g = -theta[j] * theta[j] / 2 + 1 / (2 * delta[j]) - 1 / (2 * (delta[j] + h));
            assertEquals(0, g, 1e-9 / delta[j], "element " + j);
        }
    }

    /** A one-layer DJL model whose K-FAC is exact for linear regression. */
    @Test
    void kfac_linearRegression_evidenceAndTunedPriorAreExact() {
        SequentialBlock block = new SequentialBlock();
        block.add(Linear.builder().setUnits(1).build());
        block.initialize(manager, DataType.FLOAT64, new Shape(1, Fixtures.D));
        FunctionalModel model = FunctionalModel.of(block);
        ModelLogPosterior<XY> lp =
                ModelLogPosterior.<XY>builder(
                                model,
                                b -> new NDList(b.x()),
                                (o, b) ->
                                        Fixtures.gaussianLogLik(
                                                o, b.y().reshape(-1, 1), Fixtures.SIGMA))
                        .build();
        double best = bestAlpha();
        double[] theta = map(best);
        List<String> names = model.parameterNames();
        Map<String, NDArray> leaves = new LinkedHashMap<>();
        leaves.put(names.get(0), manager.create(new double[][] {{theta[0], theta[1], theta[2]}}));
        leaves.put(names.get(1), manager.create(new double[] {theta[3]}));
        TensorTree p = TensorTree.of(leaves);
        var t = KfacGgn.builder(lp).priorPrecision(1.0).build();
        KfacLaplaceState s = t.init(p);
        for (XY b : Fixtures.minibatches(data, 15)) {
            s = t.updateInPlace(s, b).state();
        }
        assertEquals(List.of(), s.fallbackLeaves());
        assertEquals(N, s.samples());
        double ll = Evidence.logLikelihood(lp, p, List.of(data));
        var tuned = Evidence.tunePrior(s, PriorPrecision.Kind.SCALAR);
        double got = ((PriorPrecision.Scalar) tuned.prior()).value();
        assertEquals(best, got, 1e-4 * best);
        double ev = Evidence.logEvidence(tuned.state(), ll);
        // the K-FAC state at the tuned prior is evaluated at exactly `got`
        double want = closedForm(got);
        assertEquals(closedForm(best), ev, 1e-8 * Math.abs(ev));
        assertEquals(want, ev, 1e-8 * Math.abs(ev));
        assertEquals(1.0, ((PriorPrecision.Scalar) s.prior()).value());
        assertThrows(
                IllegalArgumentException.class,
                () -> Evidence.tunePrior(tuned.state(), PriorPrecision.Kind.DIAGONAL));
    }

    @Test
    void tuneByValidation_picksTheSmallestLossAndClosesTheRest() {
        DenseLaplaceState s = dense(map(1.0), 1.0);
        double h00 = s.prec().getDouble(0, 0) - 1.0;
        int before = manager.getManagedArrays().size();
        var tuned =
                Evidence.tuneByValidation(
                        s,
                        PriorPrecision.of(1.0),
                        new double[] {0.1, 1, 10, 100},
                        c -> Math.abs(c.prec().getDouble(0, 0) - h00 - 9.0));
        assertEquals(10.0, ((PriorPrecision.Scalar) tuned.prior()).value());
        assertEquals(h00 + 10, tuned.state().prec().getDouble(0, 0), 1e-9 * h00);
        tuned.state().close();
        assertEquals(before, manager.getManagedArrays().size(), "arrays leaked");
        assertThrows(
                IllegalArgumentException.class,
                () -> Evidence.tuneByValidation(s, PriorPrecision.of(1.0), new double[0], c -> 0));
    }
}
