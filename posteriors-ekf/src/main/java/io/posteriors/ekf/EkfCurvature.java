package io.posteriors.ekf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Autodiff;
import io.posteriors.Checks;
import io.posteriors.ForwardFn;
import io.posteriors.Linalg;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.ModelOutput;
import io.posteriors.OuterFn;
import io.posteriors.TensorTree;

/**
 * The linearisation both filters share: the log likelihood's value and gradient at the mean, and a
 * factor {@code U} (r-by-P) of the curvature {@code F = U^T U}.
 *
 * <p>The log likelihood given here is always in per-sample form (a vector of n values; the filters
 * pass a whole-batch function through {@link io.posteriors.PerSample#perSampleForm} first, as
 * posteriors does with {@code per_samplify}), and the filter's log likelihood is their mean, so
 * {@code g = (1/n) sum_i g_i}.
 *
 * <ul>
 *   <li>Empirical Fisher: {@code F = (1/n) sum_i g_i g_i^T}, so {@code U} has rows {@code g_i /
 *       sqrt(n)}.
 *   <li>GGN: {@code F = J^T H J / n} with J the Jacobian of the k flattened outputs, H the Hessian
 *       of the negative outer log likelihood in the outputs (the outer function sums over the
 *       batch, the filter's log likelihood is the mean); with {@code H = V diag(w) V^T}, {@code U =
 *       diag(sqrt(max(w, 0) / n)) V^T J}. Negative eigenvalues of H (a non-convex loss) are
 *       dropped, which keeps F positive semi-definite.
 * </ul>
 *
 * <p>Called inside the caller's {@code NDScope}: every array it creates is registered there.
 */
final class EkfCurvature {

    private EkfCurvature() {}

    /**
     * The linearisation at the mean.
     *
     * @param value the log likelihood (a scalar)
     * @param grad its gradient, raveled, shape (P)
     * @param factor U with {@code F = U^T U}, shape (r, P)
     * @param aux the aux of the log likelihood call
     */
    record Linearisation(NDArray value, NDArray grad, NDArray factor, NDList aux) {}

    /**
     * The diagonal linearisation at the mean.
     *
     * @param value the log likelihood (a scalar)
     * @param grad its gradient, raveled, shape (P)
     * @param curvature the diagonal of F, raveled, shape (P)
     * @param aux the aux of the log likelihood call
     */
    record Diagonal(NDArray value, NDArray grad, NDArray curvature, NDList aux) {}

