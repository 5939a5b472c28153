package io.posteriors;

/**
 * Receives the progress of a {@link Trace} run, for example to draw a progress bar or to log a line
 * per chain. Every method does nothing by default; all are called on the thread that runs the
 * trace, between updates, so a listener should return quickly.
 *
 * <pre>{@code
 * Trace<SghmcState, Batch> trace = Trace.builder(sampler, 20_000)
 *         .listener(new TraceListener() {
 *             @Override
 *             public void onChainDone(int chain) {
 *                 System.err.printf("chain %d done%n", chain);
 *             }
 *         })
 *         .build();
 * }</pre>
 */
public interface TraceListener {

    /**
     * Called once, before the first update.
     *
     * @param chains the number of chains
     * @param stepsPerChain the number of updates of each chain, burn-in included
     */
    default void onStart(int chains, long stepsPerChain) {}

    /**
     * Called after every update.
     *
     * @param chain the chain, counting from 0
     * @param step the update just done, from 1 to {@code stepsPerChain}
     */
    default void onStep(int chain, long step) {}

    /**
     * Called after the last update of a chain.
     *
     * @param chain the chain, counting from 0
     */
    default void onChainDone(int chain) {}

    /**
     * Called once when the run ends, also when it fails (for example to close a progress bar).
     *
     * @param completed whether every chain ran to its last update
     */
    default void onEnd(boolean completed) {}
}
