package io.posteriors.sgmcmc;

import ai.djl.ndarray.NDArray;
import io.posteriors.Checks;
import io.posteriors.State;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.List;

/**
 * The state of {@link Baoa}: the current sample, its momenta, the log posterior and the step count.
 *
 * @param params the current parameters (the sample)
 * @param momenta the momenta, with the parameters' structure
 * @param logPosterior the log posterior evaluated at the parameters before the last step, a scalar
 *     array on the parameters' device (NaN after {@code init}); reading it copies from the device
 * @param step the number of updates done
 */
public record BaoaState(TensorTree params, TensorTree momenta, NDArray logPosterior, long step)
        implements State {

    /**
     * Checks the components.
     *
     * @throws NullPointerException when a component is null
     * @throws IllegalArgumentException when {@code step < 0} or the momenta's structure differs
     *     from the parameters'
     */
    public BaoaState {
        Checks.notNull(params, "params");
        params.requireSameStructure(momenta, "momenta");
        Checks.notNull(logPosterior, "logPosterior");
        Checks.atLeast(step, 0L, "step");
    }

    @Override
    public BaoaState copy() {
        return new BaoaState(params.copy(), momenta.copy(), logPosterior.duplicate(), step);
    }

    @Override
    public List<NDArray> arrays() {
        List<NDArray> all = new ArrayList<>(params.leaves());
        all.addAll(momenta.leaves());
        all.add(logPosterior);
        return all;
    }
}
