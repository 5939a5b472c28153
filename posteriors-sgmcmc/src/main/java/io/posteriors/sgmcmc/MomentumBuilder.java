package io.posteriors.sgmcmc;

import io.posteriors.Checks;
import io.posteriors.InitialValue;
import io.posteriors.LogProbFn;
import io.posteriors.Schedule;
import io.posteriors.TemperedBuilder;
import io.posteriors.TensorTree;

/**
 * The options the samplers with momenta ({@link Sghmc}, {@link Sgnht}, {@link Baoa}) share,
 * declared once: the log posterior and learning rate given when the builder is started, the
 * friction {@code α}, the momenta's standard deviation {@code σ} and the initial momenta; the
 * temperature comes from {@link TemperedBuilder}. Each sampler's builder adds only what is its own.
 *
 * @param <B> the batch type
 * @param <T> the concrete builder type, returned by every setter
 */
abstract class MomentumBuilder<B, T extends MomentumBuilder<B, T>> extends TemperedBuilder<T> {

    final LogProbFn<B> logPosterior;
    double alpha = 0.01;
    double sigma = 1.0;
    InitialValue momenta = InitialValue.standardNormal();

    MomentumBuilder(LogProbFn<B> logPosterior, Schedule lr) {
        super(lr);
        this.logPosterior = Checks.notNull(logPosterior, "logPosterior");
    }

    /**
     * Sets the friction {@code α} (default 0.01). In {@link Sgnht} it is the diffusion: the
     * friction the thermostat settles at, which sets the injected noise, and the thermostat's
     * initial value unless {@link Sgnht.Builder#xi(double)} is given. In {@link Baoa} the O step
     * damps the momenta by {@code exp(−α σ⁻² ε)}.
     *
     * @param alpha the friction; non-negative and finite
     * @return this builder
     * @throws IllegalArgumentException when {@code alpha} is negative, NaN or infinite
     */
    public final T alpha(double alpha) {
        this.alpha = Checks.nonNegative(alpha, "alpha");
        return self();
    }

    /**
     * Sets the standard deviation {@code σ} of the momenta's target distribution (default 1);
     * {@code σ²} is the mass.
     *
     * @param sigma the standard deviation; positive and finite
     * @return this builder
     * @throws IllegalArgumentException when {@code sigma} is not positive and finite
     */
    public final T sigma(double sigma) {
        this.sigma = Checks.positive(sigma, "sigma");
        return self();
    }

    /**
     * Starts every momentum at {@code value} (by default they are drawn from {@code N(0, 1)}, as in
     * posteriors).
     *
     * @param value the initial value of every momentum; finite
     * @return this builder
     * @throws IllegalArgumentException when {@code value} is NaN or infinite
     */
    public final T momenta(double value) {
        this.momenta = InitialValue.of(value, "momenta");
        return self();
    }

    /**
     * Starts the momenta at a tree, copied by {@code init} (which checks that it has the
     * parameters' structure).
     *
     * @param momenta the initial momenta
     * @return this builder
     * @throws NullPointerException when {@code momenta} is null
     * @throws IllegalStateException when one of its arrays is closed
     */
    public final T momenta(TensorTree momenta) {
        this.momenta = InitialValue.of(momenta, "momenta");
        return self();
    }
}
