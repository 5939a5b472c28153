package io.posteriors.optim;

import io.posteriors.TensorTree;

/**
 * A first-order optimiser with explicit state, in the style of optax and torchopt: {@code init}
 * builds the state, {@code step} applies one descent step in place.
 *
 * <p>Optimisers minimise: {@code step} moves the parameters against {@code grad}. To maximise a log
 * posterior, pass its negative gradient (the {@link Optimize} transform does this).
 */
public interface GradientOptimizer {

    /**
     * Builds the optimiser state for parameters of this structure (slots start at zero).
     *
     * @param params the parameters
     * @return the state, its arrays on the parameters' manager
     */
    OptimState init(TensorTree params);

    /**
     * Applies one descent step: writes the new parameters into {@code params} and the new slots
     * into {@code state}'s arrays.
     *
     * @param params the parameters, updated in place
     * @param grad the gradient of the objective to minimise, same structure
     * @param state the optimiser state, updated in place
     * @return the state with the count advanced (sharing the slot arrays)
     * @throws IllegalArgumentException when the structures differ
     */
    OptimState stepInPlace(TensorTree params, TensorTree grad, OptimState state);
}
