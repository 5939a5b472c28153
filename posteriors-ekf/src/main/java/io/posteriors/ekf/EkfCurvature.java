package io.posteriors.ekf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Autodiff;
import io.posteriors.Checks;
import io.posteriors.Curvature;
import io.posteriors.ForwardFn;
import io.posteriors.FusedOps;
import io.posteriors.InitialValue;
import io.posteriors.Linalg;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.ModelOutput;
import io.posteriors.OuterFn;
import io.posteriors.PerSample;
import io.posteriors.Schedule;
import io.posteriors.Scopes;
import io.posteriors.TemperedBuilder;
import io.posteriors.TensorTree;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What both filters share: the choice and computation of the curvature, the checks of its values,
 * and the checks of the options that select it.
 *
 * <p>The linearisation at the mean is the log likelihood's value and gradient and a curvature
 * {@code F}, given as a factor {@code U} (r-by-P) with {@code F = U^T U} and as its diagonal. The
 * log likelihood is always evaluated in per-sample form (a vector of n values; a whole-batch
 * function goes through {@link PerSample#perSampleForm} first, as posteriors does with {@code
 * per_samplify}), and the filter's log likelihood is their mean, so {@code g = (1/n) sum_i g_i}.
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
 * <p>{@link #update} runs a whole filter step in one scope: every array it creates, except the aux
 * it returns, is closed when it returns or throws.
 */
final class EkfCurvature {

    private EkfCurvature() {}

    /**
     * The linearisation at the mean.
     *
     * @param value the log likelihood (a scalar)
     * @param grad its gradient, raveled, shape (P)
     * @param factor U with {@code F = U^T U}, shape (r, P); null when only the diagonal was asked
     *     for and the empirical Fisher's fast path gave it directly
     * @param diagonal the diagonal of F, raveled, shape (P)
     * @param aux the aux of the log likelihood call
     */
    record Linearisation(
            NDArray value, NDArray grad, NDArray factor, NDArray diagonal, NDList aux) {

        private void storeValue(NDArray target) {
            target.set(new NDIndex("..."), value.toType(target.getDataType(), false));
        }
    }

    /** The options that choose the linearisation: components of both transform records. */
    interface Options<B> {
        LogProbFn<B> logLikelihood();

        boolean perSample();

        Function<B, List<B>> batchSplitter();

        ForwardFn<B> forward(); // null for the empirical Fisher

        OuterFn<B> outerLogLikelihood();
    }

    /**
     * Runs one filter step in a scope: linearises at the mean {@code params}, lets {@code update}
     * compute and then write the new mean and spread, stores the log likelihood into the state's
     * scalar, and returns the aux. Every value is checked before {@code update} runs; a failure
     * names the step.
     */
    static <B> NDList update(
            Options<B> options,
            TensorTree params,
            NDArray logLikelihood,
            B batch,
            long step,
            Consumer<Linearisation> update) {
        return Scopes.call(
                params.manager(),
                () -> {
                    Linearisation lin = linearise(options, params, batch, step);
                    update.accept(lin);
                    lin.storeValue(logLikelihood);
                    return lin.aux();
                },
                aux -> aux);
    }

    /**
     * Linearises the log likelihood at the mean and checks the value and the gradient before any
     * curvature is computed from them, then the curvature, naming the step (and the leaf).
     */
    /**
     * The diagonal filter with the empirical Fisher: per-sample gradient moments (one pass on the
     * fast path), the checks, then the predict and update steps of every leaf in one fused call
     * ({@link FusedOps#diagonalFilterUpdate}) with no flattening of the parameters.
     *
     * @return the aux of the log likelihood
     */
    static <B> NDList updateDiagonalFisher(
            Options<B> options,
            TensorTree params,
            TensorTree sdDiag,
            NDArray logLikelihood,
            B batch,
            long step,
            double lr,
            double transitionSd) {
        LogProbFn<B> perSampleForm =
                PerSample.perSampleForm(
                        options.logLikelihood(), options.perSample(), options.batchSplitter());
        return Scopes.call(
                params.manager(),
                () -> {
                    Autodiff.GradMoments gm =
                            atStep(
                                    step,
                                    () ->
                                            Autodiff.perSampleGradMoments(
                                                    perSampleForm, params, batch));
                    NDArray value = gm.values().mean();
                    Checks.finiteScalar(value, "log likelihood", step);
                    Checks.finite(gm.sum(), "gradient", step);
                    Checks.finite(gm.sumOfSquares(), "curvature", step);
                    FusedOps.diagonalFilterUpdate(
                            params,
                            sdDiag,
                            gm.sum(),
                            gm.sumOfSquares(),
                            gm.values().size(),
                            lr,
                            transitionSd);
                    logLikelihood.set(
                            new NDIndex("..."), value.toType(logLikelihood.getDataType(), false));
                    return gm.aux();
                },
                aux -> aux);
    }

    private static <B> Linearisation linearise(
            Options<B> options, TensorTree params, B batch, long step) {
        LogProbFn<B> perSampleForm =
                PerSample.perSampleForm(
                        options.logLikelihood(), options.perSample(), options.batchSplitter());
        Linearisation lin;
        if (options.forward() != null) {
            lin = ggn(perSampleForm, options, params, batch, step);
        } else {
            lin = atStep(step, () -> empiricalFisher(perSampleForm, params, batch));
            requireFinite(params, lin.value(), lin.grad(), step);
        }
        Checks.finite(params.unravel(lin.diagonal()), "curvature", step);
        return lin;
    }

    /** Runs a call of the user's functions, naming the step in what it throws. */
    private static <T> T atStep(long step, Supplier<T> call) {
        try {
            return call.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    Checks.format("ekf update failed at step %d: %s", step, e.getMessage()), e);
        }
    }

    private static void requireFinite(TensorTree params, NDArray value, NDArray grad, long step) {
        Checks.finiteScalar(value, "log likelihood", step);
        Checks.finite(params.unravel(grad), "gradient", step);
    }

    private static <B> Linearisation empiricalFisher(
            LogProbFn<B> logLikelihood, TensorTree params, B batch) {
        Autodiff.ValueAndGrad vg = Autodiff.perSampleValueAndGrad(logLikelihood, params, batch);
        long n = vg.value().size();
        NDArray g = vg.grad().ravelBatched(n);
        NDArray factor = g.div(Math.sqrt(n));
        return new Linearisation(
                vg.value().mean(), g.mean(new int[] {0}), factor, diagonalOf(factor), vg.aux());
    }

    private static <B> Linearisation ggn(
            LogProbFn<B> logLikelihood, Options<B> options, TensorTree params, B batch, long step) {
        long[] samples = {1};
        Autodiff.ValueAndGrad vg =
                atStep(
                        step,
                        () -> Autodiff.valueAndGrad(meanOf(logLikelihood, samples), params, batch));
        NDArray grad = vg.grad().ravel();
        requireFinite(params, vg.value(), grad, step);

        // The Jacobian of the flattened outputs is the per-sample gradient of that vector.
        Shape[] outputShape = new Shape[1];
        LogProbFn<B> flatOutputs =
                (p, b) -> {
                    ModelOutput mo =
                            Checks.notNull(options.forward().apply(p, b), "forward result");
                    outputShape[0] = mo.output().getShape();
                    return LogProb.of(mo.output().flatten());
                };
        Autodiff.ValueAndGrad jac =
                atStep(step, () -> Autodiff.perSampleValueAndGrad(flatOutputs, params, batch));
        long k = jac.value().size();
        NDArray j = jac.grad().ravelBatched(k);
        TensorTree outputs = TensorTree.of("outputs", jac.value().reshape(outputShape[0]));

        // With the identity as forward function, the GGN is the Hessian of the outer function.
        NDArray h =
                atStep(
                        step,
                        () ->
                                Curvature.ggn(
                                        (t, b) -> ModelOutput.of(t.get("outputs")),
                                        (o, b) -> options.outerLogLikelihood().apply(o, b).neg(),
                                        outputs,
                                        batch));
        Checks.finite(TensorTree.of("outputs", h), "hessian of the outer log likelihood", step);
        NDList eig = Linalg.eigh(h.add(h.transpose()).mul(0.5));
        NDArray scale = eig.get(0).maximum(0).sqrt();
        // the outer function sums over the samples; the filter's log likelihood is their mean
        NDArray factor = eig.get(1).mul(scale.div(Math.sqrt(samples[0]))).transpose().matMul(j);
        return new Linearisation(vg.value(), grad, factor, diagonalOf(factor), vg.aux());
    }

    /** The diagonal of {@code U^T U}: the column sums of squares. */
    private static NDArray diagonalOf(NDArray factor) {
        return factor.square().sum(new int[] {0});
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

    /** Checks the options both records share (see their compact constructors). */
    static void checkOptions(
            LogProbFn<?> logLikelihood,
            Schedule lr,
            ForwardFn<?> forward,
            OuterFn<?> outerLogLikelihood,
            Function<?, ?> batchSplitter) {
        Checks.notNull(logLikelihood, "logLikelihood");
        TemperedBuilder.lrAt(Checks.notNull(lr, "lr"), 0);
        Checks.notNull(batchSplitter, "batchSplitter");
        if ((forward == null) != (outerLogLikelihood == null)) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "forward and outerLogLikelihood must be given together (the GGN) or"
                                    + " both be null (the empirical Fisher), got only %s",
                            forward == null ? "outerLogLikelihood" : "forward"));
        }
    }

    /**
     * Checks an initial spread given as a number or a tree: every entry positive and finite, else
     * an exception naming the leaf and flat index.
     */
    static InitialValue requirePositive(InitialValue value, String name) {
        Checks.notNull(value, name);
        if (value instanceof InitialValue.Constant c) {
            Checks.positive(c.value(), name);
        } else if (value instanceof InitialValue.Tree t) {
            t.tree().forEach((k, a) -> requirePositive(a, name, k));
        } else {
            throw new IllegalArgumentException(
                    Checks.format("%s must be a number or a tree shaped like params", name));
        }
        return value;
    }

    private static void requirePositive(NDArray a, String name, String leaf) {
        Checks.open(a, name + " leaf '" + leaf + "'");
        Scopes.run(
                () -> {
                    NDArray d = a.toType(DataType.FLOAT64, false).flatten();
                    NDArray bad = d.lte(0).logicalOr(d.isNaN()).logicalOr(d.isInfinite());
                    if (bad.any().getBoolean()) {
                        long at = bad.toType(DataType.INT32, false).argMax().getLong();
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "%s must be positive and finite, got %s at leaf '%s' flat"
                                                + " index %d",
                                        name, d.get(at).getDouble(), leaf, at));
                    }
                });
    }
}
