package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * The trace collector with a deterministic transform (each update adds the batch to every
 * parameter), so the kept states are known exactly; the samplers' traces are tested in
 * posteriors-sgmcmc.
 */
class TraceTest {

    /** The state of {@link #ADD}: the parameters and the update count. */
    private record Counter(TensorTree params, long step) implements State {
        @Override
        public List<NDArray> arrays() {
            return params.leaves();
        }

        @Override
        public Counter copy() {
            return new Counter(params.copy(), step);
        }
    }

    /** Adds the batch to every parameter; fails on a NaN batch. */
    private static final Transform<Counter, Double> ADD =
            new Transform<>() {
                @Override
                public Counter init(TensorTree params) {
                    return new Counter(params.copy(), 0);
                }

                @Override
                public Step<Counter> updateInPlace(Counter state, Double batch) {
                    if (batch.isNaN()) {
                        throw new IllegalArgumentException("nan batch");
                    }
                    state.params().forEach((k, a) -> a.addi(batch));
                    return new Step<>(new Counter(state.params(), state.step() + 1), new NDList());
                }
            };

    @AutoClose private final NDManager manager = NDManager.newBaseManager();

    private TensorTree start(double x) {
        return TensorTree.of(manager.full(new Shape(2), (float) x, DataType.FLOAT64));
    }

    private static double[] firstEntries(SamplePosterior p) {
        return p.samples().anyLeaf().get(":, 0").toDoubleArray();
    }

    @Test
    void posterior_poolsTheKeptStatesOfEveryChain_andOutlivesTheResult() {
        // 10 updates, burn-in 4, thin 3: updates 7 and 10 are kept
        Trace<Counter, Double> trace = Trace.builder(ADD, 10).burnIn(4).thin(3).build();
        SamplePosterior pooled;
        SamplePosterior second;
        try (TraceResult<Counter> r = trace.run(List.of(start(0), start(100)), List.of(1.0))) {
            assertEquals(new Shape(2, 2, 2), r.samples().anyLeaf().getShape());
            pooled = r.posterior();
            second = r.posterior(1);
            assertThrows(IndexOutOfBoundsException.class, () -> r.posterior(2));
        }
        try (pooled;
                second) {
            assertEquals(4, pooled.size());
            assertArrayEquals(new double[] {7, 10, 107, 110}, firstEntries(pooled), 0.0);
            assertArrayEquals(new double[] {58.5, 58.5}, pooled.mean().anyLeaf().toDoubleArray());
            assertEquals(2, second.size());
            assertArrayEquals(new double[] {107, 110}, firstEntries(second), 0.0);
        }
    }

    @Test
    void posterior_withoutKeptSamples_throws() {
        Trace<Counter, Double> trace = Trace.builder(ADD, 5).keepSamples(false).build();
        try (TraceResult<Counter> r = trace.run(start(0), List.of(1.0))) {
            assertThrows(IllegalStateException.class, r::posterior);
            assertThrows(IllegalStateException.class, () -> r.posterior(0));
        }
    }

    /** Records every call as a string. */
    private static final class Recorder implements TraceListener {
        final List<String> calls = new ArrayList<>();

        @Override
        public void onStart(int chains, long stepsPerChain) {
            calls.add("start " + chains + "x" + stepsPerChain);
        }

        @Override
        public void onStep(int chain, long step) {
            calls.add(chain + ":" + step);
        }

        @Override
        public void onChainDone(int chain) {
            calls.add("done " + chain);
        }

        @Override
        public void onEnd(boolean completed) {
            calls.add("end " + completed);
        }
    }

    @Test
    void listener_seesEveryUpdateAndChainInOrder() {
        Recorder recorder = new Recorder();
        Trace<Counter, Double> trace = Trace.builder(ADD, 2).listener(recorder).build();
        trace.run(List.of(start(0), start(1)), List.of(1.0)).close();
        assertEquals(
                List.of("start 2x2", "0:1", "0:2", "done 0", "1:1", "1:2", "done 1", "end true"),
                recorder.calls);
        assertThrows(NullPointerException.class, () -> Trace.builder(ADD, 2).listener(null));
    }

    @Test
    void listener_isToldOfAFailedRun_andNoArrayLeaks() {
        Recorder recorder = new Recorder();
        Trace<Counter, Double> trace = Trace.builder(ADD, 3).listener(recorder).build();
        TensorTree init = start(0);
        int before = manager.getManagedArrays().size();
        assertThrows(
                IllegalArgumentException.class,
                () -> trace.run(List.of(init, init), List.of(1.0, 1.0, Double.NaN)));
        assertEquals(List.of("start 2x3", "0:1", "0:2", "end false"), recorder.calls, "calls");
        assertEquals(before, manager.getManagedArrays().size(), "arrays left after a failed run");
    }
}
