package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.util.Objects;

/**
 * The value of a log density and what the model call returned beside it.
 *
 * @param value the log probability: a scalar, or a vector with one entry per sample when the method
 *     is told {@code perSample}
 * @param aux what the model call returned beside it (for example the logits); may be empty, never
 *     null
 */
public record LogProb(NDArray value, NDList aux) {

    /**
     * Checks that neither component is null.
     *
     * @throws NullPointerException when a component is null
     */
    public LogProb {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(aux, "aux");
    }

    /**
     * Returns a log probability without aux.
     *
     * @param value the log probability
     * @return the pair
     */
    public static LogProb of(NDArray value) {
        return new LogProb(value, new NDList());
    }

    /**
     * Returns a log probability with aux arrays.
     *
     * @param value the log probability
     * @param aux the aux arrays
     * @return the pair
     */
    public static LogProb of(NDArray value, NDArray... aux) {
        return new LogProb(value, new NDList(aux));
    }
}
