package io.posteriors.sgmcmc;

import ai.djl.ndarray.NDList;
import io.posteriors.Checks;
import io.posteriors.FusedOps;
import io.posteriors.InitialValue;
import io.posteriors.LogProbFn;
import io.posteriors.Scalars;
import io.posteriors.Schedule;
import io.posteriors.Step;
import io.posteriors.TemperedBuilder;
import io.posteriors.TensorTree;
import io.posteriors.Transform;

/**
 * BAOA: underdamped Langevin dynamics split into a gradient kick (B), half drifts (A) and an exact
 * Ornstein–Uhlenbeck step on the momenta (O), with one gradient per step.
 *
 * <p>From Leimkuhler and Matthews, "Molecular Dynamics: With Deterministic and Stochastic Numerical
 * Methods" (Springer, 2015), where BAOAB is introduced; BAOA is the same splitting with the two B
 * half-kicks of consecutive steps merged, so its parameter trajectory is BAOAB's with one gradient
 * evaluation per step. The counterpart of posteriors' {@code posteriors.sgmcmc.baoa}. With learning
 * rate {@code ε}, friction {@code α}, momenta standard deviation {@code σ}, temperature {@code T},
 * {@code γ = α σ⁻²} and {@code c = exp(−γ ε)}, one update is
 *
 * <pre>
 * m ← m + ε ∇ log p(θ, batch)                        (B)
 * θ ← θ + (ε / 2) σ⁻² m                              (A)
 * m ← c m + σ sqrt(T (1 − c²)) ξ,   ξ ~ N(0, I)      (O)
 * θ ← θ + (ε / 2) σ⁻² m                              (A)
 * </pre>
 *
 * <p>It targets {@code p_T(θ, m) ∝ exp((log p(θ) − |m|² / (2σ²)) / T)}. The O step samples the
 * momenta's conditional exactly, and for a Gaussian target the stationary law of the parameters is
 * exact for every step size below the stability limit, which makes BAOA(B) the most accurate of the
 * four samplers for a given {@code ε}. There is no gradient-noise correction ({@code β}).
 *
 * <p>At {@code T = 0} no noise is drawn and the O step only damps the momenta: the parameters
 * follow {@link io.posteriors.optim.Sgd} with momentum {@code c} and learning rate {@code (ε² /
 * (2σ²)) (1 + c)}, from a zero buffer when the momenta start at zero.
 *
 * <pre>{@code
 * Transform<BaoaState, Batch> t =
 *         Baoa.builder(logPosterior, 1e-2).alpha(1.0).temperature(1.0 / n).build();
 * }</pre>
 *
 * @param <B> the batch type
 * @param logPosterior the log posterior (a scalar per batch)
 * @param lr the learning rate {@code ε}, positive at every step
 * @param alpha the friction {@code α}; non-negative
 * @param sigma the standard deviation {@code σ} of the momenta's target distribution ({@code σ²} is
 *     the mass); positive
 * @param temperature the temperature {@code T}, non-negative at every step
 * @param momenta the initial momenta: standard normal draws (posteriors' default), one number or a
 *     tree shaped like the parameters
 */
