package io.posteriors;

import ai.djl.ndarray.NDList;
import java.util.Objects;

/**
 * What an update returns: the new state and the aux of the model call made during the update.
 *
 * @param state the new state
 * @param aux the aux returned by the log density during the update (for example logits); the caller
 *     owns and may close it
 * @param <S> the state type
 */
public record Step<S extends State>(S state, NDList aux) {

    /**
     * Checks that neither component is null.
     *
     * @throws NullPointerException when a component is null
     */
    public Step {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(aux, "aux");
    }
}
