package io.posteriors.sgmcmc;

import ai.djl.ndarray.NDArray;
import io.posteriors.Checks;
import io.posteriors.State;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.List;

/**
 * The state of {@link Sgnht}: the current sample, its momenta, the thermostat, the log posterior
 * and the step count.
 *
 * @param params the current parameters (the sample)
 * @param momenta the momenta, with the parameters' structure
 * @param xi the thermostat {@code ξ}, the adaptive friction: a scalar array on the parameters'
 *     device
 * @param logPosterior the log posterior evaluated at the parameters before the last step, a scalar
 *     array on the parameters' device (NaN after {@code init}); reading it copies from the device
 * @param step the number of updates done
 */
public record SgnhtState(
        TensorTree params, TensorTree momenta, NDArray xi, NDArray logPosterior, long step)
        implements State {

    /**
     * Checks the components.
     *
     * @throws NullPointerException when a component is null
     * @throws IllegalArgumentException when {@code step < 0}, the momenta's structure differs from
     *     the parameters' or {@code xi} is not a scalar
     */
    public SgnhtState {
        Checks.notNull(params, "params");
        params.requireSameStructure(momenta, "momenta");
        Checks.notNull(xi, "xi");
        if (xi.size() != 1) {
            throw new IllegalArgumentException(
                    Checks.format("xi must be a scalar, got shape %s", xi.getShape()));
        }
        Checks.notNull(logPosterior, "logPosterior");
        Checks.atLeast(step, 0L, "step");
    }

    @Override
    public SgnhtState copy() {
        return new SgnhtState(
                params.copy(), momenta.copy(), xi.duplicate(), logPosterior.duplicate(), step);
    }

    @Override
    public List<NDArray> arrays() {
        List<NDArray> all = new ArrayList<>(params.leaves());
        all.addAll(momenta.leaves());
        all.add(xi);
        all.add(logPosterior);
        return all;
    }
}
