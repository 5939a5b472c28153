package io.posteriors;

import java.util.Optional;

/**
 * A log density of the parameters given a batch, the Java face of the posteriors {@code
 * log_posterior(params, batch) -> (value, aux)} functions.
 *
 * <p>The function must be built from differentiable NDArray operations on the arrays of {@code
 * params}: gradients are taken by autograd. Following posteriors, average the log likelihood over
 * the batch and add the log prior divided by the data set size N, then set the temperature to 1/N;
 * see {@code docs/log-posteriors.md}.
 *
 * @param <B> the batch type
 */
@FunctionalInterface
public interface LogProbFn<B> {

    /**
     * Evaluates the log density.
     *
     * @param params the parameters
     * @param batch the batch of data
     * @return the value (a scalar, or one entry per sample for per-sample methods) and the aux
     */
    LogProb apply(TensorTree params, B batch);

    /**
     * Returns the structure of this log density when it is known: a {@link ModelLogPosterior}
     * computing the same function (a model's per-sample log likelihood plus a scaled prior). The
     * library uses it to find the exact per-sample form ({@link PerSample}) and the Linear-layer
     * fast paths of {@link Autodiff#perSampleGradMoments}; a function without structure (the
     * default, and every lambda) takes the generic exact path. An override must return a function
     * whose values equal this one's.
     *
     * @return the structured form of this function, or empty
     */
    default Optional<ModelLogPosterior<B>> structure() {
        return Optional.empty();
    }
}
