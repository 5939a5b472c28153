package io.posteriors.laplace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import io.posteriors.FunctionalModel;
import io.posteriors.KroneckerFactors;
import io.posteriors.LogLikelihoods;
import io.posteriors.ModelLogPosterior;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.laplace.Fixtures.XY;
import java.util.List;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** K-FAC GGN: exact where it must be, equal to a hand-computed Kronecker approximation. */
class KfacGgnTest {

    private static final int N = 12;
    private static final int IN = 4;
    private static final int HIDDEN = 5;
    private static final int CLASSES = 3;

    private NDManager manager;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(31);
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private SequentialBlock mlp(boolean hidden) {
        SequentialBlock block = new SequentialBlock();
        if (hidden) {
            block.add(Linear.builder().setUnits(HIDDEN).build());
            block.add(Activation::tanh);
        }
        block.add(Linear.builder().setUnits(CLASSES).build());
        block.initialize(manager, DataType.FLOAT64, new Shape(1, IN));
        return block;
    }

    private static ModelLogPosterior<XY> logPosterior(FunctionalModel model) {
        return ModelLogPosterior.<XY>builder(
                        model,
                        b -> new NDList(b.x()),
                        (o, b) -> LogLikelihoods.categorical(o, b.y()))
                .build();
    }

    private XY data(int n) {
        NDArray x = manager.randomNormal(new Shape(n, IN)).toType(DataType.FLOAT64, false);
        NDArray y = manager.randomInteger(0, CLASSES, new Shape(n), DataType.INT64);
        return new XY(x, y);
    }

    /** Λ read back through projectCovariance(I), inverted. */
    private double[][] precision(KfacLaplaceState s) {
        int p = (int) s.params().numel();
        NDArray cov = s.projectCovariance(manager.eye(p).toType(DataType.FLOAT64, false));
        RealMatrix c = new Array2DRowRealMatrix(Fixtures.matrix(cov));
        return new LUDecomposition(c).getSolver().getInverse().getData();
    }

    private static <S extends io.posteriors.State> S fit(
            Transform<S, XY> t, S s, List<XY> batches) {
        for (XY b : batches) {
            s = t.updateInPlace(s, b).state();
        }
        return s;
    }

    @Test
    void oneLayerOneSample_blockEqualsDenseGgn() {
        SequentialBlock block = mlp(false);
        FunctionalModel model = FunctionalModel.of(block);
        ModelLogPosterior<XY> lp = logPosterior(model);
        TensorTree map = TensorTree.fromBlock(block).copy(manager);
        XY one = data(1);
        var kfac = KfacGgn.builder(lp).priorPrecision(0.7).build();
        KfacLaplaceState s = fit(kfac, kfac.init(map), List.of(one));
        var dense = DenseGgn.builder(lp.forward(), lp.outerLogLikelihood()).initPrec(0.7).build();
        DenseLaplaceState d = fit(dense, dense.init(map), List.of(one));
        Fixtures.assertMatrixClose(Fixtures.matrix(d.prec()), precision(s), 1e-9);
        assertEquals(List.of(), s.fallbackLeaves());
    }

