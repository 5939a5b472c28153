package io.posteriors.vi;

import io.posteriors.Checks;
import io.posteriors.LogProbFn;
import io.posteriors.TemperedBuilder;
import io.posteriors.optim.GradientOptimizer;

/**
 * The options both VI builders share: the log posterior and the optimiser (given when the builder
 * is started), the number of Monte Carlo samples and the STL switch; the temperature comes from
 * {@link TemperedBuilder}. VI takes an optimiser rather than a learning rate.
 *
 * @param <B> the batch type
 * @param <T> the concrete builder type, returned by every setter
 */
abstract class ViBuilder<B, T extends ViBuilder<B, T>> extends TemperedBuilder<T> {

    final LogProbFn<B> logPosterior;
    final GradientOptimizer optimizer;
    int nSamples = 1;
    boolean stl = true;

    ViBuilder(LogProbFn<B> logPosterior, GradientOptimizer optimizer) {
        super(null);
        this.logPosterior = Checks.notNull(logPosterior, "logPosterior");
        this.optimizer = Checks.notNull(optimizer, "optimizer");
    }

    /**
     * Sets the number of Monte Carlo samples per NELBO estimate (default 1).
     *
     * @param nSamples at least 1
     * @return this builder
     * @throws IllegalArgumentException when {@code nSamples < 1}
     */
    public T nSamples(int nSamples) {
        this.nSamples = Checks.atLeast(nSamples, 1, "nSamples");
        return self();
    }

    /**
     * Sets whether to use the sticking-the-landing gradient estimator (default true): the
     * variational parameters are detached inside {@code log q}, so gradients reach it only through
     * the samples.
     *
     * @param stl true for the STL estimator
     * @return this builder
     */
    public T stl(boolean stl) {
        this.stl = stl;
        return self();
    }
}
