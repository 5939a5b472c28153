package io.posteriors;

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
}
