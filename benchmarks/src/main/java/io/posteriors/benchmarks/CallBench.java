package io.posteriors.benchmarks;

import java.util.List;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Times one call of a function of a batch per invocation (a gradient, a Hessian-vector product, a
 * linearised forward pass), on consecutive batches; the function closes what it returns.
 *
 * @param <B> the batch type
 */
@State(Scope.Benchmark)
public abstract class CallBench<B> extends Monitored {

    private List<B> batches;
    private int next;

    /** Creates the state (JMH calls this). */
    protected CallBench() {}

    /**
     * Builds what the calls need (untimed, once per fork) and returns the batches to cycle through.
     *
     * @return the batches
     */
    protected abstract List<B> prepare();

    /**
     * Runs the timed call on a batch and closes its result.
     *
     * @param batch the batch
     */
    protected abstract void invoke(B batch);

    /** Builds what the calls need. */
    @Setup(Level.Trial)
    public void setUpTrial() {
        batches = prepare();
    }

    /** Runs one call. */
    @Benchmark
    public void call() {
        invoke(batches.get(next));
        if (++next == batches.size()) {
            next = 0;
        }
    }
}
