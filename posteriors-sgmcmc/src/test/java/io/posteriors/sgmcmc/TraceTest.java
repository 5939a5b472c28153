package io.posteriors.sgmcmc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.Scalars;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Trace;
import io.posteriors.TraceListener;
import io.posteriors.TraceResult;
import io.posteriors.Transform;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The trace collector against hand-written loops under the same seed. */
class TraceTest {

    private static final int STEPS = 20;
    private static final int BURN_IN = 5;
    private static final int THIN = 3;

    private static Transform<SghmcState, Regression.Batch> sampler() {
        return Sghmc.builder(Regression.logPosterior(), 0.05).alpha(0.5).temperature(0.1).build();
    }

    /** The kept params and log posteriors of chains run by hand, one after the other. */
    private record Manual(List<List<TensorTree>> params, List<List<Double>> logPosteriors) {}

    private static Manual manual(
            Transform<SghmcState, Regression.Batch> t,
            List<TensorTree> inits,
            List<Regression.Batch> batches) {
        List<List<TensorTree>> params = new ArrayList<>();
        List<List<Double>> lps = new ArrayList<>();
        for (TensorTree init : inits) {
            List<TensorTree> p = new ArrayList<>();
            List<Double> lp = new ArrayList<>();
            SghmcState s = t.init(init);
            for (int step = 1; step <= STEPS; step++) {
                Step<SghmcState> next =
                        t.updateInPlace(s, batches.get((step - 1) % batches.size()));
                next.aux().close();
                s = next.state();
                if (step > BURN_IN && (step - BURN_IN) % THIN == 0) {
                    p.add(s.params().copy());
                    lp.add(Scalars.value(s.logPosterior()));
                }
            }
            params.add(p);
            lps.add(lp);
        }
        return new Manual(params, lps);
    }

