package io.posteriors.sgmcmc;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import io.posteriors.Autodiff;
import io.posteriors.Checks;
import io.posteriors.InitialValue;
import io.posteriors.LogProbFn;
import io.posteriors.Schedule;
import io.posteriors.Scopes;
import io.posteriors.TemperedBuilder;
import io.posteriors.TensorTree;
import java.util.function.Consumer;

/** What the four samplers share beyond core: the gradient step's frame and the injected noise. */
final class Support {

    private Support() {}

    /**
     * Runs the frame of one sampler step around {@code move}: evaluates the log posterior and its
     * gradient at {@code params}, checks both are finite (naming the step and, for the gradient,
     * the leaf) before anything is written, lets {@code move} update the state in place inside a
     * scope that frees its temporaries, and stores the log posterior in {@code logPosteriorOut}.
     *
     * @return the aux of the log posterior; every other array the step made is closed
     */
    static <B> NDList gradientStep(
            LogProbFn<B> logPosterior,
            TensorTree params,
            NDArray logPosteriorOut,
            B batch,
            long step,
            Consumer<TensorTree> move) {
        Autodiff.ValueAndGrad vg;
        try {
            vg = Autodiff.valueAndGrad(logPosterior, params, batch);
        } catch (IllegalArgumentException e) {
            // the log posterior's own checks do not know which step of the chain this is
            throw new IllegalArgumentException(
                    Checks.format("%s (at step %d)", e.getMessage(), step), e);
        }
        try {
            Checks.finiteScalar(vg.value(), "log posterior", step);
            Checks.finite(vg.grad(), "gradient of the log posterior", step);
            Scopes.run(() -> move.accept(vg.grad()));
            logPosteriorOut.set(new NDIndex("..."), vg.value());
        } catch (RuntimeException e) {
            vg.aux().close();
            throw e;
        } finally {
            vg.grad().close();
            vg.value().close();
        }
        return vg.aux();
    }

    /**
     * Checks the options the samplers with momenta share, in the order their records list them: the
     * log posterior and schedules are given, {@code alpha} and {@code beta} are non-negative,
     * {@code sigma} is positive, and the initial momenta are draws, a number or a tree, not a
     * matrix. {@link Baoa}, which has no {@code beta}, passes 0.
     */
    static <B> void checkMomentumOptions(
            LogProbFn<B> logPosterior,
            Schedule lr,
            Schedule temperature,
            double alpha,
            double beta,
            double sigma,
            InitialValue momenta) {
        Checks.notNull(logPosterior, "logPosterior");
        Checks.notNull(lr, "lr");
        Checks.notNull(temperature, "temperature");
        Checks.nonNegative(alpha, "alpha");
        Checks.nonNegative(beta, "beta");
        Checks.positive(sigma, "sigma");
        if (Checks.notNull(momenta, "momenta") instanceof InitialValue.Matrix) {
            throw new IllegalArgumentException(
                    "momenta must be standard normal draws, a number or a tree shaped like"
                            + " params, got a matrix");
        }
    }

    /**
     * Returns the variance of the injected noise {@code lr T (2 c - lr T beta)}, which must not be
     * negative: gradient noise larger than the target's diffusion cannot be undone by adding noise.
     */
    static double injectedVariance(
            double lr, double temperature, double c, double beta, long step) {
        double v = lr * temperature * (2 * c - lr * temperature * beta);
        if (!(v >= 0)) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "beta * lr * temperature must be at most %s, got %s (beta %s, lr %s,"
                                    + " temperature %s at step %d); lower lr or beta",
                            2 * c, beta * lr * temperature, beta, lr, temperature, step));
        }
        return v;
    }

    /**
     * Checks at step 0 that the injected variance is not negative. Only {@code beta > 0} can make
     * it negative, and only then are the schedules evaluated here: the builder has already checked
     * each of them once at step 0, and the update checks them at every step.
     */
    static void requireInjectedVarianceAtStart(
            Schedule lr, Schedule temperature, double c, double beta) {
        if (beta > 0) {
            injectedVariance(
                    TemperedBuilder.lrAt(lr, 0),
                    TemperedBuilder.temperatureAt(temperature, 0),
                    c,
                    beta,
                    0);
        }
    }
}
