package io.posteriors;

import static io.posteriors.Differentiation.arraysOf;
import static io.posteriors.Differentiation.callPerSample;
import static io.posteriors.Differentiation.callScalar;
import static io.posteriors.Differentiation.detach;
import static io.posteriors.Differentiation.innerProduct;
import static io.posteriors.Differentiation.onLeaves;
import static io.posteriors.Differentiation.requireOpen;
import static io.posteriors.Differentiation.treeLike;
import static io.posteriors.Differentiation.vjpOfScalar;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.posteriors.internal.Scoped;
import io.posteriors.internal.TorchAutograd;
import java.util.List;
import java.util.Optional;

/**
 * Exact derivatives of log densities: gradients, per-sample gradients and their moments, and
 * Hessian-vector products, the first-order part of the posteriors {@code utils} set. Curvature
 * (Fisher, GGN, linearised forward) is in {@link Curvature}.
 *
 * <p>Every function here evaluates the user's function on detached copies of the parameters that
 * require gradients, so no gradient is ever left on the caller's arrays, and differentiates with
 * {@code torch.autograd.grad}, which never stores gradients in {@code .grad}; second-order products
 * are therefore exact and free no memory late. All arrays a call creates are closed before it
 * returns except its results, which live on the manager of the parameters' first leaf.
 *
 * <p>Values are checked for their shape: a log probability that is not a scalar (or, for per-sample
 * functions, a non-empty vector) raises an {@link IllegalArgumentException}. Whether it is finite
 * is not checked here, which would cost a device-to-host read per call: the transforms check their
 * values and gradients, naming the step and the leaf ({@link Checks#finiteScalar}, {@link
 * Checks#finite(TensorTree, String, long)}); callers of these functions do the same.
 */
public final class Autodiff {

    private Autodiff() {}

    /**
     * A value, its gradient with respect to the parameters, and the aux of the function.
     *
     * @param value the value (a scalar, or one entry per sample)
     * @param grad the gradient, with the parameters' structure (per-sample gradients have a leading
     *     sample dimension)
     * @param aux the aux the function returned, detached from the graph
     */
    public record ValueAndGrad(NDArray value, TensorTree grad, NDList aux)
            implements AutoCloseable {
        /** Closes the value, the gradient and the aux. */
        @Override
        public void close() {
            value.close();
            grad.close();
            aux.close();
        }

        List<NDArray> arrays() {
            return arraysOf(value, List.of(grad), aux);
        }
    }

    /**
     * Returns the value, gradient and aux of a scalar log density: posteriors' use of {@code
     * grad_and_value(log_posterior, has_aux=True)}.
     *
     * @param f the log density; must return a scalar
     * @param params where to differentiate
     * @param batch the batch passed to {@code f}
     * @param <B> the batch type
     * @return value, gradient and aux, on the parameters' manager
     * @throws IllegalArgumentException when {@code f} returns null or a non-scalar
     */
    public static <B> ValueAndGrad valueAndGrad(LogProbFn<B> f, TensorTree params, B batch) {
        return valueAndGrad(f, params, batch, false);
    }

    private static <B> ValueAndGrad valueAndGrad(
            LogProbFn<B> f, TensorTree params, B batch, boolean perSample) {
        Checks.notNull(f, "f");
        if (!perSample) {
            Optional<ModelLogPosterior<B>> s = f.structure();
            if (s.isPresent() && !s.get().isPerSample() && s.get().gaussianPrior() != null) {
                return valueAndGradAnalyticPrior(s.get(), params, batch);
            }
        }
        long start = System.nanoTime();
        ValueAndGrad result = genericValueAndGrad(f, params, batch, perSample);
        if (perSample) {
            SlowPathReport.report(f, result.value().size(), System.nanoTime() - start);
        }
        return result;
    }

    private static <B> ValueAndGrad genericValueAndGrad(
            LogProbFn<B> f, TensorTree params, B batch, boolean perSample) {
        return onLeaves(
                params,
                x -> {
                    LogProb lp = perSample ? callPerSample(f, x, batch) : callScalar(f, x, batch);
                    NDArray value = lp.value();
                    NDList g =
                            perSample
                                    ? TorchAutograd.jacobian(value, x.leaves(), params.manager())
                                    : TorchAutograd.backward(value, x.leaves());
                    return new ValueAndGrad(
                            value.stopGradient(), treeLike(params, g), detach(lp.aux()));
                },
                ValueAndGrad::arrays);
    }

    /**
     * The gradient of a log posterior whose prior is a {@link GaussianPrior}: one reverse pass
     * through the mean log likelihood, then the prior's value and gradient (over N) added outside
     * the graph.
     */
    private static <B> ValueAndGrad valueAndGradAnalyticPrior(
            ModelLogPosterior<B> m, TensorTree params, B batch) {
        // the likelihood alone, as a plain scalar function: the generic reverse pass
        LogProbFn<B> likelihood = m::applyLikelihood;
        ValueAndGrad vg = genericValueAndGrad(likelihood, params, batch, false);
        try {
            double scale = 1.0 / m.dataSize();
            m.gaussianPrior().addScaledGradient(params, vg.grad(), scale);
            try (NDArray prior = m.gaussianPrior().scaledValue(params, scale)) {
                vg.value().addi(prior);
            }
        } catch (RuntimeException e) {
            vg.close();
            throw e;
        }
        return vg;
    }

