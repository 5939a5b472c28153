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
 * Stochastic gradient Nosé–Hoover thermostat (SGNHT): SGHMC whose friction {@code ξ} is a dynamic
 * variable that adapts until the momenta have the kinetic energy the temperature asks for, which
 * absorbs unknown gradient noise.
 *
 * <p>From Ding, Fang, Babbush, Chen, Skeel and Neven, "Bayesian Sampling Using Stochastic Gradient
 * Thermostats" (NeurIPS 2014); the counterpart of posteriors' {@code posteriors.sgmcmc.sgnht}. With
 * learning rate {@code ε}, diffusion {@code α}, gradient-noise coefficient {@code β}, momenta
 * standard deviation {@code σ}, temperature {@code T} and {@code d} parameters in all, one update
 * is
 *
 * <pre>
 * m ← m + ε ∇ log p(θ, batch) − ε σ⁻² ξ m + sqrt(ε T (2α − ε T β)) ζ,   ζ ~ N(0, I)
 * θ ← θ + ε σ⁻² m
 * ξ ← ξ + ε (σ⁻² |m|² / d − T)
 * </pre>
 *
 * <p>The order (momenta, then parameters and thermostat with the new momenta) is that of Ding et
 * al.'s algorithm; posteriors uses the old momenta for both. The continuous dynamics leave {@code
 * p_T(θ, m, ξ) ∝ exp((log p(θ) − |m|² / (2σ²)) / T) · exp(−d (ξ − α)² / (2 σ² T))} invariant: the
 * parameters follow {@code p^(1/T)}, the momenta {@code N(0, σ² T)} and the thermostat {@code N(α,
 * σ² T / d)}. The discretisation bias is larger than SGHMC's: the thermostat settles where the
 * discrete momenta have kinetic temperature {@code T}, which leaves the parameters' variance too
 * small by about {@code ε α σ⁻² / 2} (5.3% at posteriors' test settings).
 *
 * <p>At {@code T = 0} no noise is drawn and {@code ξ} only grows (by {@code ε σ⁻² |m|² / d} per
 * step): the update is SGD with momentum {@code 1 − ε σ⁻² ξ} and learning rate {@code ε² σ⁻²} whose
 * friction rises with the kinetic energy accumulated so far, so the iterates come to rest.
 *
 * <pre>{@code
 * Transform<SgnhtState, Batch> t =
 *         Sgnht.builder(logPosterior, 1e-2).alpha(1.0).temperature(1.0 / n).build();
 * }</pre>
 *
 * @param <B> the batch type
 */
public final class Sgnht<B> implements Transform<SgnhtState, B> {

    private final LogProbFn<B> logPosterior;
    private final Schedule lr;
    private final double alpha;
    private final double beta;
    private final double sigma;
    private final Schedule temperature;
    private final Support.InitialMomenta momenta;
    private final double xi;

    private Sgnht(Builder<B> b) {
        this.logPosterior = b.logPosterior;
        this.lr = b.lr;
        this.alpha = b.alpha;
        this.beta = b.beta;
        this.sigma = b.sigma;
        this.temperature = b.temperature;
        this.momenta = b.momenta;
        this.xi = b.xi == null ? b.alpha : b.xi;
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
     * Options of {@link Sgnht}.
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
        private Double xi;

        private Builder(LogProbFn<B> logPosterior, Schedule lr) {
            this.logPosterior = Checks.notNull(logPosterior, "logPosterior");
            this.lr = lr;
        }

        /**
         * Sets the diffusion {@code α} (default 0.01): the friction the thermostat settles at,
         * which sets the injected noise, and the thermostat's initial value unless {@link
         * #xi(double)} is given.
         *
         * @param alpha the diffusion; non-negative and finite
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
         * Sets the thermostat's initial value (default {@code α}).
         *
         * @param xi the initial thermostat; finite
         * @return this builder
         * @throws IllegalArgumentException when {@code xi} is NaN or infinite
         */
        public Builder<B> xi(double xi) {
            this.xi = Checks.finite(xi, "xi");
            return this;
        }

        /**
         * Builds the transform.
         *
         * @return the transform
         * @throws IllegalArgumentException when a schedule's value at step 0 is out of range, or
         *     {@code ε T β > 2α} at step 0
         */
        public Sgnht<B> build() {
            double eps = Checks.positiveAt(lr, 0, "lr");
            double t = Checks.nonNegativeAt(temperature, 0, "temperature");
            Support.injectedVariance(eps, t, alpha, beta, 0);
            return new Sgnht<>(this);
        }
    }

    /**
     * Builds the state at step 0: a copy of the parameters, the initial momenta, the initial
     * thermostat and a NaN log posterior.
     *
     * @param params the initial parameters
     * @return the state
     * @throws NullPointerException when {@code params} is null
     * @throws IllegalArgumentException when the momenta tree given to the builder does not have the
     *     parameters' structure
     * @throws IllegalStateException when a parameter or momenta array is closed
     */
    @Override
    public SgnhtState init(TensorTree params) {
        Checks.notNull(params, "params");
        params.forEach((k, a) -> Checks.open(a, "params leaf '" + k + "'"));
        TensorTree m = momenta.create(params);
        TensorTree p = params.copy();
        return new SgnhtState(p, m, Support.scalar(p, xi), Support.scalar(p, Double.NaN), 0);
    }

    /**
     * Takes one SGNHT step without touching {@code state}.
     *
     * @param state the current state
     * @param batch the batch passed to the log posterior
     * @return the new state (new arrays) and the aux of the log posterior
     * @throws IllegalArgumentException when the learning rate or temperature at this step is out of
     *     range, or the log posterior is not a finite scalar
     */
    @Override
    public Step<SgnhtState> update(SgnhtState state, B batch) {
        Support.requireOpen(state);
        SgnhtState copy =
                new SgnhtState(
                        state.params().copy(),
                        state.momenta().copy(),
                        state.xi().duplicate(),
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
     * Takes one SGNHT step, writing into the arrays of {@code state}. The learning rate and
     * temperature are checked before anything is written.
     *
     * @param state the current state; its arrays are overwritten
     * @param batch the batch passed to the log posterior
     * @return a state sharing the arrays of {@code state}, one step on, and the aux
     * @throws IllegalArgumentException when the learning rate or temperature at this step is out of
     *     range, or the log posterior is not a finite scalar
     */
    @Override
    public Step<SgnhtState> updateInPlace(SgnhtState state, B batch) {
        Support.requireOpen(state);
        long step = state.step();
        double eps = Checks.positiveAt(lr, step, "lr");
        double t = Checks.nonNegativeAt(temperature, step, "temperature");
        double noiseSd = Math.sqrt(Support.injectedVariance(eps, t, alpha, beta, step));
        double prec = 1.0 / (sigma * sigma);
        double perCoordinate = eps * prec / state.params().numel();
        Autodiff.ValueAndGrad vg = Autodiff.valueAndGrad(logPosterior, state.params(), batch);
        try {
            Scoped.run(
                    () -> {
                        NDArray keep = state.xi().mul(-eps * prec).addi(1.0);
                        NDArray kinetic = null;
                        for (String k : state.params().names()) {
                            NDArray x = state.params().get(k);
                            NDArray m = state.momenta().get(k);
                            m.muli(keep).addi(vg.grad().get(k).muli(eps));
                            if (noiseSd > 0) {
                                m.addi(Support.standardNormalLike(m).muli(noiseSd));
                            }
                            x.addi(m.mul(eps * prec));
                            NDArray e = m.square().sum();
                            kinetic = kinetic == null ? e : kinetic.addi(e);
                        }
                        state.xi().addi(kinetic.muli(perCoordinate).subi(eps * t));
                    });
            state.logPosterior().set(new NDIndex("..."), vg.value());
        } finally {
            vg.grad().close();
            vg.value().close();
        }
        SgnhtState next =
                new SgnhtState(
                        state.params(),
                        state.momenta(),
                        state.xi(),
                        state.logPosterior(),
                        step + 1);
        return new Step<>(next, vg.aux());
    }
}
