package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fused tree updates against element-wise arithmetic in Java and the moments of the noise. */
class FusedOpsTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(5);
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private TensorTree tree(DataType type, long... sizes) {
        Map<String, NDArray> m = new LinkedHashMap<>();
        for (int i = 0; i < sizes.length; i++) {
            m.put("leaf" + i, manager.randomNormal(new Shape(sizes[i])).toType(type, false));
        }
        return TensorTree.of(m);
    }

    private static double[] flat(TensorTree t) {
        double[] out = new double[(int) t.numel()];
        int i = 0;
        for (NDArray a : t.leaves()) {
            for (double v : a.toType(DataType.FLOAT64, false).toDoubleArray()) {
                out[i++] = v;
            }
        }
        return out;
    }

    @Test
    void langevinWithoutNoise_isAffineCombination() {
        TensorTree y = tree(DataType.FLOAT64, 3, 5);
        TensorTree x = tree(DataType.FLOAT64, 3, 5);
        double[] y0 = flat(y);
        double[] x0 = flat(x);
        FusedOps.langevin(y, x, 0.7, -0.3, 0);
        double[] y1 = flat(y);
        for (int i = 0; i < y0.length; i++) {
            assertEquals(0.7 * y0[i] - 0.3 * x0[i], y1[i], 1e-14);
        }
        assertArrayEquals(x0, flat(x), 0, "x is not modified");
    }

    @Test
    void axpy_addsScaledTreeAndShift() {
        TensorTree y = tree(DataType.FLOAT32, 4, 2);
        TensorTree x = tree(DataType.FLOAT32, 4, 2);
        double[] y0 = flat(y);
        double[] x0 = flat(x);
        FusedOps.axpy(y, x, 2.5, -0.25);
        double[] y1 = flat(y);
        for (int i = 0; i < y0.length; i++) {
            assertEquals(y0[i] + 2.5 * x0[i] - 0.25, y1[i], 1e-5);
        }
    }

    @Test
    void momentumWithoutNoise_updatesMomentaThenParameters() {
        TensorTree p = tree(DataType.FLOAT64, 6);
        TensorTree m = tree(DataType.FLOAT64, 6);
        TensorTree g = tree(DataType.FLOAT64, 6);
        double[] p0 = flat(p);
        double[] m0 = flat(m);
        double[] g0 = flat(g);
        FusedOps.momentum(p, m, g, 0.9, 0.1, 0, 0.5);
        double[] p1 = flat(p);
        double[] m1 = flat(m);
        for (int i = 0; i < p0.length; i++) {
            double mi = 0.9 * m0[i] + 0.1 * g0[i];
            assertEquals(mi, m1[i], 1e-14);
            assertEquals(p0[i] + 0.5 * mi, p1[i], 1e-14);
        }
        assertArrayEquals(g0, flat(g), 0, "the gradient is not modified");
    }

    @Test
    void noise_hasTheRequestedMomentsInEveryLeaf() {
        // y = 0, a = 1, b = 0: y becomes sd ξ; 200,000 draws per leaf. The sample mean has SE
        // sd / sqrt(n) = 0.0067 and the sample variance SE sd² sqrt(2 / n) = 0.0127: 5 SE bounds.
        int n = 200_000;
        double sd = 1.5;
        Map<String, NDArray> leaves = new LinkedHashMap<>();
        leaves.put("a", manager.zeros(new Shape(n)));
        leaves.put("b", manager.zeros(new Shape(n / 1000, 1000)));
        TensorTree y = TensorTree.of(leaves);
        FusedOps.langevin(y, null, 1, 0, sd);
        for (NDArray a : y.leaves()) {
            double[] v = a.toType(DataType.FLOAT64, false).toDoubleArray();
            double mean = 0;
            for (double d : v) {
                mean += d;
            }
            mean /= v.length;
            double var = 0;
            for (double d : v) {
                var += (d - mean) * (d - mean);
            }
            var /= v.length - 1;
            assertEquals(0, mean, 5 * sd / Math.sqrt(n), "mean");
            assertEquals(sd * sd, var, 5 * sd * sd * Math.sqrt(2.0 / n), "variance");
        }
        // the two leaves got different draws
        assertTrue(!y.get("a").reshape(n / 1000, 1000).allClose(y.get("b")), "independent leaves");
    }

    @Test
    void noise_followsTheEngineSeed() {
        TensorTree a = TensorTree.of(manager.zeros(new Shape(50)));
        TensorTree b = TensorTree.of(manager.zeros(new Shape(50)));
        Engine.getInstance().setRandomSeed(77);
        FusedOps.momentum(a, a.map(NDArray::zerosLike), a.map(NDArray::zerosLike), 1, 0, 1, 0);
        Engine.getInstance().setRandomSeed(77);
        FusedOps.momentum(b, b.map(NDArray::zerosLike), b.map(NDArray::zerosLike), 1, 0, 1, 0);
        // the parameters did not move (drift 0); compare the momenta through a second kernel
        Engine.getInstance().setRandomSeed(78);
        TensorTree c = TensorTree.of(manager.zeros(new Shape(50)));
        FusedOps.langevin(c, null, 1, 0, 1);
        Engine.getInstance().setRandomSeed(78);
        TensorTree d = TensorTree.of(manager.zeros(new Shape(50)));
        FusedOps.langevin(d, null, 1, 0, 1);
        assertTrue(c.get(c.names().get(0)).contentEquals(d.get(d.names().get(0))), "same seed");
        assertArrayEquals(flat(a), flat(b), 0, "zero drift leaves the parameters");
    }

    @Test
    void sumOfSquares_matchesJavaSum() {
        TensorTree y = tree(DataType.FLOAT32, 7, 11);
        double expected = 0;
        for (double v : flat(y)) {
            expected += (v - 0.2) * (v - 0.2);
        }
        try (NDArray s = FusedOps.sumOfSquares(y, 0.2)) {
            assertEquals(DataType.FLOAT64, s.getDataType());
            assertEquals(expected, s.getDouble(), 1e-5 * expected);
        }
    }

    /**
     * The written-down NELBO gradient of a diagonal Gaussian against autograd of the same estimator
     * (same draws) on log p(θ) = -Σ a θ² / 2, for STL and the full estimator, several draws.
     */
    private void assertNelboGradientMatchesAutograd(boolean stl, int n) {
        double t = 0.7;
        TensorTree mean = tree(DataType.FLOAT64, 4, 3);
        TensorTree logSd = tree(DataType.FLOAT64, 4, 3).map(a -> a.mul(0.3));
        Map<String, NDArray> e = new LinkedHashMap<>();
        mean.forEach(
                (k, a) ->
                        e.put(
                                k,
                                manager.randomNormal(new Shape(n).addAll(a.getShape()))
                                        .toType(DataType.FLOAT64, false)));
        TensorTree eps = TensorTree.of(e);
        double a = 1.7;
        // the gradients of log p at the draws, in closed form: -a θ
        TensorTree draws = FusedOps.reparameterize(mean, logSd, eps);
        java.util.List<TensorTree> grads = new java.util.ArrayList<>();
        for (int s = 0; s < n; s++) {
            int i = s;
            grads.add(draws.map(d -> d.get(i).mul(-a)));
        }
        FusedOps.DiagNelboGradient g =
                FusedOps.diagGaussianNelboGradient(logSd, eps, grads, t, stl);
        // autograd of NELBO(mean, logSd) = -(1/n) Σ_s [log p(θ_s) - T log q(θ_s)]
        Map<String, NDArray> vars = new LinkedHashMap<>();
        mean.forEach((k, v) -> vars.put("m/" + k, v));
        logSd.forEach((k, v) -> vars.put("s/" + k, v));
        LogProbFn<Object> nelbo =
                (v, b) -> {
                    NDArray total = null;
                    for (int s = 0; s < n; s++) {
                        for (String k : mean.names()) {
                            NDArray mu = v.get("m/" + k);
                            NDArray ls = v.get("s/" + k);
                            NDArray theta = mu.add(ls.exp().mul(eps.get(k).get(s)));
                            NDArray muQ = stl ? mu.stopGradient() : mu;
                            NDArray lsQ = stl ? ls.stopGradient() : ls;
                            NDArray z = theta.sub(muQ).div(lsQ.exp());
                            NDArray logQ = z.square().sum().mul(-0.5).sub(lsQ.sum());
                            NDArray logP = theta.square().sum().mul(-0.5 * a);
                            NDArray term = logP.sub(logQ.mul(t));
                            total = total == null ? term : total.add(term);
                        }
                    }
                    return LogProb.of(total.mul(-1.0 / n));
                };
        TensorTree auto = Autodiff.grad(nelbo, TensorTree.of(vars), null);
        for (String k : mean.names()) {
            assertTrue(
                    g.mean().get(k).allClose(auto.get("m/" + k), 1e-10, 1e-12, false), "mean " + k);
            assertTrue(
                    g.logSd().get(k).allClose(auto.get("s/" + k), 1e-10, 1e-12, false),
                    "logSd " + k);
        }
        // the two sums of the value
        double sumEps = 0;
        for (double v : flat(eps)) {
            sumEps += v * v;
        }
        double sumLs = 0;
        for (double v : flat(logSd)) {
            sumLs += v;
        }
        assertEquals(sumEps, g.sumEpsSquared(), 1e-10);
        assertEquals(sumLs, g.sumLogSd(), 1e-12);
        // and the draws themselves
        double[] d0 = draws.get("leaf0").get(n - 1).toDoubleArray();
        double[] m0 = mean.get("leaf0").toDoubleArray();
        double[] l0 = logSd.get("leaf0").toDoubleArray();
        double[] e0 = eps.get("leaf0").get(n - 1).toDoubleArray();
        for (int i = 0; i < d0.length; i++) {
            assertEquals(m0[i] + Math.exp(l0[i]) * e0[i], d0[i], 1e-12);
        }
    }

    @Test
    void diagNelboGradient_stl_matchesAutograd() {
        assertNelboGradientMatchesAutograd(true, 3);
        assertNelboGradientMatchesAutograd(true, 1);
    }

    @Test
    void diagNelboGradient_full_matchesAutograd() {
        assertNelboGradientMatchesAutograd(false, 3);
        assertNelboGradientMatchesAutograd(false, 1);
    }

    @Test
    void badInput_namesTheParameter() {
        TensorTree y = tree(DataType.FLOAT32, 3);
        TensorTree other = tree(DataType.FLOAT32, 4, 1);
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> FusedOps.langevin(y, y.copy(), 1, 1, -1));
        assertTrue(e.getMessage().contains("sd"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FusedOps.axpy(y, other, 1, 0));
        assertTrue(e.getMessage().contains("x"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FusedOps.langevin(y, null, 1, 2, 0));
        assertTrue(e.getMessage().contains("b"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> FusedOps.momentum(y, y.copy(), y.copy(), Double.NaN, 1, 0, 1));
        assertTrue(e.getMessage().contains("decay"), e.getMessage());
    }
}