    /**
     * Returns the gradient of a scalar log density, discarding value and aux.
     *
     * @param f the log density; must return a scalar
     * @param params where to differentiate
     * @param batch the batch passed to {@code f}
     * @param <B> the batch type
     * @return the gradient, on the parameters' manager
     * @throws IllegalArgumentException when {@code f} returns null or a non-scalar
     */
    public static <B> TensorTree grad(LogProbFn<B> f, TensorTree params, B batch) {
        ValueAndGrad vg = valueAndGrad(f, params, batch);
        vg.value().close();
        vg.aux().close();
        return vg.grad();
    }

    /**
     * Returns per-sample values and gradients of a function that returns one log probability per
     * sample (a vector of length n): the Jacobian of that vector, as posteriors' {@code
     * per_samplify} with {@code jacrev} gives. Row i of every gradient leaf is the gradient of
     * entry i.
     *
     * <p>This generic path runs one reverse pass per sample. The per-sample gradients sum to the
     * gradient of the summed value.
     *
     * @param f the per-sample log density; must return a vector
     * @param params where to differentiate
     * @param batch the batch passed to {@code f}
     * @param <B> the batch type
     * @return the values (n), gradients with a leading dimension n, and the aux
     * @throws IllegalArgumentException when {@code f} does not return a non-empty vector
     */
    public static <B> ValueAndGrad perSampleValueAndGrad(
            LogProbFn<B> f, TensorTree params, B batch) {
        return valueAndGrad(f, params, batch, true);
    }

    /**
     * Sums over the samples of a batch of per-sample gradients and of their squares.
     *
     * @param values the per-sample values, shape {@code (n)}
     * @param sum {@code sum_i g_i}, with the parameters' structure
     * @param sumOfSquares {@code sum_i g_i^2} elementwise: the diagonal of the empirical Fisher
     *     (unnormalised)
     * @param aux the aux of the function
     */
    public record GradMoments(NDArray values, TensorTree sum, TensorTree sumOfSquares, NDList aux)
            implements AutoCloseable {
        /** Closes every component. */
        @Override
        public void close() {
            values.close();
            sum.close();
            sumOfSquares.close();
            aux.close();
        }

        List<NDArray> arrays() {
            return arraysOf(values, List.of(sum, sumOfSquares), aux);
        }
    }

    /**
     * Returns {@code sum_i g_i} and {@code sum_i g_i^2} of the per-sample gradients {@code g_i} of
     * a per-sample log density: what the diagonal empirical Fisher (Laplace, EKF) needs, without
     * necessarily forming the per-sample gradients.
     *
     * <p><b>Fast path.</b> When {@code f} has a {@linkplain LogProbFn#structure() structure} in
     * per-sample form (a {@link ModelLogPosterior#perSample()}) and its model is a {@code
     * SequentialBlock} of {@code Linear} layers (two-dimensional inputs) and blocks without
     * parameters, one reverse pass gives the gradient {@code delta_i} of each sample's log
     * likelihood with respect to each layer's output (through a zero probe added to it), and for a
     * weight {@code sum_i g_i^2 = (delta^2)^T (a^2)} with {@code a} the layer's inputs; the prior's
     * share {@code r = grad(logPrior)/N}, the same for every sample, adds {@code 2 r (delta^T a) +
     * n r^2}. This costs about one backward pass instead of n. Other functions take the generic
     * path ({@link #perSampleValueAndGrad} then sums); both agree to rounding.
     *
     * @param f the per-sample log density; must return a vector
     * @param params where to differentiate
     * @param batch the batch passed to {@code f}
     * @param <B> the batch type
     * @return values, sums and aux on the parameters' manager
     */
    public static <B> GradMoments perSampleGradMoments(LogProbFn<B> f, TensorTree params, B batch) {
        Checks.notNull(f, "f");
        requireOpen(params);
        Optional<ModelLogPosterior<B>> structured =
                f.structure().filter(ModelLogPosterior::isPerSample);
        if (structured.isPresent()) {
            GradMoments fast = structured.get().probing().gradMoments(params, batch);
            if (fast != null) {
                return fast;
            }
        }
        ValueAndGrad vg = perSampleValueAndGrad(f, params, batch);
        return Scoped.call(
                params.manager(),
                () -> {
                    TensorTree sum = vg.grad().map(g -> g.sum(new int[] {0}));
                    TensorTree sq = vg.grad().map(g -> g.square().sum(new int[] {0}));
                    vg.grad().close();
                    return new GradMoments(vg.value(), sum, sq, vg.aux());
                },
                GradMoments::arrays);
    }

    /**
     * Returns the Hessian-vector product {@code (d^2 f / d params^2) v} of a scalar log density,
     * exactly (double reverse mode), without leaking the graph.
     *
     * @param f the log density; must return a scalar
     * @param params where to differentiate
     * @param batch the batch passed to {@code f}
     * @param v the direction, with the parameters' structure
     * @param <B> the batch type
     * @return the product, on the parameters' manager
     * @throws IllegalArgumentException when {@code v} has another structure or {@code f} returns
     *     null or a non-scalar
     */
    public static <B> TensorTree hvp(LogProbFn<B> f, TensorTree params, B batch, TensorTree v) {
        Checks.notNull(f, "f");
        return onLeaves(
                params,
                x -> {
                    params.requireSameStructure(v, "v");
                    LogProb lp = callScalar(f, x, batch);
                    NDArray value = lp.value();
                    NDList g = vjpOfScalar(value, x.leaves(), true, params.manager());
                    NDArray dot = innerProduct(g, v.leaves());
                    return treeLike(params, vjpOfScalar(dot, x.leaves(), false, params.manager()));
                },
                TensorTree::leaves);
    }
}
