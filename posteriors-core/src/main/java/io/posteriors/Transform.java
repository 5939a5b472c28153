package io.posteriors;

/**
 * An algorithm as two functions, {@code init} and {@code update}, like a posteriors {@code
 * Transform} or an optax gradient transformation.
 *
 * <p>Every method in this library builds one, so moving from optimisation to a posterior is a
 * change of one line:
 *
 * <pre>{@code
 * Transform<SghmcState, Batch> t = Sghmc.builder(logPosterior, 1e-2).temperature(1.0 / n).build();
 * SghmcState state = t.init(params);
 * for (Batch batch : batches) {
 *     state = t.updateInPlace(state, batch).state();   // long loops: reuses the tensors
 * }
 * }</pre>
 *
 * <p>{@link #update} is pure: the input state is untouched and the returned state owns new arrays,
 * so the caller closes whichever of the two it no longer needs. {@link #updateInPlace} writes the
 * new values into the input state's arrays and returns a state record that shares them, with the
 * step count advanced: keep the returned record, since records cannot change their step count.
 *
 * @param <S> the state type
 * @param <B> the batch type
 */
public interface Transform<S extends State, B> {

    /**
     * Builds the initial state around {@code params}. The state takes its own copies of the
     * parameters, so the caller's arrays are never written to.
     *
     * @param params the initial parameters
     * @return the state at step 0
     */
    S init(TensorTree params);

    /**
     * Computes the next state without touching {@code state}: {@link #updateInPlace} on a {@link
     * State#copy()}, which is closed again if the update fails.
     *
     * @param state the current state
     * @param batch the batch of data
     * @return the new state (new arrays) and the aux of the model call
     * @throws NullPointerException when {@code state} is null
     * @throws IllegalStateException when an array of {@code state} is closed
     * @throws IllegalArgumentException for the reasons {@link #updateInPlace} gives
     */
    default Step<S> update(S state, B batch) {
        Checks.open(state);
        @SuppressWarnings("unchecked") // State#copy returns the record's own type
        S copy = (S) state.copy();
        try {
            return updateInPlace(copy, batch);
        } catch (RuntimeException | Error e) {
            copy.close();
            throw e;
        }
    }

    /**
     * Computes the next state by writing into the arrays of {@code state}.
     *
     * @param state the current state; its arrays are overwritten
     * @param batch the batch of data
     * @return a state record sharing the arrays of {@code state}, with the step advanced, and the
     *     aux of the model call
     */
    Step<S> updateInPlace(S state, B batch);
}
