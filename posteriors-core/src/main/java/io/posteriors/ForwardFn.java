package io.posteriors;

/**
 * A model's forward function of the parameters given a batch, returning the outputs (for example
 * logits) and any aux: posteriors' {@code forward(params, batch) -> (output, aux)}.
 *
 * <p>Outputs must be batch-first: dimension 0 indexes the samples of the batch. Used by the GGN
 * products, the diagonal GGN and the linearised forward.
 *
 * @param <B> the batch type
 */
@FunctionalInterface
public interface ForwardFn<B> {

    /**
     * Evaluates the model.
     *
     * @param params the parameters
     * @param batch the batch of data
     * @return the outputs (batch-first) and the aux
     */
    ModelOutput apply(TensorTree params, B batch);
}
