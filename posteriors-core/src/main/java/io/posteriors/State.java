package io.posteriors;

/**
 * The state of an algorithm: its parameters, the step count and whatever else it carries.
 *
 * <p>States are immutable records whose tensors are NDArrays living on the manager and device of
 * the parameters. {@link #close()} frees all of the state's arrays.
 */
public interface State extends AutoCloseable {

    /**
     * Returns the parameters (for Gaussian families, the mean).
     *
     * @return the parameters
     */
    TensorTree params();

    /**
     * Returns the number of updates that led to this state (0 after {@code init}).
     *
     * @return the step count
     */
    long step();

    /**
     * Returns every array the state holds, parameters first, in a fixed order: what {@link
     * #close()} frees and what the shared test contract compares.
     *
     * @return the arrays
     */
    java.util.List<ai.djl.ndarray.NDArray> arrays();

    /**
     * Returns a state with the same values in new arrays, on the same managers and devices: what
     * {@link Transform#update} writes into so that this state stays untouched. Implementations
     * narrow the return type to their own record.
     *
     * @return the copy
     */
    State copy();

    /** Closes every array of the state. */
    @Override
    default void close() {
        arrays().forEach(ai.djl.ndarray.NDArray::close);
    }
}
