package io.posteriors.optim;

import ai.djl.ndarray.NDArray;
import io.posteriors.State;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The state of {@link Optimize}: parameters, optimiser state, the last log posterior and the step.
 *
 * @param params the current parameters
 * @param optimState the optimiser's slots
 * @param logPosterior the log posterior at the parameters before the last step (a scalar array on
 *     the parameters' device; NaN after {@code init})
 * @param step the number of updates done
 */
public record OptimizeState(
        TensorTree params, OptimState optimState, NDArray logPosterior, long step)
        implements State {

    /**
     * Checks the components.
     *
     * @throws NullPointerException when a component is null
     * @throws IllegalArgumentException when {@code step < 0}
     */
    public OptimizeState {
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(optimState, "optimState");
        Objects.requireNonNull(logPosterior, "logPosterior");
        if (step < 0) {
            throw new IllegalArgumentException("step must be non-negative, got " + step);
        }
    }

    @Override
    public OptimizeState copy() {
        return new OptimizeState(params.copy(), optimState.copy(), logPosterior.duplicate(), step);
    }

    @Override
    public List<NDArray> arrays() {
        List<NDArray> all = new ArrayList<>(params.leaves());
        optimState.slots().forEach(t -> all.addAll(t.leaves()));
        all.add(logPosterior);
        return all;
    }
}
