package io.posteriors.laplace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.laplace.Fixtures.XY;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DenseHessianTest {

    private static final int N = 40;

    private NDManager manager;
    private TensorTree params;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(46);
        manager = NDManager.newBaseManager();
        params = Fixtures.params(manager);
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /**
     * The regression log posterior of a batch, summed over it, with the batch's share n_b / N of
     * the log prior, so that the batches of one pass add up to the full log posterior.
     */
    private static LogProbFn<XY> summedLogPosterior() {
        return (p, b) -> {
            NDArray o = Fixtures.linear().apply(p, b).output();
            NDArray ll = Fixtures.gaussianLogLik(o, b.y(), Fixtures.SIGMA).sum();
            NDArray prior = Fixtures.logPrior(p, Fixtures.TAU);
            return LogProb.of(
                    ll.add(prior.mul(Fixtures.constant(prior, (double) b.size() / N))), o);
        };
    }

    @Test
    void update_bayesianLinearRegression_equalsClosedFormPrecision() {
        XY data = Fixtures.regression(manager, N);
        double[][] expected = DenseGgnTest.linearPosteriorPrecision(data);
        Transform<DenseLaplaceState, XY> t = DenseHessian.builder(summedLogPosterior()).build();
        DenseLaplaceState mini = t.init(params);
        for (XY b : Fixtures.minibatches(data, 10)) {
            mini = t.updateInPlace(mini, b).state();
        }
        Fixtures.assertMatrixClose(expected, Fixtures.matrix(mini.prec()), 1e-4);
        DenseLaplaceState full = t.update(t.init(params), data).state();
        Fixtures.assertMatrixClose(expected, Fixtures.matrix(full.prec()), 1e-4);
        assertTrue(full.params().allClose(params, 0, 0), "the mean does not move");
    }

    @Test
    void update_meanLogPosteriorWithRescale_equalsClosedFormPrecision() {
        XY data = Fixtures.regression(manager, N);
        int batch = 10;
        // mean log likelihood + log prior / N per batch; times the batch size it is the summed
        // form above
        LogProbFn<XY> mean =
                (p, b) -> {
                    NDArray o = Fixtures.linear().apply(p, b).output();
                    NDArray ll = Fixtures.gaussianLogLik(o, b.y(), Fixtures.SIGMA).mean();
                    NDArray prior = Fixtures.logPrior(p, Fixtures.TAU);
                    return LogProb.of(ll.add(prior.mul(Fixtures.constant(prior, 1.0 / N))));
                };
        Transform<DenseLaplaceState, XY> t = DenseHessian.builder(mean).rescale(batch).build();
        DenseLaplaceState s = t.init(params);
        for (XY b : Fixtures.minibatches(data, batch)) {
            s = t.updateInPlace(s, b).state();
        }
        Fixtures.assertMatrixClose(
                DenseGgnTest.linearPosteriorPrecision(data), Fixtures.matrix(s.prec()), 1e-4);
    }

    @Test
    void update_logisticRegression_hessianEqualsFisher() {
        // with the canonical link the Hessian of the negative log likelihood is the Fisher
        XY data = Fixtures.logistic(manager, N);
        LogProbFn<XY> logLik =
                (p, b) ->
                        LogProb.of(
                                Fixtures.bernoulliOuter()
                                        .apply(Fixtures.linear().apply(p, b).output(), b));
        DenseLaplaceState s =
                DenseHessian.builder(logLik)
                        .build()
                        .update(DenseHessian.builder(logLik).build().init(params), data)
                        .state();
        Fixtures.assertMatrixClose(
                DenseGgnTest.logisticFisher(params, data), Fixtures.matrix(s.prec()), 1e-6);
    }

    @Test
    void update_epsilon_addsToTheDiagonalOfEveryBatch() {
        XY data = Fixtures.regression(manager, N);
        Transform<DenseLaplaceState, XY> plain = DenseHessian.builder(summedLogPosterior()).build();
        Transform<DenseLaplaceState, XY> jitter =
                DenseHessian.builder(summedLogPosterior()).epsilon(0.25).build();
        DenseLaplaceState a = plain.init(params);
        DenseLaplaceState b = jitter.init(params);
        for (XY batch : Fixtures.minibatches(data, 10)) {
            a = plain.updateInPlace(a, batch).state();
            b = jitter.updateInPlace(b, batch).state();
        }
        double[][] ma = Fixtures.matrix(a.prec());
        double[][] mb = Fixtures.matrix(b.prec());
        for (int i = 0; i < ma.length; i++) {
            for (int j = 0; j < ma.length; j++) {
                assertEquals(ma[i][j] + (i == j ? 4 * 0.25 : 0), mb[i][j], 1e-9);
            }
        }
    }

    @Test
    void update_nonFiniteHessian_throwsNamingEntryAndLeavesStateUnchanged() {
        // -sum w^1.5 is finite with a finite gradient at w = 0, but its Hessian is infinite there
        LogProbFn<XY> f =
                (p, b) ->
                        LogProb.of(
                                p.get("w")
                                        .pow(Fixtures.constant(p.get("w"), 1.5))
                                        .sum()
                                        .neg()
                                        .add(p.get("b")));
        Transform<DenseLaplaceState, XY> t = DenseHessian.builder(f).initPrec(2).build();
        DenseLaplaceState s = t.init(params.zerosLike());
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> t.updateInPlace(s, Fixtures.regression(manager, 4)));
        assertTrue(
                e.getMessage().contains("not finite")
                        && e.getMessage().contains("element 0 of leaf 'w'"),
                e.getMessage());
        assertEquals(0, s.step());
        assertEquals(2.0, s.prec().getDouble(0, 0), "the state is unchanged");
    }

    @Test
    void sample_indefiniteHessian_throwsWithRemedies_andEpsilonFixesIt() {
        // log p = +|θ|² has negative-definite -∇² log p = -2 I
        LogProbFn<XY> convexUp = (p, b) -> LogProb.of(Fixtures.logPrior(p, 1.0).neg());
        XY data = Fixtures.regression(manager, 4);
        Transform<DenseLaplaceState, XY> t = DenseHessian.builder(convexUp).build();
        DenseLaplaceState s = t.update(t.init(params), data).state();
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> s.sample(3));
        assertTrue(
                e.getMessage().contains("not positive definite")
                        && e.getMessage().contains("epsilon")
                        && e.getMessage().contains("DenseGgn"),
                e.getMessage());
        Transform<DenseLaplaceState, XY> fixed = DenseHessian.builder(convexUp).epsilon(3).build();
        DenseLaplaceState ok = fixed.update(fixed.init(params), data).state();
        assertEquals(3, ok.sample(3).get("w").getShape().get(0));
    }

    @Test
    void build_badOptions_throw() {
        var b = DenseHessian.builder(summedLogPosterior());
        assertThrows(IllegalArgumentException.class, () -> b.epsilon(-1));
        assertThrows(IllegalArgumentException.class, () -> b.rescale(0));
        assertThrows(IllegalArgumentException.class, () -> b.rescale(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> b.initPrec(-1));
        assertThrows(NullPointerException.class, () -> DenseHessian.builder(null));
    }
}
