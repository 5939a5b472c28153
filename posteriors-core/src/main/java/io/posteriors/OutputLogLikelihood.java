package io.posteriors;

import ai.djl.ndarray.NDArray;

/**
 * A per-sample log likelihood of a model's outputs given the batch, for example {@code (o, b) ->
 * LogLikelihoods.categorical(o, b.y())}.
 *
 * <p>It sees the outputs and the batch only, never the parameters: that is what lets {@link
 * ModelLogPosterior} compute per-sample gradients by the fast path.
 *
 * @param <B> the batch type
 */
@FunctionalInterface
public interface OutputLogLikelihood<B> {

    /**
     * Evaluates the log likelihood of each sample.
     *
     * @param outputs the model outputs, batch-first
     * @param batch the batch
     * @return a vector with one log likelihood per sample
     */
    NDArray apply(NDArray outputs, B batch);
}
