package io.posteriors.sgmcmc;

import ai.djl.ndarray.NDList;
import io.posteriors.Checks;
import io.posteriors.FusedOps;
import io.posteriors.LogProbFn;
import io.posteriors.Scalars;
import io.posteriors.Schedule;
import io.posteriors.Step;
import io.posteriors.TemperedBuilder;
import io.posteriors.TensorTree;
import io.posteriors.Transform;

/**
 * Stochastic gradient Langevin dynamics (SGLD): gradient ascent on the log posterior plus Gaussian
 * noise scaled so that the iterates sample the tempered posterior.
 *
 * <p>From Welling and Teh, "Bayesian Learning via Stochastic Gradient Langevin Dynamics" (ICML
 * 2011); the counterpart of posteriors' {@code posteriors.sgmcmc.sgld}. With learning rate {@code
 * ε}, temperature {@code T} and gradient-noise coefficient {@code β}, one update is
 *
 * <pre>
 * θ ← θ + ε ∇ log p(θ, batch) + sqrt(ε T (2 − ε T β)) ξ,   ξ ~ N(0, I)
 * </pre>
 *
 * <p>This is the Euler–Maruyama step of the Langevin diffusion {@code dθ = ∇ log p dt + sqrt(2T)
 * dW}, whose stationary law is {@code p_T(θ) ∝ exp(log p(θ) / T)}: {@code T = 1} targets the
 * posterior. {@code β} estimates the variance of the stochastic gradient of the tempered log
 * density {@code log p / T}; the term {@code ε² T² β} it subtracts is the variance that gradient
 * noise already contributes to the step, so the total stays {@code 2 ε T}. The bias of the
 * discretisation is of order {@code ε} (for a Gaussian target of precision {@code λ}, the
 * stationary variance is {@code 1 / (λ (1 − ε λ / 2))} instead of {@code 1 / λ}).
 *
 * <p>At {@code T = 0} no noise is drawn and the update is gradient ascent on the log posterior:
 * exactly {@link io.posteriors.optim.Sgd} with the same learning rate, under {@link
 * io.posteriors.optim.Optimize}.
 *
 * <pre>{@code
 * Transform<SgldState, Batch> t =
 *         Sgld.builder(logPosterior, 1e-3).temperature(1.0 / n).build();
 * SgldState state = t.init(params);
 * for (Batch b : batches) {
 *     Step<SgldState> step = t.updateInPlace(state, b);
 *     step.aux().close();
 *     state = step.state();
 * }
 * }</pre>
 *
 * @param <B> the batch type
 * @param logPosterior the log posterior (a scalar per batch; see {@code docs/sgld.md} for the
 *     recommended scaling)
 * @param lr the learning rate {@code ε}, positive at every step
 * @param beta the gradient-noise coefficient {@code β}: an estimate of the variance of the
 *     stochastic gradient of {@code log p / T}; non-negative
 * @param temperature the temperature {@code T}, non-negative at every step
 */
public record Sgld<B>(LogProbFn<B> logPosterior, Schedule lr, double beta, Schedule temperature)
        implements Transform<SgldState, B> {

    /**
     * Checks the options. The schedules are checked at step 0 by the builder and at every step by
     * the update; here they are evaluated only when {@code β > 0}, to check the injected noise.
     *
     * @throws NullPointerException when {@code logPosterior} or a schedule is null
     * @throws IllegalArgumentException when {@code beta} is negative or not finite, or {@code β >
     *     0} and a schedule's value at step 0 is out of range or {@code ε T β > 2} there
     */
    public Sgld {
        Checks.notNull(logPosterior, "logPosterior");
        Checks.notNull(lr, "lr");
        Checks.notNull(temperature, "temperature");
        Checks.nonNegative(beta, "beta");
        Support.requireInjectedVarianceAtStart(lr, temperature, 1.0, beta);
    }

    /**
     * Starts a builder with a constant learning rate.
     *
     * @param logPosterior the log posterior (a scalar per batch; see {@code docs/sgld.md} for the
     *     recommended scaling)
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
     * @param lr the learning rate {@code ε} as a function of the step; positive at every step (it
     *     is checked at step 0 by {@link Builder#build()} and at every step by the update)
     * @param <B> the batch type
     * @return the builder
     * @throws NullPointerException when an argument is null
     */
    public static <B> Builder<B> builder(LogProbFn<B> logPosterior, Schedule lr) {
        return new Builder<>(logPosterior, Checks.notNull(lr, "lr"));
    }

    /**
     * Options of {@link Sgld}; the temperature comes from {@link TemperedBuilder}.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> extends TemperedBuilder<Builder<B>> {
        private final LogProbFn<B> logPosterior;
        private double beta = 0.0;

        private Builder(LogProbFn<B> logPosterior, Schedule lr) {
            super(lr);
            this.logPosterior = Checks.notNull(logPosterior, "logPosterior");
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
         *     {@code ε T β > 2} at step 0
         */
        public Sgld<B> build() {
            return new Sgld<>(logPosterior, lr(), beta, temperature());
        }
    }

    /**
     * Builds the state at step 0: a copy of the parameters and a NaN log posterior.
     *
     * @param params the initial parameters
     * @return the state
     * @throws NullPointerException when {@code params} is null
     * @throws IllegalStateException when a parameter array is closed
     * @throws IllegalArgumentException naming the leaf when a parameter is NaN or infinite
     */
    @Override
    public SgldState init(TensorTree params) {
        Checks.openTree(params, "params");
        Checks.finite(params, "params", 0);
        TensorTree p = params.copy();
        return new SgldState(p, Scalars.like(p.anyLeaf(), Double.NaN), 0);
    }

    /**
     * Takes one SGLD step, writing into the arrays of {@code state}. Schedules, the log posterior
     * and its gradient are checked before anything is written, so a bad value leaves the state as
     * it was.
     *
     * @param state the current state; its arrays are overwritten
     * @param batch the batch passed to the log posterior
     * @return a state sharing the arrays of {@code state}, one step on, and the aux
     * @throws IllegalArgumentException naming the step when the learning rate or temperature is out
     *     of range, or the log posterior or (naming the leaf) its gradient is not finite
     * @throws IllegalStateException when an array of {@code state} is closed
     */
    @Override
    public Step<SgldState> updateInPlace(SgldState state, B batch) {
        long step = Checks.open(state).step();
        double eps = TemperedBuilder.lrAt(lr, step);
        double t = TemperedBuilder.temperatureAt(temperature, step);
        double noiseSd = Math.sqrt(Support.injectedVariance(eps, t, 1.0, beta, step));
        NDList aux =
                Support.gradientStep(
                        logPosterior,
                        state.params(),
                        state.logPosterior(),
                        batch,
                        step,
                        // θ ← θ + ε ∇ log p(θ, batch) + sqrt(ε T (2 − ε T β)) ξ
                        grad -> FusedOps.langevin(state.params(), grad, 1.0, eps, noiseSd));
        return new Step<>(new SgldState(state.params(), state.logPosterior(), step + 1), aux);
    }
}
