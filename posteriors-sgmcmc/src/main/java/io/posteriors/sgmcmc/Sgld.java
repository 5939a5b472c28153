package io.posteriors.sgmcmc;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import io.posteriors.Autodiff;
import io.posteriors.Checks;
import io.posteriors.LogProbFn;
import io.posteriors.Schedule;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.internal.Scoped;

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
 */
public final class Sgld<B> implements Transform<SgldState, B> {

    private final LogProbFn<B> logPosterior;
    private final Schedule lr;
    private final double beta;
    private final Schedule temperature;

    private Sgld(Builder<B> b) {
        this.logPosterior = b.logPosterior;
        this.lr = b.lr;
        this.beta = b.beta;
        this.temperature = b.temperature;
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
     * Options of {@link Sgld}.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> {
        private final LogProbFn<B> logPosterior;
        private final Schedule lr;
        private double beta = 0.0;
        private Schedule temperature = Schedule.constant(1.0);

        private Builder(LogProbFn<B> logPosterior, Schedule lr) {
            this.logPosterior = Checks.notNull(logPosterior, "logPosterior");
            this.lr = lr;
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
         * Sets a constant temperature (default 1).
         *
         * @param temperature the temperature; non-negative and finite
         * @return this builder
         * @throws IllegalArgumentException when {@code temperature} is negative, NaN or infinite
         */
        public Builder<B> temperature(double temperature) {
            this.temperature = Schedule.constant(Checks.nonNegative(temperature, "temperature"));
            return this;
        }

        /**
         * Sets a temperature schedule.
         *
         * @param temperature the temperature as a function of the step; non-negative at every step
         * @return this builder
         * @throws NullPointerException when {@code temperature} is null
         */
        public Builder<B> temperature(Schedule temperature) {
            this.temperature = Checks.notNull(temperature, "temperature");
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
            double eps = Checks.positiveAt(lr, 0, "lr");
            double t = Checks.nonNegativeAt(temperature, 0, "temperature");
            Support.injectedVariance(eps, t, 1.0, beta, 0);
            return new Sgld<>(this);
        }
    }

    /**
     * Builds the state at step 0: a copy of the parameters and a NaN log posterior.
     *
     * @param params the initial parameters
     * @return the state
     * @throws NullPointerException when {@code params} is null
     * @throws IllegalStateException when a parameter array is closed
     */
    @Override
    public SgldState init(TensorTree params) {
        Checks.notNull(params, "params");
        params.forEach((k, a) -> Checks.open(a, "params leaf '" + k + "'"));
        TensorTree p = params.copy();
        return new SgldState(p, Support.scalar(p, Double.NaN), 0);
    }

    /**
     * Takes one SGLD step without touching {@code state}.
     *
     * @param state the current state
     * @param batch the batch passed to the log posterior
     * @return the new state (new arrays) and the aux of the log posterior
     * @throws IllegalArgumentException when the learning rate or temperature at this step is out of
     *     range, or the log posterior is not a finite scalar
     */
    @Override
    public Step<SgldState> update(SgldState state, B batch) {
        Support.requireOpen(state);
        SgldState copy =
                new SgldState(
                        state.params().copy(), state.logPosterior().duplicate(), state.step());
        try {
            return updateInPlace(copy, batch);
        } catch (RuntimeException e) {
            copy.close();
            throw e;
        }
    }

    /**
     * Takes one SGLD step, writing into the arrays of {@code state}. The learning rate and
     * temperature are checked before anything is written, so a bad value leaves the state as it
     * was.
     *
     * @param state the current state; its arrays are overwritten
     * @param batch the batch passed to the log posterior
     * @return a state sharing the arrays of {@code state}, one step on, and the aux
     * @throws IllegalArgumentException when the learning rate or temperature at this step is out of
     *     range, or the log posterior is not a finite scalar
     */
    @Override
    public Step<SgldState> updateInPlace(SgldState state, B batch) {
        Support.requireOpen(state);
        long step = state.step();
        double eps = Checks.positiveAt(lr, step, "lr");
        double t = Checks.nonNegativeAt(temperature, step, "temperature");
        double noiseSd = Math.sqrt(Support.injectedVariance(eps, t, 1.0, beta, step));
        Autodiff.ValueAndGrad vg = Autodiff.valueAndGrad(logPosterior, state.params(), batch);
        try {
            Scoped.run(
                    () ->
                            state.params()
                                    .forEachZip(
                                            vg.grad(),
                                            (x, g) -> {
                                                x.addi(g.muli(eps));
                                                if (noiseSd > 0) {
                                                    NDArray z = Support.standardNormalLike(x);
                                                    x.addi(z.muli(noiseSd));
                                                }
                                            }));
            state.logPosterior().set(new NDIndex("..."), vg.value());
        } finally {
            vg.grad().close();
            vg.value().close();
        }
        return new Step<>(new SgldState(state.params(), state.logPosterior(), step + 1), vg.aux());
    }
}