    @Test
    void mlp_factorsEqualHandComputedKronecker() {
        SequentialBlock block = mlp(true);
        FunctionalModel model = FunctionalModel.of(block);
        ModelLogPosterior<XY> lp = logPosterior(model);
        TensorTree map = TensorTree.fromBlock(block).copy(manager);
        XY all = data(N);
        var kfac = KfacGgn.builder(lp).priorPrecision(1.0).build();
        KfacLaplaceState s = fit(kfac, kfac.init(map), Fixtures.minibatches(all, 5));
        assertEquals(N, s.samples());
        assertEquals(2, s.factors().size());

        List<String> names = map.names();
        double[][] w1 = Fixtures.rows(map.get(names.get(0)));
        double[] b1 = map.get(names.get(1)).toDoubleArray();
        double[][] w2 = Fixtures.rows(map.get(names.get(2)));
        double[] b2 = map.get(names.get(3)).toDoubleArray();
        RealMatrix a1 = new Array2DRowRealMatrix(IN + 1, IN + 1);
        RealMatrix a2 = new Array2DRowRealMatrix(HIDDEN + 1, HIDDEN + 1);
        RealMatrix g1 = new Array2DRowRealMatrix(HIDDEN, HIDDEN);
        RealMatrix g2 = new Array2DRowRealMatrix(CLASSES, CLASSES);
        RealMatrix wOut = new Array2DRowRealMatrix(w2);
        for (double[] xi : Fixtures.rows(all.x())) {
            double[] in1 = new double[IN + 1];
            System.arraycopy(xi, 0, in1, 0, IN);
            in1[IN] = 1;
            double[] phi = new double[HIDDEN + 1];
            double[] dphi = new double[HIDDEN];
            for (int h = 0; h < HIDDEN; h++) {
                double z = b1[h];
                for (int k = 0; k < IN; k++) {
                    z += w1[h][k] * xi[k];
                }
                phi[h] = Math.tanh(z);
                dphi[h] = 1 - phi[h] * phi[h];
            }
            phi[HIDDEN] = 1;
            double[] logits = new double[CLASSES];
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < CLASSES; c++) {
                logits[c] = b2[c];
                for (int h = 0; h < HIDDEN; h++) {
                    logits[c] += w2[c][h] * phi[h];
                }
                max = Math.max(max, logits[c]);
            }
            double sum = 0;
            double[] p = new double[CLASSES];
            for (int c = 0; c < CLASSES; c++) {
                p[c] = Math.exp(logits[c] - max);
                sum += p[c];
            }
            double[][] hess = new double[CLASSES][CLASSES];
            for (int c = 0; c < CLASSES; c++) {
                for (int d = 0; d < CLASSES; d++) {
                    hess[c][d] = (c == d ? p[c] / sum : 0) - p[c] * p[d] / (sum * sum);
                }
            }
            RealMatrix h = new Array2DRowRealMatrix(hess);
            RealMatrix dd = MatrixUtils.createRealDiagonalMatrix(dphi);
            a1 = a1.add(outer(in1));
            a2 = a2.add(outer(phi));
            g2 = g2.add(h);
            // G of the hidden layer: Σ_i D_i W2ᵀ H_i W2 D_i (any square root of H_i gives this)
            g1 = g1.add(dd.multiply(wOut.transpose()).multiply(h).multiply(wOut).multiply(dd));
        }
        KroneckerFactors.Layer l1 = s.factors().get(0);
        KroneckerFactors.Layer l2 = s.factors().get(1);
        assertEquals(names.get(0), l1.weight());
        assertEquals(names.get(1), l1.bias());
        Fixtures.assertMatrixClose(a1.getData(), Fixtures.matrix(l1.a()), 1e-10);
        Fixtures.assertMatrixClose(g1.getData(), Fixtures.matrix(l1.g()), 1e-10);
        Fixtures.assertMatrixClose(a2.getData(), Fixtures.matrix(l2.a()), 1e-10);
        Fixtures.assertMatrixClose(g2.getData(), Fixtures.matrix(l2.g()), 1e-10);

