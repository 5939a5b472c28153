package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AutodiffTest {

    private NDManager manager;
    private FunctionalModel model;
    private TensorTree params;
    private NDArray x;
    private NDArray y;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(7);
        manager = NDManager.newBaseManager();
        SequentialBlock block = new SequentialBlock();
        block.add(Linear.builder().setUnits(5).build());
        block.add(Activation::tanh);
        block.add(Linear.builder().setUnits(3).build());
        block.initialize(manager, DataType.FLOAT64, new Shape(4, 6));
        model = FunctionalModel.of(block);
        params = TensorTree.fromBlock(block).copy();
        x = manager.randomNormal(new Shape(4, 6)).toType(DataType.FLOAT64, false);
        y = manager.create(new int[] {0, 2, 1, 2});
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private NDArray perSampleLogLik(TensorTree p) {
        NDArray logits = model.forward(p, new NDList(x)).singletonOrThrow();
        return LogLikelihoods.categorical(logits, y);
    }

    private final LogProbFn<Void> meanLogLik =
            (p, b) -> LogProb.of(perSampleLogLik(p).mean(), manager.create(1.0));

    private double value(TensorTree p) {
        try (NDManager s = manager.newSubManager()) {
            return perSampleLogLik(p).mean().getDouble();
        }
    }

    /** Central finite difference of {@code value} along every coordinate. */
    private double[] finiteDifferenceGrad(
            TensorTree p, java.util.function.ToDoubleFunction<TensorTree> f) {
        NDArray flat = p.ravel();
        double[] base = flat.toDoubleArray();
        double[] g = new double[base.length];
        double h = 1e-6;
        for (int i = 0; i < base.length; i++) {
            double[] plus = base.clone();
            double[] minus = base.clone();
            plus[i] += h;
            minus[i] -= h;
            g[i] =
                    (f.applyAsDouble(p.unravel(manager.create(plus)))
                                    - f.applyAsDouble(p.unravel(manager.create(minus))))
                            / (2 * h);
        }
        return g;
    }

    private static void assertRelClose(double[] expected, double[] actual, double rel) {
        assertEquals(expected.length, actual.length);
        double scale = 0;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], rel * scale, "coordinate " + i);
        }
    }

    @Test
    void valueAndGrad_mlpFloat64_matchesCentralDifferences() {
        Autodiff.ValueAndGrad vg = Autodiff.valueAndGrad(meanLogLik, params, null);
        assertEquals(value(params), vg.value().getDouble(), 1e-12);
        assertEquals(1, vg.aux().size());
        double[] fd = finiteDifferenceGrad(params, this::value);
        assertRelClose(fd, vg.grad().ravel().toDoubleArray(), 1e-6);
        assertTrue(vg.grad().sameStructure(params));
    }

    @Test
    void valueAndGrad_leavesNoGradientOnParams() {
        Autodiff.valueAndGrad(meanLogLik, params, null).close();
        params.forEach((k, a) -> assertTrue(!a.hasGradient(), k));
    }

    @Test
    void hvp_mlpFloat64_matchesFiniteDifferencesOfGradients() {
        NDArray vflat =
                manager.randomNormal(new Shape(params.numel())).toType(DataType.FLOAT64, false);
        TensorTree v = params.unravel(vflat);
        double[] hv = Autodiff.hvp(meanLogLik, params, null, v).ravel().toDoubleArray();
        double h = 1e-5;
        NDArray base = params.ravel();
        double[] gPlus =
                Autodiff.grad(meanLogLik, params.unravel(base.add(vflat.mul(h))), null)
                        .ravel()
                        .toDoubleArray();
        double[] gMinus =
                Autodiff.grad(meanLogLik, params.unravel(base.sub(vflat.mul(h))), null)
                        .ravel()
                        .toDoubleArray();
        double[] fd = new double[hv.length];
        for (int i = 0; i < fd.length; i++) {
            fd[i] = (gPlus[i] - gMinus[i]) / (2 * h);
        }
        assertRelClose(fd, hv, 1e-6);
    }

    @Test
    void perSampleGrad_sumsToBatchGradient() {
        LogProbFn<Void> perSample = (p, b) -> LogProb.of(perSampleLogLik(p));
        LogProbFn<Void> summed = (p, b) -> LogProb.of(perSampleLogLik(p).sum());
        Autodiff.ValueAndGrad ps = Autodiff.perSampleValueAndGrad(perSample, params, null);
        assertEquals(new Shape(4), ps.value().getShape());
        TensorTree total = Autodiff.grad(summed, params, null);
        ps.grad()
                .forEach(
                        (k, g) -> {
                            assertEquals(4, g.getShape().get(0), k);
                            assertTrue(
                                    g.sum(new int[] {0})
                                            .allClose(total.get(k), 1e-10, 1e-12, false),
                                    k);
                        });
    }

    @Test
    void fvp_equalsEmpiricalFisherTimesVector() {
        LogProbFn<Void> perSample = (p, b) -> LogProb.of(perSampleLogLik(p));
        NDArray vflat =
                manager.randomNormal(new Shape(params.numel())).toType(DataType.FLOAT64, false);
        NDArray fisher = Curvature.empiricalFisher(perSample, params, null, true);
        // independent: per-sample gradients, G^T G / n
        NDArray g = Autodiff.perSampleValueAndGrad(perSample, params, null).grad().ravelBatched(4);
        NDArray expected = g.transpose().matMul(g).div(4);
        assertTrue(fisher.allClose(expected, 1e-10, 1e-12, false));
        NDArray fv = Curvature.fvp(perSample, params, null, params.unravel(vflat), true).ravel();
        assertTrue(fv.allClose(expected.matMul(vflat), 1e-8, 1e-10, false));
    }

    @Test
    void ggn_diagonalEqualsDiagonalOfDense_andProductMatchesDense() {
        ForwardFn<Void> forward =
                (p, b) -> ModelOutput.of(model.forward(p, new NDList(x)).singletonOrThrow());
        OuterFn<Void> loss = (o, b) -> LogLikelihoods.categorical(o, y).mean().neg();
        NDArray dense = Curvature.ggn(forward, loss, params, null);
        TensorTree diag = Curvature.diagGgn(forward, loss, params, null);
        int p = (int) params.numel();
        assertEquals(new Shape(p, p), dense.getShape());
        NDArray denseDiag = dense.mul(manager.eye(p, p, 0, DataType.FLOAT64)).sum(new int[] {1});
        assertTrue(diag.ravel().allClose(denseDiag, 1e-10, 1e-12, false));
        // symmetric positive semi-definite for a convex loss
        assertTrue(dense.allClose(dense.transpose(), 1e-10, 1e-12, false));
        NDArray vflat = manager.randomNormal(new Shape(p)).toType(DataType.FLOAT64, false);
        NDArray gv = Curvature.ggnvp(forward, loss, params, null, params.unravel(vflat)).ravel();
        assertTrue(gv.allClose(dense.matMul(vflat), 1e-8, 1e-10, false));
        assertTrue(vflat.matMul(dense).matMul(vflat).getDouble() >= -1e-12);
    }

    @Test
    void badLogProb_nonScalarOrNaN_namesTheProblem() {
        LogProbFn<Void> vector = (p, b) -> LogProb.of(perSampleLogLik(p));
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Autodiff.valueAndGrad(vector, params, null));
        assertTrue(e.getMessage().contains("must be a scalar"), e.getMessage());
        assertTrue(e.getMessage().contains("(4)"), e.getMessage());
        // Autodiff checks shapes; finiteness is checked where the step is known (Checks)
        LogProbFn<Void> nan = (p, b) -> LogProb.of(perSampleLogLik(p).mean().mul(Double.NaN));
        try (Autodiff.ValueAndGrad vg = Autodiff.valueAndGrad(nan, params, null)) {
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> Checks.finiteScalar(vg.value(), "log probability", 3));
        }
        assertTrue(e.getMessage().contains("must be finite, got NaN at step 3"), e.getMessage());
        assertThrows(NullPointerException.class, () -> Autodiff.valueAndGrad(null, params, null));
    }

    @Test
    void closedParams_reportedByName() {
        Map<String, NDArray> m = new LinkedHashMap<>();
        NDManager sub = manager.newSubManager();
        m.put("w", sub.ones(new Shape(2)));
        TensorTree t = TensorTree.of(m);
        sub.close();
        IllegalStateException e =
                assertThrows(
                        IllegalStateException.class,
                        () ->
                                Autodiff.valueAndGrad(
                                        (p, b) -> LogProb.of(p.get("w").sum()), t, null));
        assertTrue(e.getMessage().contains("'w'"), e.getMessage());
    }
}
