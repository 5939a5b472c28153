package io.posteriors;

import ai.djl.ndarray.NDArray;

/**
 * A scalar function of a model's outputs given the batch, such as a loss {@code L(outputs, y)} or a
 * log likelihood, whose Hessian with respect to the outputs enters a generalised Gauss-Newton
 * matrix {@code J^T (d^2 L / d outputs^2) J}.
 *
 * @param <B> the batch type
 */
@FunctionalInterface
public interface OuterFn<B> {

    /**
     * Evaluates the function.
     *
     * @param outputs the model outputs (batch-first)
     * @param batch the batch of data
     * @return a scalar
     */
    NDArray apply(NDArray outputs, B batch);
}
