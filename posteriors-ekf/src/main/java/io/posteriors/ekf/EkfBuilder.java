package io.posteriors.ekf;

import io.posteriors.Checks;
import io.posteriors.ForwardFn;
import io.posteriors.LogProbFn;
import io.posteriors.OuterFn;
import io.posteriors.PerSampleBuilder;
import io.posteriors.Schedule;

/**
 * The options both filters' builders share: the log likelihood and learning rate given when the
 * builder is started, the curvature ({@link #ggn}), and from {@link PerSampleBuilder} {@code
 * perSample} and {@code batchSplitter}.
 *
 * @param <B> the batch type
 * @param <T> the concrete builder type, returned by every setter
 */
abstract class EkfBuilder<B, T extends EkfBuilder<B, T>> extends PerSampleBuilder<B, T> {

    final LogProbFn<B> logLikelihood;
    final Schedule lr;
    ForwardFn<B> forward;
    OuterFn<B> outerLogLikelihood;

    EkfBuilder(LogProbFn<B> logLikelihood, Schedule lr) {
        this.logLikelihood = Checks.notNull(logLikelihood, "logLikelihood");
        this.lr = lr;
    }

    /**
     * Uses the generalised Gauss-Newton matrix (its diagonal for {@link DiagEkf}) as the curvature
     * instead of the empirical Fisher. {@code outerLogLikelihood(forward(params, batch).output(),
     * batch)} must equal the log likelihood summed over the samples of the batch, {@code sum_i
     * l_i}, whatever {@code perSample} says (the convention of {@code
     * ModelLogPosterior.outerLogLikelihood()} and of the Laplace GGN transforms). The filter takes
     * the Hessian of its negative divided by the number of samples n, to match the mean {@code
     * (1/n) sum_i l_i} it uses as the log likelihood; the log likelihood itself gives the gradient.
     * With a Gaussian observation model and {@code lr = n} (1 for one observation per batch) this
     * is the classical extended Kalman filter.
     *
     * @param forward the model's forward function (batch-first outputs)
     * @param outerLogLikelihood the log likelihood as a function of the outputs (a scalar)
     * @return this builder
     * @throws NullPointerException when an argument is null
     */
    public final T ggn(ForwardFn<B> forward, OuterFn<B> outerLogLikelihood) {
        this.forward = Checks.notNull(forward, "forward");
        this.outerLogLikelihood = Checks.notNull(outerLogLikelihood, "outerLogLikelihood");
        return self();
    }
}