    @Test
    void run_burnInThinningAndChains_keepTheSameStatesAsAHandWrittenLoop() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(41);
            List<Regression.Batch> batches =
                    List.of(
                            Regression.batch(m, DataType.FLOAT32),
                            Regression.batch(m, DataType.FLOAT32));
            List<TensorTree> inits =
                    List.of(
                            Regression.params(m, DataType.FLOAT32),
                            Regression.params(m, DataType.FLOAT32).map(a -> a.add(1)),
                            Regression.params(m, DataType.FLOAT32).map(a -> a.sub(1)));
            Transform<SghmcState, Regression.Batch> t = sampler();
            Engine.getInstance().setRandomSeed(42);
            Manual expected = manual(t, inits, batches);
            Trace<SghmcState, Regression.Batch> trace =
                    Trace.builder(t, STEPS)
                            .burnIn(BURN_IN)
                            .thin(THIN)
                            .scalar("logPosterior", SghmcState::logPosterior)
                            .coordinates(3, 0)
                            .build();
            assertEquals(5, trace.keptPerChain()); // updates 8, 11, 14, 17, 20
            Engine.getInstance().setRandomSeed(42);
            try (TraceResult<SghmcState> r = trace.run(inits, batches)) {
                assertEquals(3, r.chains());
                assertEquals(5, r.keptPerChain());
                assertEquals(new Shape(3, 5, 3), r.samples().get("w").getShape());
                assertEquals(new Shape(3, 5), r.samples().get("b").getShape());
                double[][] lp = r.scalar("logPosterior");
                double[][] bias = r.coordinate(3);
                double[][] w0 = r.coordinate(0);
                double[][] w1 = r.coordinate(1); // not recorded: read from the stored samples
                for (int c = 0; c < 3; c++) {
                    for (int i = 0; i < 5; i++) {
                        TensorTree want = expected.params().get(c).get(i);
                        for (String k : want.names()) {
                            NDArray got = r.samples().get(k).get(new NDIndex("{}, {}", c, i));
                            assertTrue(
                                    got.contentEquals(want.get(k)), k + " chain " + c + " #" + i);
                        }
                        assertEquals(expected.logPosteriors().get(c).get(i), lp[c][i], 0.0);
                        assertEquals(want.get("b").toFloatArray()[0], bias[c][i], 0.0);
                        assertEquals(want.get("w").toFloatArray()[0], w0[c][i], 0.0);
                        assertEquals(want.get("w").toFloatArray()[1], w1[c][i], 0.0);
                    }
                    SghmcState last = r.finalStates().get(c);
                    assertEquals(STEPS, last.step());
                    assertTrue(last.params().allClose(expected.params().get(c).get(4), 0, 0));
                }
            }
        }
    }

    @Test
    void run_batches_areCycledFromTheStartForEveryChain() {
        List<Integer> seen = new ArrayList<>();
        LogProbFn<Integer> lp =
                (p, batch) -> {
                    seen.add(batch);
                    return LogProb.of(p.get("x").square().sum().mul(-0.5));
                };
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(43);
            Trace<SgldState, Integer> trace =
                    Trace.builder(Sgld.builder(lp, 0.1).build(), 5).build();
            TensorTree x = TensorTree.of(m.zeros(new Shape(2)));
            try (TraceResult<SgldState> r = trace.run(List.of(x, x), List.of(7, 8))) {
                assertEquals(List.of(7, 8, 7, 8, 7, 7, 8, 7, 8, 7), seen);
                assertEquals(5, r.keptPerChain());
            }
        }
    }

    @Test
    void run_streamingMoments_equalTheMomentsOfTheStoredSamples() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(44);
            Regression.Batch batch = Regression.batch(m, DataType.FLOAT32);
            List<TensorTree> inits =
                    List.of(
                            Regression.params(m, DataType.FLOAT32),
                            Regression.params(m, DataType.FLOAT32));
            Trace<SghmcState, Regression.Batch> full =
                    Trace.builder(sampler(), 200).burnIn(20).thin(2).moments(true).build();
            try (TraceResult<SghmcState> r = full.run(inits, List.of(batch));
                    NDArray mean = r.mean();
                    NDArray cov = r.covariance()) {
                // pooled samples as rows of raveled trees, in float64
                NDArray w = r.samples().get("w").reshape(-1, 3);
                NDArray b = r.samples().get("b").reshape(-1, 1);
                NDArray rows = w.concat(b, 1).toType(DataType.FLOAT64, false);
                NDArray mu = rows.mean(new int[] {0});
                NDArray centred = rows.sub(mu);
                NDArray c = centred.transpose().matMul(centred).div(rows.getShape().get(0) - 1);
                assertTrue(mean.allClose(mu, 1e-9, 1e-9, false), mean + " vs " + mu);
                assertTrue(cov.allClose(c, 1e-9, 1e-9, false), cov + " vs " + c);
                assertEquals(new Shape(4, 4), cov.getShape());
            }
            Trace<SghmcState, Regression.Batch> diag =
                    Trace.builder(sampler(), 50).moments(false).keepSamples(false).build();
            try (TraceResult<SghmcState> r = diag.run(inits, List.of(batch));
                    NDArray var = r.covariance()) {
                assertEquals(new Shape(4), var.getShape());
                assertThrows(IllegalStateException.class, r::samples);
                assertThrows(IllegalArgumentException.class, () -> r.coordinate(0));
            }
        }
    }

    @Test
    void run_withoutStoredSamples_recordsChosenCoordinatesAndLeaksNothing() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(45);
            Regression.Batch batch = Regression.batch(m, DataType.FLOAT32);
            TensorTree init = Regression.params(m, DataType.FLOAT32);
            Trace<SghmcState, Regression.Batch> trace =
                    Trace.builder(sampler(), 30)
                            .keepSamples(false)
                            .coordinates(2)
                            .scalar("sum", s -> s.params().get("w").sum())
                            .build();
            int before = m.getManagedArrays().size();
            try (TraceResult<SghmcState> r = trace.run(init, List.of(batch))) {
                assertEquals(30, r.coordinate(2)[0].length);
                assertThrows(IllegalStateException.class, r::mean);
                assertThrows(IllegalArgumentException.class, () -> r.scalar("nope"));
            }
            assertEquals(before, m.getManagedArrays().size(), "arrays left after close");
        }
    }

    /**
     * SGLD on N(0, 1) with step ε is the AR(1) chain x' = (1 − ε) x + sqrt(2ε) z, so the integrated
     * autocorrelation time is (2 − ε) / ε = 3 for ε = 0.5 and the ESS of 4 chains of 2,500 kept
     * draws is 10,000 / 3. Sokal's relative standard error with a window of about 10 lags is sqrt(2
     * · 21 / 10,000) = 6.5%; the tolerance is 35%. The chains start at the target, so split R-hat
     * is 1 up to O(τ / n).
     */
    @Test
    void run_essAndSplitRhatOfAnSgldChain_matchTheAr1ClosedForm() {
        LogProbFn<Void> lp = (p, b) -> LogProb.of(p.get("x").square().sum().mul(-0.5));
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(46);
            List<TensorTree> inits = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                inits.add(TensorTree.of(m.randomNormal(new Shape(1))));
            }
            List<String> progress = new ArrayList<>();
            TraceListener listener =
                    new TraceListener() {
                        @Override
                        public void onStart(int chains, long stepsPerChain) {
                            progress.add("start " + chains + " x " + stepsPerChain);
                        }

                        @Override
                        public void onStep(int chain, long step) {
                            if (step % 1_000 == 0) {
                                progress.add(chain + ":" + step);
                            }
                        }

                        @Override
                        public void onChainDone(int chain) {
                            progress.add("done " + chain);
                        }

                        @Override
                        public void onEnd(boolean completed) {
                            progress.add("end " + completed);
                        }
                    };
            Trace<SgldState, Void> trace =
                    Trace.builder(Sgld.<Void>builder(lp, 0.5).build(), 2_500)
                            .scalar("logPosterior", SgldState::logPosterior)
                            .listener(listener)
                            .build();
            try (TraceResult<SgldState> r = trace.run(inits, Collections.singletonList(null))) {
                double expected = 10_000 / 3.0;
                double ess = r.coordinateEss(0);
                assertEquals(expected, ess, 0.35 * expected, "ess " + ess);
                double rhat = r.coordinateSplitRhat(0);
                assertTrue(Math.abs(rhat - 1) < 0.01, "rhat " + rhat);
                assertTrue(r.ess("logPosterior") > 500);
                assertTrue(Math.abs(r.splitRhat("logPosterior") - 1) < 0.01);
            }
            List<String> expected = new ArrayList<>(List.of("start 4 x 2500"));
            for (int c = 0; c < 4; c++) {
                expected.addAll(List.of(c + ":1000", c + ":2000", "done " + c));
            }
            expected.add("end true");
            assertEquals(expected, progress);
        }
    }

    @Test
    void scalar_copiesAreIndependentOfTheResult() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(47);
            Regression.Batch batch = Regression.batch(m, DataType.FLOAT32);
            Trace<SghmcState, Regression.Batch> trace =
                    Trace.builder(sampler(), 10).scalar("lp", SghmcState::logPosterior).build();
            try (TraceResult<SghmcState> r =
                    trace.run(Regression.params(m, DataType.FLOAT32), List.of(batch))) {
                double[][] a = r.scalar("lp");
                a[0][0] = 123;
                assertArrayEquals(
                        new int[] {1, 10}, new int[] {a.length, r.scalar("lp")[0].length});
                assertTrue(r.scalar("lp")[0][0] != 123);
            }
        }
    }
}