    /**
     * Computes the diagonal linearisation. For the empirical Fisher it asks {@link
     * Autodiff#perSampleGradMoments} for {@code sum_i g_i} and {@code sum_i g_i^2}, which for a
     * {@code ModelLogPosterior} of a stack of linear layers costs one reverse pass instead of n.
     *
     * @param logLikelihood the per-sample log likelihood
     * @param forward the forward function for the GGN, or null for the empirical Fisher
     * @param outerLogLikelihood the outer log likelihood for the GGN, or null
     * @param params the mean
     * @param batch the batch
     * @param step the step, for messages
     * @param <B> the batch type
     * @return the diagonal linearisation
     * @throws IllegalArgumentException as {@link #compute}
     */
    static <B> Diagonal computeDiagonal(
            LogProbFn<B> logLikelihood,
            ForwardFn<B> forward,
            OuterFn<B> outerLogLikelihood,
            TensorTree params,
            B batch,
            long step) {
        if (forward == null) {
            try {
                Autodiff.GradMoments gm =
                        Autodiff.perSampleGradMoments(logLikelihood, params, batch);
                double n = gm.values().size();
                return new Diagonal(
                        gm.values().mean(),
                        gm.sum().ravel().div(n),
                        gm.sumOfSquares().ravel().div(n),
                        gm.aux());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        Checks.format("ekf update failed at step %d: %s", step, e.getMessage()), e);
            }
        }
        Linearisation lin =
                compute(logLikelihood, forward, outerLogLikelihood, params, batch, step);
        return new Diagonal(
                lin.value(), lin.grad(), lin.factor().square().sum(new int[] {0}), lin.aux());
    }

    /**
     * Computes the linearisation, reporting a failure of the user's functions with the step.
     *
     * @param logLikelihood the per-sample log likelihood
     * @param forward the forward function for the GGN, or null for the empirical Fisher
     * @param outerLogLikelihood the outer log likelihood for the GGN, or null
     * @param params the mean
     * @param batch the batch
     * @param step the step, for messages
     * @param <B> the batch type
     * @return the linearisation
     * @throws IllegalArgumentException when a function returns a value of the wrong shape or a
     *     non-finite value, naming the step
     */
    static <B> Linearisation compute(
            LogProbFn<B> logLikelihood,
            ForwardFn<B> forward,
            OuterFn<B> outerLogLikelihood,
            TensorTree params,
            B batch,
            long step) {
        try {
            if (forward == null) {
                return empiricalFisher(logLikelihood, params, batch);
            }
            return ggn(logLikelihood, forward, outerLogLikelihood, params, batch);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    Checks.format("ekf update failed at step %d: %s", step, e.getMessage()), e);
        }
    }

    private static <B> Linearisation empiricalFisher(
            LogProbFn<B> logLikelihood, TensorTree params, B batch) {
        Autodiff.ValueAndGrad vg = Autodiff.perSampleValueAndGrad(logLikelihood, params, batch);
        long n = vg.value().size();
        NDArray g = vg.grad().ravelBatched(n);
        return new Linearisation(
                vg.value().mean(), g.mean(new int[] {0}), g.div(Math.sqrt(n)), vg.aux());
    }

    private static <B> Linearisation ggn(
            LogProbFn<B> logLikelihood,
            ForwardFn<B> forward,
            OuterFn<B> outerLogLikelihood,
            TensorTree params,
            B batch) {
        long[] samples = {1};
        Autodiff.ValueAndGrad vg =
                Autodiff.valueAndGrad(meanOf(logLikelihood, samples), params, batch);

        // The Jacobian of the flattened outputs is the per-sample gradient of that vector.
        Shape[] outputShape = new Shape[1];
        LogProbFn<B> flatOutputs =
                (p, b) -> {
                    ModelOutput mo = Checks.notNull(forward.apply(p, b), "forward result");
                    outputShape[0] = mo.output().getShape();
                    return LogProb.of(mo.output().flatten());
                };
        Autodiff.ValueAndGrad jac = Autodiff.perSampleValueAndGrad(flatOutputs, params, batch);
        long k = jac.value().size();
        NDArray j = jac.grad().ravelBatched(k);
        NDArray outputs = jac.value().reshape(outputShape[0]);

        // With the identity as forward function, the GGN is the Hessian of the outer function.
        NDArray h =
                Autodiff.ggn(
                        (t, b) -> ModelOutput.of(t.get("outputs")),
                        (o, b) -> outerLogLikelihood.apply(o, b).neg(),
                        TensorTree.of("outputs", outputs),
                        batch);
        NDList eig = Linalg.eigh(h.add(h.transpose()).mul(0.5));
        NDArray scale = eig.get(0).maximum(0).sqrt();
        // the outer function sums over the samples; the filter's log likelihood is their mean
        NDArray factor = eig.get(1).mul(scale.div(Math.sqrt(samples[0]))).transpose().matMul(j);
        return new Linearisation(vg.value(), vg.grad().ravel(), factor, vg.aux());
    }

    /** The mean of a per-sample log likelihood, checked to be a vector; records its length. */
    private static <B> LogProbFn<B> meanOf(LogProbFn<B> perSample, long[] samples) {
        return (p, b) -> {
            LogProb lp = Checks.notNull(perSample.apply(p, b), "log likelihood result");
            Shape s = lp.value().getShape();
            if (s.dimension() != 1 || s.get(0) < 1) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "with perSample(true) the log likelihood must return a non-empty"
                                        + " vector with one entry per sample, got shape %s",
                                s));
            }
            samples[0] = s.get(0);
            return new LogProb(lp.value().mean(), lp.aux());
        };
    }
}
