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
 */
public final class Baoa<B> implements Transform<BaoaState, B> {

    private final LogProbFn<B> logPosterior;
    private final Schedule lr;
    private final double alpha;
    private final double sigma;
    private final Schedule temperature;
    private final Support.InitialMomenta momenta;

    private Baoa(Builder<B> b) {
        this.logPosterior = b.logPosterior;
        this.lr = b.lr;
        this.alpha = b.alpha;
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
     * Options of {@link Baoa}.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> {
        private final LogProbFn<B> logPosterior;
        private final Schedule lr;
        private double alpha = 0.01;
        private double sigma = 1.0;
        private Schedule temperature = Schedule.constant(1.0);
        private Support.InitialMomenta momenta = Support.InitialMomenta.RANDOM;

        private Builder(LogProbFn<B> logPosterior, Schedule lr) {
            this.logPosterior = Checks.notNull(logPosterior, "logPosterior");
            this.lr = lr;
        }

        /**
         * Sets the friction {@code α} (default 0.01); the O step damps the momenta by {@code exp(−α
         * σ⁻² ε)}.
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
         * @throws IllegalArgumentException when a schedule's value at step 0 is out of range
         */
        public Baoa<B> build() {
            Checks.positiveAt(lr, 0, "lr");
            Checks.nonNegativeAt(temperature, 0, "temperature");
            return new Baoa<>(this);
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
    public BaoaState init(TensorTree params) {
        Checks.notNull(params, "params");
        params.forEach((k, a) -> Checks.open(a, "params leaf '" + k + "'"));
        TensorTree m = momenta.create(params);
        TensorTree p = params.copy();
        return new BaoaState(p, m, Support.scalar(p, Double.NaN), 0);
    }

    /**
     * Takes one BAOA step without touching {@code state}.
     *
     * @param state the current state
     * @param batch the batch passed to the log posterior
     * @return the new state (new arrays) and the aux of the log posterior
     * @throws IllegalArgumentException when the learning rate or temperature at this step is out of
     *     range, or the log posterior is not a finite scalar
     */
    @Override
    public Step<BaoaState> update(BaoaState state, B batch) {
        Support.requireOpen(state);
        BaoaState copy =
                new BaoaState(
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
     * Takes one BAOA step, writing into the arrays of {@code state}. The learning rate and
     * temperature are checked before anything is written.
     *
     * @param state the current state; its arrays are overwritten
     * @param batch the batch passed to the log posterior
     * @return a state sharing the arrays of {@code state}, one step on, and the aux
     * @throws IllegalArgumentException when the learning rate or temperature at this step is out of
     *     range, or the log posterior is not a finite scalar
     */
    @Override
    public Step<BaoaState> updateInPlace(BaoaState state, B batch) {
        Support.requireOpen(state);
        long step = state.step();
        double eps = Checks.positiveAt(lr, step, "lr");
        double t = Checks.nonNegativeAt(temperature, step, "temperature");
        double prec = 1.0 / (sigma * sigma);
        double c = Math.exp(-alpha * prec * eps);
        double noiseSd = sigma * Math.sqrt(t * (1 - c * c));
        double halfDrift = 0.5 * eps * prec;
        Autodiff.ValueAndGrad vg = Autodiff.valueAndGrad(logPosterior, state.params(), batch);
        try {
            Scoped.run(
                    () -> {
                        for (String k : state.params().names()) {
                            NDArray x = state.params().get(k);
                            NDArray m = state.momenta().get(k);
                            m.addi(vg.grad().get(k).muli(eps));
                            x.addi(m.mul(halfDrift));
                            m.muli(c);
                            if (noiseSd > 0) {
                                m.addi(Support.standardNormalLike(m).muli(noiseSd));
                            }
                            x.addi(m.mul(halfDrift));
                        }
                    });
            state.logPosterior().set(new NDIndex("..."), vg.value());
        } finally {
            vg.grad().close();
            vg.value().close();
        }
        BaoaState next =
                new BaoaState(state.params(), state.momenta(), state.logPosterior(), step + 1);
        return new Step<>(next, vg.aux());
    }
}
