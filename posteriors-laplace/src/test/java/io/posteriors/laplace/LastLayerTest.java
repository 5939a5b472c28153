package io.posteriors.laplace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
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
import io.posteriors.ForwardFn;
import io.posteriors.FunctionalModel;
import io.posteriors.LogLikelihoods;
import io.posteriors.ModelOutput;
import io.posteriors.OuterFn;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.laplace.Fixtures.XY;
import java.util.List;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Last-layer Laplace on a DJL block: only the final {@code Linear} is Bayesian (a subset of the
 * parameter tree), the rest stays fixed at the MAP.
 */
class LastLayerTest {

    private static final int N = 30;
    private static final int IN = 4;
    private static final int HIDDEN = 6;
    private static final int CLASSES = 3;

    private NDManager manager;
    private FunctionalModel model;
    private TensorTree map;
    private TensorTree head;
    private XY data;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(48);
        manager = NDManager.newBaseManager();
        SequentialBlock block = new SequentialBlock();
        block.add(Linear.builder().setUnits(HIDDEN).build());
        block.add(Activation::tanh);
        block.add(Linear.builder().setUnits(CLASSES).build());
        block.initialize(manager, DataType.FLOAT64, new Shape(1, IN));
        model = FunctionalModel.of(block);
        map = TensorTree.fromBlock(block).copy(manager);
        // the last Linear's leaves: the last name without its "_weight" / "_bias" suffix
        List<String> names = map.names();
        String last = names.get(names.size() - 1);
        String prefix = last.substring(0, last.lastIndexOf('_') + 1);
        head = map.subset(n -> n.startsWith(prefix));
        NDArray x = manager.randomNormal(new Shape(N, IN)).toType(DataType.FLOAT64, false);
        NDArray y = manager.randomInteger(0, CLASSES, new Shape(N), DataType.INT64);
        data = new XY(x, y);
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** The model's logits with the last layer from {@code h} and everything else from the MAP. */
    private ForwardFn<XY> headForward() {
        return (h, b) ->
                ModelOutput.of(model.forward(map.merge(h), new NDList(b.x())).singletonOrThrow());
    }

    private static OuterFn<XY> categorical() {
        return (o, b) -> LogLikelihoods.categorical(o, b.y()).sum();
    }

    /**
     * Σ_i J_i^T (diag(p_i) - p_i p_i^T) J_i + prior I by hand: with features φ_i = tanh(W1 x_i +
     * b1), logit c depends on W2[c, d] through φ_id and on b2[c] with slope 1.
     */
    private double[][] expectedGgn(double prior) {
        String w1 = map.names().get(0);
        String b1 = map.names().get(1);
        double[][] wIn = Fixtures.rows(map.get(w1));
        double[] bIn = map.get(b1).toDoubleArray();
        String w2 = head.names().stream().filter(n -> n.endsWith("weight")).findFirst().get();
        double[][] wOut = Fixtures.rows(map.get(w2));
        double[] bOut =
                map.get(head.names().stream().filter(n -> n.endsWith("bias")).findFirst().get())
                        .toDoubleArray();
        int p = (int) head.numel();
        RealMatrix total = MatrixUtils.createRealIdentityMatrix(p).scalarMultiply(prior);
        for (double[] xi : Fixtures.rows(data.x())) {
            double[] phi = new double[HIDDEN];
            for (int h = 0; h < HIDDEN; h++) {
                double a = bIn[h];
                for (int k = 0; k < IN; k++) {
                    a += wIn[h][k] * xi[k];
                }
                phi[h] = Math.tanh(a);
            }
            double[] z = new double[CLASSES];
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < CLASSES; c++) {
                z[c] = bOut[c];
                for (int h = 0; h < HIDDEN; h++) {
                    z[c] += wOut[c][h] * phi[h];
                }
                max = Math.max(max, z[c]);
            }
            double[] prob = new double[CLASSES];
            double sum = 0;
            for (int c = 0; c < CLASSES; c++) {
                prob[c] = Math.exp(z[c] - max);
                sum += prob[c];
            }
            double[][] hess = new double[CLASSES][CLASSES];
            for (int c = 0; c < CLASSES; c++) {
                prob[c] /= sum;
            }
            for (int c = 0; c < CLASSES; c++) {
                for (int d = 0; d < CLASSES; d++) {
                    hess[c][d] = (c == d ? prob[c] : 0) - prob[c] * prob[d];
                }
            }
            double[][] jac = new double[CLASSES][p];
            int offset = 0;
            for (String name : head.names()) {
                for (int c = 0; c < CLASSES; c++) {
                    if (name.endsWith("weight")) {
                        for (int h = 0; h < HIDDEN; h++) {
                            jac[c][offset + c * HIDDEN + h] = phi[h];
                        }
                    } else {
                        jac[c][offset + c] = 1;
                    }
                }
                offset += (int) head.get(name).size();
            }
            RealMatrix j = new Array2DRowRealMatrix(jac);
            total = total.add(j.transpose().multiply(new Array2DRowRealMatrix(hess)).multiply(j));
        }
        return total.getData();
    }

    @Test
    void denseGgn_lastLayerOnly_equalsClosedFormGgn() {
        assertEquals(2, head.size());
        assertEquals(CLASSES * HIDDEN + CLASSES, head.numel());
        Transform<DenseLaplaceState, XY> t =
                DenseGgn.builder(headForward(), categorical()).initPrec(1.0).build();
        DenseLaplaceState s = t.init(head);
        for (XY b : Fixtures.minibatches(data, 8)) {
            s = t.updateInPlace(s, b).state();
        }
        assertEquals(head.numel(), s.prec().getShape().get(0));
        Fixtures.assertMatrixClose(expectedGgn(1.0), Fixtures.matrix(s.prec()), 1e-8);
    }

    @Test
    void diagGgn_lastLayerOnly_equalsDiagonalOfClosedForm() {
        Transform<DiagLaplaceState, XY> t =
                DiagGgn.builder(headForward(), categorical()).initPrecDiag(1.0).build();
        DiagLaplaceState s = t.update(t.init(head), data).state();
        double[][] expected = expectedGgn(1.0);
        double[] actual = s.precDiag().ravel().toDoubleArray();
        for (int i = 0; i < actual.length; i++) {
            assertEquals(expected[i][i], actual[i], 1e-8 * expected[i][i], "entry " + i);
        }
    }

    @Test
    void samples_mergeIntoTheMapTree_restStaysFixed() {
        Transform<DenseLaplaceState, XY> t =
                DenseGgn.builder(headForward(), categorical()).initPrec(1.0).build();
        DenseLaplaceState s = t.update(t.init(head), data).state();
        TensorTree draws = s.sample(5);
        for (int i = 0; i < 5; i++) {
            final int k = i;
            TensorTree full = map.merge(draws.map(a -> a.get(k)));
            for (String name : map.names()) {
                if (!head.contains(name)) {
                    assertSame(map.get(name), full.get(name), "non-head leaf " + name);
                }
            }
            NDArray logits = model.forward(full, new NDList(data.x())).singletonOrThrow();
            assertEquals(new Shape(N, CLASSES), logits.getShape());
        }
        assertTrue(s.params().allClose(head, 0, 0), "the head's mean is the MAP's head");
    }
}
