package io.posteriors.spark;

import ai.djl.ndarray.NDManager;
import io.posteriors.Checks;

/**
 * What a chain or ensemble member is told when its Spark task runs it.
 *
 * @param index the chain's index, {@code 0 ≤ index < chains}: the same on every attempt
 * @param seed the seed the engine's generator was set to before the recipe was called, {@link
 *     SparkChains#chainSeed(long, int)} of the run's seed and {@code index}; use it to seed any
 *     other generator (data shuffling) so that a retried task repeats itself
 * @param manager the task's manager: create every array on it (or its sub-managers); it is closed
 *     when the task ends, after the result has been serialised
 */
public record ChainContext(int index, int seed, NDManager manager) {

    /**
     * Checks the components.
     *
     * @throws IllegalArgumentException when {@code index} is negative
     * @throws NullPointerException when {@code manager} is null
     */
    public ChainContext {
        Checks.atLeast(index, 0, "index");
        Checks.notNull(manager, "manager");
    }
}
