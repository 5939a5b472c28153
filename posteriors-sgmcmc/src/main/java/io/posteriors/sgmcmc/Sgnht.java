package io.posteriors.sgmcmc;

import ai.djl.ndarray.NDArray;
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
 * @param logPosterior the log posterior (a scalar per batch)
 * @param lr the learning rate {@code ε}, positive at every step
 * @param alpha the diffusion {@code α}: the friction the thermostat settles at, which sets the
 *     injected noise; non-negative
 * @param beta the gradient-noise coefficient {@code β}: an estimate of the variance of the
 *     stochastic gradient of {@code log p / T}; non-negative
 * @param sigma the standard deviation {@code σ} of the momenta's target distribution ({@code σ²} is
 *     the mass); positive
 * @param temperature the temperature {@code T}, non-negative at every step
 * @param momenta the initial momenta: standard normal draws (posteriors' default), one number or a
 *     tree shaped like the parameters
 * @param xi the thermostat's initial value; finite
 */
public record Sgnht<B>(
        LogProbFn<B> logPosterior,
        Schedule lr,
        double alpha,
        double beta,
        double sigma,
        Schedule temperature,
        InitialValue momenta,
        double xi)
        implements Transform<SgnhtState, B> {

    /**
     * Checks the options. The schedules are checked at step 0 by the builder and at every step by
     * the update; here they are evaluated only when {@code β > 0}, to check the injected noise.
     *
     * @throws NullPointerException when {@code logPosterior}, a schedule or {@code momenta} is null
     * @throws IllegalArgumentException when {@code alpha} or {@code beta} is negative or not
     *     finite, {@code sigma} is not positive and finite, {@code xi} is not finite, {@code
     *     momenta} is a matrix, or {@code β > 0} and a schedule's value at step 0 is out of range
     *     or {@code ε T β > 2α} there
     */
    public Sgnht {
        Support.checkMomentumOptions(logPosterior, lr, temperature, alpha, beta, sigma, momenta);
        Checks.finite(xi, "xi");
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
     * Options of {@link Sgnht}; the temperature comes from {@link TemperedBuilder}, {@code alpha},
     * {@code sigma} and {@code momenta} from a base shared with the other samplers with momenta.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> extends MomentumBuilder<B, Builder<B>> {
        private double beta = 0.0;
        private Double xi;

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
            double xi0 = xi == null ? alpha : xi;
            return new Sgnht<>(logPosterior, lr(), alpha, beta, sigma, temperature(), momenta, xi0);
        }
    }

    /**
     * Builds the state at step 0: a copy of the parameters, the initial momenta, the initial
     * thermostat and a NaN log posterior.
     *
     * @param params the initial parameters
     * @return the state
     * @throws NullPointerException when {@code params} is null
     * @throws IllegalArgumentException naming the leaf when a parameter is NaN or infinite, or when
     *     the momenta tree does not have the parameters' structure
     * @throws IllegalStateException when a parameter or momenta array is closed
     */
    @Override
    public SgnhtState init(TensorTree params) {
        Checks.openTree(params, "params");
        Checks.finite(params, "params", 0);
        TensorTree m = momenta.tree(params, "momenta");
        TensorTree p = params.copy();
        NDArray like = p.anyLeaf();
        return new SgnhtState(p, m, Scalars.like(like, xi), Scalars.like(like, Double.NaN), 0);
    }

    /**
     * Takes one SGNHT step, writing into the arrays of {@code state}. Schedules, the log posterior
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
    public Step<SgnhtState> updateInPlace(SgnhtState state, B batch) {
        long step = Checks.open(state).step();
        double eps = TemperedBuilder.lrAt(lr, step);
        double t = TemperedBuilder.temperatureAt(temperature, step);
        double noiseSd = Math.sqrt(Support.injectedVariance(eps, t, alpha, beta, step));
        double prec = 1.0 / (sigma * sigma);
        long d = state.params().numel();
        NDList aux =
                Support.gradientStep(
                        logPosterior,
                        state.params(),
                        state.logPosterior(),
                        batch,
                        step,
                        grad -> {
                            // m ← (1 − ε σ⁻² ξ) m + ε ∇ log p(θ) + sqrt(ε T (2α − ε T β)) ζ, then
                            // θ ← θ + ε σ⁻² m with the new momenta
                            double keep = 1.0 - eps * prec * Scalars.value(state.xi());
                            FusedOps.momentum(
                                    state.params(),
                                    state.momenta(),
                                    grad,
                                    keep,
                                    eps,
                                    noiseSd,
                                    eps * prec);
                            // ξ ← ξ + ε (σ⁻² |m|² / d − T), with the new momenta
                            double kinetic;
                            try (NDArray e = FusedOps.sumOfSquares(state.momenta(), 0)) {
                                kinetic = e.getDouble();
                            }
                            state.xi().addi(eps * prec * kinetic / d - eps * t);
                        });
        SgnhtState next =
                new SgnhtState(
                        state.params(),
                        state.momenta(),
                        state.xi(),
                        state.logPosterior(),
                        step + 1);
        return new Step<>(next, aux);
    }
}
