package io.posteriors.optim;

import io.posteriors.TensorTree;
import java.util.List;
import java.util.Objects;

/**
 * The state of a gradient optimiser: its slot trees (momentum, moment estimates) and the number of
 * steps it has taken.
 *
 * @param slots the optimiser's trees, each with the parameters' structure; may be empty
 * @param count the number of steps taken
 */
public record OptimState(List<TensorTree> slots, long count) implements AutoCloseable {

    /**
     * Copies the slot list and checks the count.
     *
     * @throws IllegalArgumentException when {@code count < 0}
     */
    public OptimState {
        slots = List.copyOf(Objects.requireNonNull(slots, "slots"));
        if (count < 0) {
            throw new IllegalArgumentException("count must be non-negative, got " + count);
        }
    }

    /**
     * Returns deep copies of the slots with the same count.
     *
     * @return the copy
     */
    public OptimState copy() {
        return new OptimState(slots.stream().map(TensorTree::copy).toList(), count);
    }

    /** Closes every slot array. */
    @Override
    public void close() {
        slots.forEach(TensorTree::close);
    }
}
