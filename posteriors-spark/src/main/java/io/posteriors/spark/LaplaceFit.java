package io.posteriors.spark;

import io.posteriors.Checks;
import io.posteriors.State;

/**
 * The result of a data-parallel Laplace fit.
 *
 * @param state the Laplace state, owned by the caller (on the manager given to {@link
 *     SparkLaplace#fit}): the driver's {@code init} with the prior, plus the curvature summed over
 *     every partition; its {@code step} counts the batches of all partitions
 * @param logLikelihood {@code Σ_i log p(y_i | x_i, θ*)} over every row, the first term of {@code
 *     Evidence.logEvidence}; NaN unless the fit was built with {@code logLikelihood(true)}
 * @param rows the number of rows seen
 * @param stats where the job's time went
 * @param <S> the state type
 */
public record LaplaceFit<S extends State>(S state, double logLikelihood, long rows, JobStats stats)
        implements AutoCloseable {

    /**
     * Checks the components.
     *
     * @throws NullPointerException when {@code state} or {@code stats} is null
     * @throws IllegalArgumentException when {@code rows} is negative
     */
    public LaplaceFit {
        Checks.notNull(state, "state");
        Checks.notNull(stats, "stats");
        Checks.atLeast(rows, 0L, "rows");
    }

    /** Closes the state's arrays. */
    @Override
    public void close() {
        state.close();
    }
}