        // the state's covariance is (G ⊗ A / n + δ I)^-1 per layer, in ravel order
        double[][] prec = precision(s);
        int offset = 0;
        for (KroneckerFactors.Layer l : s.factors()) {
            RealMatrix g = new Array2DRowRealMatrix(Fixtures.matrix(l.g()));
            RealMatrix a = new Array2DRowRealMatrix(Fixtures.matrix(l.a())).scalarMultiply(1.0 / N);
            int out = g.getRowDimension();
            int in = a.getRowDimension() - 1;
            for (int o = 0; o < out; o++) {
                for (int i = 0; i <= in; i++) {
                    for (int o2 = 0; o2 < out; o2++) {
                        for (int i2 = 0; i2 <= in; i2++) {
                            double want =
                                    g.getEntry(o, o2) * a.getEntry(i, i2)
                                            + (o == o2 && i == i2 ? 1.0 : 0);
                            int r = offset + (i == in ? out * in + o : o * in + i);
                            int c = offset + (i2 == in ? out * in + o2 : o2 * in + i2);
                            assertEquals(want, prec[r][c], 1e-8 * Math.max(1, Math.abs(want)));
                        }
                    }
                }
            }
            offset += out * (in + 1);
        }
    }

    private static RealMatrix outer(double[] v) {
        RealMatrix c = new Array2DRowRealMatrix(v);
        return c.multiply(c.transpose());
    }

    @Test
    void lastLayerSubnetwork_equalsFullModelsLastBlock() {
        SequentialBlock block = mlp(true);
        FunctionalModel model = FunctionalModel.of(block);
        ModelLogPosterior<XY> lp = logPosterior(model);
        TensorTree map = TensorTree.fromBlock(block).copy(manager);
        XY all = data(N);
        Subnetwork<XY> head = Subnetwork.lastLayer(lp, map);
        assertEquals(map.names().subList(2, 4), head.leaves());
        var sub = KfacGgn.builder(head).priorPrecision(2.0).build();
        KfacLaplaceState s = fit(sub, sub.init(head.params()), List.of(all));
        var full = KfacGgn.builder(lp).priorPrecision(2.0).build();
        KfacLaplaceState f = fit(full, full.init(map), List.of(all));
        assertEquals(1, s.factors().size());
        assertTrue(s.factors().get(0).a().allClose(f.factors().get(1).a(), 1e-12, 1e-12, false));
        assertTrue(s.factors().get(0).g().allClose(f.factors().get(1).g(), 1e-12, 1e-12, false));

        // a subnetwork that cuts a layer in two: its leaves fall back to the diagonal GGN
        Subnetwork<XY> bias = Subnetwork.of(lp, map, List.of(map.names().get(3)));
        var fb = KfacGgn.builder(bias).priorPrecision(2.0).build();
        KfacLaplaceState b = fit(fb, fb.init(bias.params()), List.of(all));
        assertEquals(List.of(map.names().get(3)), b.fallbackLeaves());
        var diag = DiagGgn.builder(bias.forward(), bias.outerLogLikelihood()).build();
        DiagLaplaceState dg = fit(diag, diag.init(bias.params()), List.of(all));
        assertTrue(
                b.fallback()
                        .get(map.names().get(3))
                        .allClose(dg.precDiag().get(map.names().get(3)), 1e-10, 1e-12, false));
    }

    @Test
    void projectCovariance_stackedJacobian_matchesRowByRow() {
        SequentialBlock block = mlp(true);
        ModelLogPosterior<XY> lp = logPosterior(FunctionalModel.of(block));
        TensorTree map = TensorTree.fromBlock(block).copy(manager);
        var t = KfacGgn.builder(lp).priorPrecision(0.5).build();
        KfacLaplaceState s = fit(t, t.init(map), List.of(data(N)));
        long p = map.numel();
        NDArray j = manager.randomNormal(new Shape(4, CLASSES, p)).toType(DataType.FLOAT64, false);
        NDArray all = s.projectCovariance(j);
        assertEquals(new Shape(4, CLASSES, CLASSES), all.getShape());
        NDArray cov = s.projectCovariance(manager.eye((int) p).toType(DataType.FLOAT64, false));
        for (int i = 0; i < 4; i++) {
            NDArray ji = j.get(new NDIndex("{}", i));
            NDArray want = ji.matMul(cov).matMul(ji.transpose());
            assertTrue(all.get(new NDIndex("{}", i)).allClose(want, 1e-9, 1e-9, false), "row " + i);
        }
    }

    @Test
    void notCovered_everyLeafFallsBackToDiagGgn() {
        SequentialBlock block = new SequentialBlock();
        block.add(Linear.builder().setUnits(HIDDEN).build());
        block.add(ai.djl.nn.norm.LayerNorm.builder().build());
        block.add(Linear.builder().setUnits(CLASSES).build());
        block.initialize(manager, DataType.FLOAT64, new Shape(1, IN));
        ModelLogPosterior<XY> lp = logPosterior(FunctionalModel.of(block));
        TensorTree map = TensorTree.fromBlock(block).copy(manager);
        XY all = data(6);
        var t = KfacGgn.builder(lp).priorPrecision(1.0).build();
        KfacLaplaceState s = fit(t, t.init(map), List.of(all));
        assertEquals(map.names(), s.fallbackLeaves());
        var d = DiagGgn.builder(lp).initPrecDiag(1.0).build();
        DiagLaplaceState ds = fit(d, d.init(map), List.of(all));
        try (TensorTree v = s.varianceDiag();
                TensorTree w = ds.varianceDiag()) {
            assertTrue(v.allClose(w, 1e-10, 1e-12));
        }
    }

    @Test
    void builder_diagonalPrior_throws() {
        SequentialBlock block = mlp(false);
        ModelLogPosterior<XY> lp = logPosterior(FunctionalModel.of(block));
        TensorTree map = TensorTree.fromBlock(block).copy(manager);
        assertThrows(
                IllegalArgumentException.class,
                () -> KfacGgn.builder(lp).priorPrecision(PriorPrecision.of(map)));
    }
}
