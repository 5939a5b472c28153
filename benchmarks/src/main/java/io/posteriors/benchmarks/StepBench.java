package io.posteriors.benchmarks;

import ai.djl.ndarray.NDArray;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Times one {@code updateInPlace} of a transform per invocation, on consecutive batches, closing
 * the aux: the loop a user writes. The state is re-initialised (untimed) at the start of every
 * iteration, so each iteration runs a few hundred steps from the same start, as the reference does.
 *
 * @param <S> the state type
 * @param <B> the batch type
 */
@State(Scope.Benchmark)
public abstract class StepBench<S extends io.posteriors.State, B> extends Monitored {

    private Transform<S, B> transform;
    private TensorTree initialParams;
    private List<B> batches;
    private AutoCloseable resources;
    private S state;
    private int next;

    /** Creates the state (JMH calls this). */
    protected StepBench() {}

    /**
     * What a workload times: a transform, where it starts, the batches it cycles through, and what
     * to close at the end.
     *
     * @param transform the transform
     * @param initialParams the parameters passed to {@code init}
     * @param batches the batches, used in order and cyclically
     * @param resources closed at the end of the trial (the problem)
     * @param <S> the state type
     * @param <B> the batch type
     */
    public record Workload<S extends io.posteriors.State, B>(
            Transform<S, B> transform,
            TensorTree initialParams,
            List<B> batches,
            AutoCloseable resources) {}

    /**
     * Builds the workload (untimed, once per fork).
     *
     * @return the workload
     */
    protected abstract Workload<S, B> build();

    /** Builds the workload. */
    @Setup(Level.Trial)
    public void setUpTrial() {
        Workload<S, B> w = build();
        transform = w.transform();
        initialParams = w.initialParams();
        batches = w.batches();
        resources = w.resources();
    }

    /** Starts a fresh chain (untimed). */
    @Setup(Level.Iteration)
    public void resetState() {
        if (state != null) {
            state.close();
        }
        state = transform.init(initialParams);
    }

    /** Takes one in-place step and closes its aux. */
    @Benchmark
    public void step() {
        Step<S> s = transform.updateInPlace(state, batches.get(next));
        s.aux().close();
        state = s.state();
        if (++next == batches.size()) {
            next = 0;
        }
    }

    /** Reports whether every array of the final state is finite: a blown-up chain shows here. */
    @Override
    protected Map<String, Object> extraStats() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (state != null) {
            boolean finite = true;
            for (NDArray a : state.arrays()) {
                if (a.getDataType().isFloating()) {
                    try (NDArray bad = a.isInfinite().logicalOr(a.isNaN());
                            NDArray any = bad.any()) {
                        finite &= !any.getBoolean();
                    }
                }
            }
            m.put("state_finite", finite);
            m.put("state_step", state.step());
        }
        return m;
    }

    @Override
    protected void release() {
        if (state != null) {
            state.close();
            state = null;
        }
        try {
            resources.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the workload failed", e);
        }
    }
}
