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
 */
public final class Sghmc<B> implements Transform<SghmcState, B> {

    private final LogProbFn<B> logPosterior;
    private final Schedule lr;
    private final double alpha;
    private final double beta;
    private final double sigma;
    private final Schedule temperature;
    private final Support.InitialMomenta momenta;

    private Sghmc(Builder<B> b) {
        this.logPosterior = b.logPosterior;
        this.lr = b.lr;
        this.alpha = b.alpha;
        this.beta = b.beta;
        this.sigma = b.sigma;
        this.temperature = b.temperature;
        this.momenta = b.momenta;
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
     * Options of {@link Sghmc}.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> {
        private final LogProbFn<B> logPosterior;
        private final Schedule lr;
        private double alpha = 0.01;
        private double beta = 0.0;
        private double sigma = 1.0;
        private Schedule temperature = Schedule.constant(1.0);
        private Support.InitialMomenta momenta = Support.InitialMomenta.RANDOM;

        private Builder(LogProbFn<B> logPosterior, Schedule lr) {
            this.logPosterior = Checks.notNull(logPosterior, "logPosterior");
            this.lr = lr;
        }

        /**
         * Sets the friction {@code α} (default 0.01).
         *
         * @param alpha the friction; non-negative and finite
         * @return this builder
         * @throws IllegalArgumentException when {@code alpha} is negative, NaN or infinite
         */
        public Builder<B> alpha(double alpha) {
            this.alpha = Checks.nonNegative(alpha, "alpha");
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
         * Sets the standard deviation {@code σ} of the momenta's target distribution (default 1);
         * {@code σ²} is the mass.
         *
         * @param sigma the standard deviation; positive and finite
         * @return this builder
         * @throws IllegalArgumentException when {@code sigma} is not positive and finite
         */
        public Builder<B> sigma(double sigma) {
            this.sigma = Checks.positive(sigma, "sigma");
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
         * Starts every momentum at {@code value} (by default they are drawn from {@code N(0, 1)},
         * as in posteriors).
         *
         * @param value the initial value of every momentum; finite
         * @return this builder
         * @throws IllegalArgumentException when {@code value} is NaN or infinite
         */
        public Builder<B> momenta(double value) {
            this.momenta = Support.InitialMomenta.of(value);
            return this;
        }

        /**
         * Starts the momenta at a tree, copied by {@code init} (which checks that it has the
         * parameters' structure).
         *
         * @param momenta the initial momenta
         * @return this builder
         * @throws NullPointerException when {@code momenta} is null
         */
        public Builder<B> momenta(TensorTree momenta) {
            this.momenta = Support.InitialMomenta.of(momenta);
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
            double eps = Checks.positiveAt(lr, 0, "lr");
            double t = Checks.nonNegativeAt(temperature, 0, "temperature");
            Support.injectedVariance(eps, t, alpha, beta, 0);
            return new Sghmc<>(this);
        }
    }

    /**
     * Builds the state at step 0: a copy of the parameters, the initial momenta and a NaN log
     * posterior.
     *
     * @param params the initial parameters
     * @return the state
     * @throws NullPointerException when {@code params} is null
     * @throws IllegalArgumentException when the momenta tree given to the builder does not have the
     *     parameters' structure
     * @throws IllegalStateException when a parameter or momenta array is closed
     */
    @Override
    public SghmcState init(TensorTree params) {
        Checks.notNull(params, "params");
        params.forEach((k, a) -> Checks.open(a, "params leaf '" + k + "'"));
        TensorTree m = momenta.create(params);
        TensorTree p = params.copy();
        return new SghmcState(p, m, Support.scalar(p, Double.NaN), 0);
    }

    /**
     * Takes one SGHMC step without touching {@code state}.
     *
     * @param state the current state
     * @param batch the batch passed to the log posterior
     * @return the new state (new arrays) and the aux of the log posterior
     * @throws IllegalArgumentException when the learning rate or temperature at this step is out of
     *     range, or the log posterior is not a finite scalar
     */
    @Override
    public Step<SghmcState> update(SghmcState state, B batch) {
        Support.requireOpen(state);
        SghmcState copy =
                new SghmcState(
                        state.params().copy(),
                        state.momenta().copy(),
                        state.logPosterior().duplicate(),
                        state.step());
        try {
            return updateInPlace(copy, batch);
        } catch (RuntimeException e) {
            copy.close();
            throw e;
        }
    }

    /**
     * Takes one SGHMC step, writing into the arrays of {@code state}. The learning rate and
     * temperature are checked before anything is written.
     *
     * @param state the current state; its arrays are overwritten
     * @param batch the batch passed to the log posterior
     * @return a state sharing the arrays of {@code state}, one step on, and the aux
     * @throws IllegalArgumentException when the learning rate or temperature at this step is out of
     *     range, or the log posterior is not a finite scalar
     */
    @Override
    public Step<SghmcState> updateInPlace(SghmcState state, B batch) {
        Support.requireOpen(state);
        long step = state.step();
        double eps = Checks.positiveAt(lr, step, "lr");
        double t = Checks.nonNegativeAt(temperature, step, "temperature");
        double noiseSd = Math.sqrt(Support.injectedVariance(eps, t, alpha, beta, step));
        double prec = 1.0 / (sigma * sigma);
        double keep = 1.0 - eps * prec * alpha;
        Autodiff.ValueAndGrad vg = Autodiff.valueAndGrad(logPosterior, state.params(), batch);
        try {
            Scoped.run(
                    () -> {
                        for (String k : state.params().names()) {
                            NDArray x = state.params().get(k);
                            NDArray m = state.momenta().get(k);
                            m.muli(keep).addi(vg.grad().get(k).muli(eps));
                            if (noiseSd > 0) {
                                m.addi(Support.standardNormalLike(m).muli(noiseSd));
                            }
                            x.addi(m.mul(eps * prec));
                        }
                    });
            state.logPosterior().set(new NDIndex("..."), vg.value());
        } finally {
            vg.grad().close();
            vg.value().close();
        }
        SghmcState next =
                new SghmcState(state.params(), state.momenta(), state.logPosterior(), step + 1);
        return new Step<>(next, vg.aux());
    }
}
