package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.util.Objects;

/**
 * What a forward function returns: the outputs (batch-first) and any aux.
 *
 * @param output the outputs, with dimension 0 indexing the samples of the batch
 * @param aux anything else the model call returned; may be empty, never null
 */
public record ModelOutput(NDArray output, NDList aux) {

    /**
     * Checks that neither component is null.
     *
     * @throws NullPointerException when a component is null
     */
    public ModelOutput {
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(aux, "aux");
    }

    /**
     * Returns outputs without aux.
     *
     * @param output the outputs
     * @return the pair
     */
    public static ModelOutput of(NDArray output) {
        return new ModelOutput(output, new NDList());
    }
}