public record Baoa<B>(
        LogProbFn<B> logPosterior,
        Schedule lr,
        double alpha,
        double sigma,
        Schedule temperature,
        InitialValue momenta)
        implements Transform<BaoaState, B> {

    /**
     * Checks the options. The schedules are checked at step 0 by the builder and at every step by
     * the update.
     *
     * @throws NullPointerException when {@code logPosterior}, a schedule or {@code momenta} is null
     * @throws IllegalArgumentException when {@code alpha} is negative or not finite, {@code sigma}
     *     is not positive and finite, or {@code momenta} is a matrix
     */
    public Baoa {
        Support.checkMomentumOptions(logPosterior, lr, temperature, alpha, 0.0, sigma, momenta);
    }

    /**
     * Starts a builder with a constant learning rate.
     *
     * @param logPosterior the log posterior (a scalar per batch)
     * @param lr the learning rate {@code ε}; positive and finite
     * @param <B> the batch type
     * @return the builder
     * @throws IllegalArgumentException when {@code lr} is not positive and finite
     * @throws NullPointerException when {@code logPosterior} is null
     */
    public static <B> Builder<B> builder(LogProbFn<B> logPosterior, double lr) {
        return new Builder<>(logPosterior, Schedule.constant(Checks.positive(lr, "lr")));
    }

    /**
     * Starts a builder with a learning-rate schedule.
     *
     * @param logPosterior the log posterior (a scalar per batch)
     * @param lr the learning rate {@code ε} as a function of the step; positive at every step
     * @param <B> the batch type
     * @return the builder
     * @throws NullPointerException when an argument is null
     */
    public static <B> Builder<B> builder(LogProbFn<B> logPosterior, Schedule lr) {
        return new Builder<>(logPosterior, Checks.notNull(lr, "lr"));
    }

    /**
     * Options of {@link Baoa}; the temperature comes from {@link TemperedBuilder}, {@code alpha},
     * {@code sigma} and {@code momenta} from a base shared with the other samplers with momenta.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> extends MomentumBuilder<B, Builder<B>> {
        private Builder(LogProbFn<B> logPosterior, Schedule lr) {
            super(logPosterior, lr);
        }

        @Override
        protected Builder<B> self() {
            return this;
        }

        /**
         * Builds the transform.
         *
         * @return the transform
         * @throws IllegalArgumentException when a schedule's value at step 0 is out of range
         */
        public Baoa<B> build() {
            return new Baoa<>(logPosterior, lr(), alpha, sigma, temperature(), momenta);
        }
    }

    /**
     * Builds the state at step 0: a copy of the parameters, the initial momenta and a NaN log
     * posterior.
     *
     * @param params the initial parameters
     * @return the state
     * @throws NullPointerException when {@code params} is null
     * @throws IllegalArgumentException naming the leaf when a parameter is NaN or infinite, or when
     *     the momenta tree does not have the parameters' structure
     * @throws IllegalStateException when a parameter or momenta array is closed
     */
    @Override
    public BaoaState init(TensorTree params) {
        Checks.openTree(params, "params");
        Checks.finite(params, "params", 0);
        TensorTree m = momenta.tree(params, "momenta");
        TensorTree p = params.copy();
        return new BaoaState(p, m, Scalars.like(p.anyLeaf(), Double.NaN), 0);
    }

    /**
     * Takes one BAOA step, writing into the arrays of {@code state}. Schedules, the log posterior
     * and its gradient are checked before anything is written.
     *
     * @param state the current state; its arrays are overwritten
     * @param batch the batch passed to the log posterior
     * @return a state sharing the arrays of {@code state}, one step on, and the aux
     * @throws IllegalArgumentException naming the step when the learning rate or temperature is out
     *     of range, or the log posterior or (naming the leaf) its gradient is not finite
     * @throws IllegalStateException when an array of {@code state} is closed
     */
    @Override
    public Step<BaoaState> updateInPlace(BaoaState state, B batch) {
        long step = Checks.open(state).step();
        double eps = TemperedBuilder.lrAt(lr, step);
        double t = TemperedBuilder.temperatureAt(temperature, step);
        double prec = 1.0 / (sigma * sigma);
        double c = Math.exp(-alpha * prec * eps);
        double noiseSd = sigma * Math.sqrt(t * (1 - c * c));
        double halfDrift = 0.5 * eps * prec;
        NDList aux =
                Support.gradientStep(
                        logPosterior,
                        state.params(),
                        state.logPosterior(),
                        batch,
                        step,
                        grad -> {
                            TensorTree x = state.params();
                            TensorTree m = state.momenta();
                            FusedOps.langevin(m, grad, 1.0, eps, 0); // B: m ← m + ε ∇ log p(θ)
                            FusedOps.axpy(x, m, halfDrift, 0); // A: θ ← θ + (ε / 2) σ⁻² m
                            // O: m ← c m + σ sqrt(T (1 − c²)) ξ
                            FusedOps.langevin(m, null, c, 0, noiseSd);
                            FusedOps.axpy(x, m, halfDrift, 0); // A: θ ← θ + (ε / 2) σ⁻² m
                        });
        BaoaState next =
                new BaoaState(state.params(), state.momenta(), state.logPosterior(), step + 1);
        return new Step<>(next, aux);
    }
}
