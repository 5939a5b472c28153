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
 * Stochastic gradient Hamiltonian Monte Carlo (SGHMC): Langevin dynamics with momenta, friction
 * {@code α} and injected noise, sampling the tempered posterior jointly with Gaussian momenta.
 *
 * <p>From Chen, Fox and Guestrin, "Stochastic Gradient Hamiltonian Monte Carlo" (ICML 2014); the
 * counterpart of posteriors' {@code posteriors.sgmcmc.sghmc}. With learning rate {@code ε},
 * friction {@code α}, gradient-noise coefficient {@code β}, momenta standard deviation {@code σ}
 * and temperature {@code T}, one update is
 *
 * <pre>
 * m ← m + ε ∇ log p(θ, batch) − ε σ⁻² α m + sqrt(ε T (2α − ε T β)) ξ,   ξ ~ N(0, I)
 * θ ← θ + ε σ⁻² m
 * </pre>
 *
 * <p>This discretises {@code dθ = σ⁻² m dt}, {@code dm = (∇ log p − σ⁻² α m) dt + sqrt(2αT) dW},
 * whose stationary law is {@code p_T(θ, m) ∝ exp((log p(θ) − |m|² / (2σ²)) / T)}: the parameters
 * follow {@code p^(1/T)} and the momenta {@code N(0, σ² T)}. {@code β} estimates the variance of
 * the stochastic gradient of {@code log p / T}; the noise it removes is what gradient noise already
 * injects. The momenta are updated first and the parameters move with the new momenta (the order of
 * Chen et al.'s and Ding et al.'s algorithms; posteriors moves the parameters with the old
 * momenta). For a Gaussian target this order has the smaller bias, and it makes temperature 0
 * exactly SGD with momentum.
 *
 * <p>At {@code T = 0} no noise is drawn, and with {@code v = ε σ⁻² m} the update reads {@code v ←
 * (1 − ε α σ⁻²) v + ε² σ⁻² ∇ log p(θ); θ ← θ + v}: {@link io.posteriors.optim.Sgd} with learning
 * rate {@code ε² σ⁻²}, momentum {@code 1 − ε α σ⁻²} and initial buffer {@code −m / ε}. The other
 * way round, SGD settings {@code (lr, μ)} and a chosen {@code ε} give {@code σ² = ε² / lr} and
 * {@code α = (1 − μ) σ² / ε}.
 *
 * <pre>{@code
 * Transform<SghmcState, Batch> t =
 *         Sghmc.builder(logPosterior, 1e-2).alpha(1.0).temperature(1.0 / n).build();
 * }</pre>
 *
 * @param <B> the batch type
 * @param logPosterior the log posterior (a scalar per batch)
 * @param lr the learning rate {@code ε}, positive at every step
 * @param alpha the friction {@code α}; non-negative
 * @param beta the gradient-noise coefficient {@code β}: an estimate of the variance of the
 *     stochastic gradient of {@code log p / T}; non-negative
 * @param sigma the standard deviation {@code σ} of the momenta's target distribution ({@code σ²} is
 *     the mass); positive
 * @param temperature the temperature {@code T}, non-negative at every step
 * @param momenta the initial momenta: standard normal draws (posteriors' default), one number or a
 *     tree shaped like the parameters
 */
public record Sghmc<B>(
        LogProbFn<B> logPosterior,
        Schedule lr,
        double alpha,
        double beta,
        double sigma,
        Schedule temperature,
        InitialValue momenta)
        implements Transform<SghmcState, B> {

    /**
     * Checks the options. The schedules are checked at step 0 by the builder and at every step by
     * the update; here they are evaluated only when {@code β > 0}, to check the injected noise.
     *
     * @throws NullPointerException when {@code logPosterior}, a schedule or {@code momenta} is null
     * @throws IllegalArgumentException when {@code alpha} or {@code beta} is negative or not
     *     finite, {@code sigma} is not positive and finite, {@code momenta} is a matrix, or {@code
     *     β > 0} and a schedule's value at step 0 is out of range or {@code ε T β > 2α} there
     */
    public Sghmc {
        Support.checkMomentumOptions(logPosterior, lr, temperature, alpha, beta, sigma, momenta);
        Support.requireInjectedVarianceAtStart(lr, temperature, alpha, beta);
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
     * Options of {@link Sghmc}; the temperature comes from {@link TemperedBuilder}, {@code alpha},
     * {@code sigma} and {@code momenta} from a base shared with the other samplers with momenta.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> extends MomentumBuilder<B, Builder<B>> {
        private double beta = 0.0;

        private Builder(LogProbFn<B> logPosterior, Schedule lr) {
            super(logPosterior, lr);
        }

        @Override
        protected Builder<B> self() {
            return this;
        }

        /**
         * Sets the gradient-noise coefficient {@code β} (default 0): an estimate of the variance of
         * the stochastic gradient of {@code log p / T}.
         *
         * @param beta the coefficient; non-negative and finite
         * @return this builder
         * @throws IllegalArgumentException when {@code beta} is negative, NaN or infinite
         */
        public Builder<B> beta(double beta) {
            this.beta = Checks.nonNegative(beta, "beta");
            return this;
        }

        /**
         * Builds the transform.
         *
         * @return the transform
         * @throws IllegalArgumentException when a schedule's value at step 0 is out of range, or
         *     {@code ε T β > 2α} at step 0
         */
        public Sghmc<B> build() {
            return new Sghmc<>(logPosterior, lr(), alpha, beta, sigma, temperature(), momenta);
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
    public SghmcState init(TensorTree params) {
        Checks.openTree(params, "params");
        Checks.finite(params, "params", 0);
        TensorTree m = momenta.tree(params, "momenta");
        TensorTree p = params.copy();
        return new SghmcState(p, m, Scalars.like(p.anyLeaf(), Double.NaN), 0);
    }

    /**
     * Takes one SGHMC step, writing into the arrays of {@code state}. Schedules, the log posterior
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
    public Step<SghmcState> updateInPlace(SghmcState state, B batch) {
        long step = Checks.open(state).step();
        double eps = TemperedBuilder.lrAt(lr, step);
        double t = TemperedBuilder.temperatureAt(temperature, step);
        double noiseSd = Math.sqrt(Support.injectedVariance(eps, t, alpha, beta, step));
        double prec = 1.0 / (sigma * sigma);
        NDList aux =
                Support.gradientStep(
                        logPosterior,
                        state.params(),
                        state.logPosterior(),
                        batch,
                        step,
                        // m ← (1 − ε σ⁻² α) m + ε ∇ log p(θ) + sqrt(ε T (2α − ε T β)) ξ, then
                        // θ ← θ + ε σ⁻² m with the new momenta, every leaf in one engine call
                        grad ->
                                FusedOps.momentum(
                                        state.params(),
                                        state.momenta(),
                                        grad,
                                        1.0 - eps * prec * alpha,
                                        eps,
                                        noiseSd,
                                        eps * prec));
        SghmcState next =
                new SghmcState(state.params(), state.momenta(), state.logPosterior(), step + 1);
        return new Step<>(next, aux);
    }
}
