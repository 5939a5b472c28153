package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.posteriors.internal.Scoped;
import io.posteriors.internal.TorchAutograd;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Exact derivatives of log densities and model functions: the posteriors {@code utils} set.
 *
 * <p>Every function here evaluates the user's function on detached copies of the parameters that
 * require gradients, so no gradient is ever left on the caller's arrays, and differentiates with
 * {@code torch.autograd.grad} (see {@link TorchAutograd}), which never stores gradients in {@code
 * .grad}; second-order products are therefore exact and free no memory late. All arrays a call
 * creates are closed before it returns except its results, which live on the manager of the
 * parameters' first leaf.
 *
 * <p>Values are checked: a log probability that is not a scalar (or, for per-sample functions, a
 * vector) or that is NaN or infinite raises an {@link IllegalArgumentException}. The finiteness
 * check reads one number from the device; set the system property {@code
 * posteriors.skipFiniteChecks=true} to skip it on accelerators where that synchronisation matters.
 */
public final class Autodiff {

    private static final boolean CHECK_FINITE = !Boolean.getBoolean("posteriors.skipFiniteChecks");

    /** Number of calls served by the fast per-sample path (for tests and diagnostics). */
    static final java.util.concurrent.atomic.AtomicLong FAST_PATH_CALLS =
            new java.util.concurrent.atomic.AtomicLong();

    private static final boolean FAST_PER_SAMPLE =
            !"false".equals(System.getProperty("posteriors.fastPerSample"));

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
    }

    /**
     * Mean and covariance of a model's outputs under a linearisation around the parameters.
     *
     * @param mean the outputs at the parameters, shape {@code (n, *out)}
     * @param cov the covariance of the flattened outputs of each sample, shape {@code (n, d, d)}
     *     with {@code d} the number of outputs per sample
     * @param aux the aux of the forward function
     */
    public record Linearized(NDArray mean, NDArray cov, NDList aux) implements AutoCloseable {
        /** Closes the three components. */
        @Override
        public void close() {
            mean.close();
            cov.close();
            aux.close();
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
     * @throws IllegalArgumentException when {@code f} returns a non-scalar, NaN or infinite value
     */
    public static <B> ValueAndGrad valueAndGrad(LogProbFn<B> f, TensorTree params, B batch) {
        Checks.notNull(f, "f");
        requireOpen(params);
        return Scoped.call(
                params.manager(),
                () ->
                        TorchAutograd.withGrad(
                                () -> {
                                    TensorTree x = leavesOf(params);
                                    LogProb lp = call(f, x, batch);
                                    NDArray value = lp.value();
                                    checkScalar(value, "log probability");
                                    NDList g = firstOrder(value, x);
                                    return new ValueAndGrad(
                                            value.stopGradient(),
                                            treeLike(params, g),
                                            detach(lp.aux()));
                                }),
                Autodiff::arraysOf);
    }

    /**
     * Returns the gradient of a scalar log density, discarding value and aux.
     *
     * @param f the log density; must return a scalar
     * @param params where to differentiate
     * @param batch the batch passed to {@code f}
     * @param <B> the batch type
     * @return the gradient, on the parameters' manager
     * @throws IllegalArgumentException when {@code f} returns a non-scalar, NaN or infinite value
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
     * @throws IllegalArgumentException when {@code f} does not return a non-empty finite vector
     */
    public static <B> ValueAndGrad perSampleValueAndGrad(
            LogProbFn<B> f, TensorTree params, B batch) {
        Checks.notNull(f, "f");
        requireOpen(params);
        return Scoped.call(
                params.manager(),
                () ->
                        TorchAutograd.withGrad(
                                () -> {
                                    TensorTree x = leavesOf(params);
                                    LogProb lp = call(f, x, batch);
                                    NDArray value = lp.value();
                                    checkVector(value, "per-sample log probability");
                                    NDList j =
                                            TorchAutograd.jacobian(
                                                    value, x.leaves(), params.manager());
                                    return new ValueAndGrad(
                                            value.stopGradient(),
                                            treeLike(params, j),
                                            detach(lp.aux()));
                                }),
                Autodiff::arraysOf);
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
    }

    /**
     * Returns {@code sum_i g_i} and {@code sum_i g_i^2} of the per-sample gradients {@code g_i} of
     * a per-sample log density: what the diagonal empirical Fisher (Laplace, EKF) needs, without
     * necessarily forming the per-sample gradients.
     *
     * <p><b>Fast path.</b> When {@code f} is a {@link ModelLogPosterior} in per-sample form and its
     * model is a {@code SequentialBlock} of {@code Linear} layers (two-dimensional inputs) and
     * blocks without parameters, one reverse pass gives the gradient {@code delta_i} of each
     * sample's log likelihood with respect to each layer's output (through a zero probe added to
     * it), and for a weight {@code sum_i g_i^2 = (delta^2)^T (a^2)} with {@code a} the layer's
     * inputs; the prior's share {@code r = grad(logPrior)/N}, the same for every sample, adds
     * {@code 2 r (delta^T a) + n r^2}. This costs about one backward pass instead of n. Other
     * functions take the generic path ({@link #perSampleValueAndGrad} then sums); both agree to
     * rounding.
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
        if (f instanceof ModelLogPosterior<B> m && m.isPerSample() && FAST_PER_SAMPLE) {
            GradMoments fast =
                    Scoped.call(
                            params.manager(),
                            () -> TorchAutograd.withGrad(() -> fastMoments(m, params, batch)),
                            Autodiff::arraysOfMoments);
            if (fast != null) {
                FAST_PATH_CALLS.incrementAndGet();
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
                Autodiff::arraysOfMoments);
    }

    private static <B> GradMoments fastMoments(ModelLogPosterior<B> m, TensorTree params, B batch) {
        TensorTree x = leavesOf(params);
        Probed probed = probedForward(m, x, batch);
        if (probed == null) {
            return null;
        }
        List<FunctionalModel.LinearProbe> probes = probed.probes();
        List<NDArray> probeArrays = probed.probeArrays();
        NDArray o = probed.output();
        NDArray ll = m.logLikelihood().apply(o, batch);
        checkVector(ll, "per-sample log likelihood");
        long n = ll.getShape().get(0);
        NDArray total = ll.sum();
        NDList deltas =
                TorchAutograd.vjp(
                        List.of(total),
                        probeArrays,
                        List.of(total.onesLike()),
                        false,
                        params.manager());
        Map<String, NDArray> sum = new LinkedHashMap<>();
        Map<String, NDArray> sq = new LinkedHashMap<>();
        for (int i = 0; i < probes.size(); i++) {
            FunctionalModel.LinearProbe p = probes.get(i);
            NDArray delta = deltas.get(i);
            NDArray a = p.input();
            sum.put(p.weight(), delta.transpose().matMul(a));
            sq.put(p.weight(), delta.square().transpose().matMul(a.square()));
            if (p.bias() != null) {
                sum.put(p.bias(), delta.sum(new int[] {0}));
                sq.put(p.bias(), delta.square().sum(new int[] {0}));
            }
        }
        NDArray prior = m.scaledPrior(x);
        NDArray values = ll;
        TensorTree r = null;
        if (prior != null) {
            checkScalar(prior, "log prior");
            values = ll.add(prior);
            r = treeLike(params, firstOrder(prior, x));
        }
        Map<String, NDArray> sumOut = new LinkedHashMap<>();
        Map<String, NDArray> sqOut = new LinkedHashMap<>();
        for (String k : params.names()) {
            NDArray s1 = sum.get(k);
            NDArray s2 = sq.get(k);
            if (s1 == null) {
                s1 = params.get(k).zerosLike();
                s2 = params.get(k).zerosLike();
            }
            if (r != null) {
                NDArray rk = r.get(k);
                // sum_i (m_i + r)^2 = sum_i m_i^2 + r (2 sum_i m_i + n r); in place, since
                // every fresh full-size array costs an allocation and page faults
                NDArray nr = rk.mul(n);
                NDArray twiceSumPlusNr = s1.mul(2).addi(nr);
                s2.addi(twiceSumPlusNr.muli(rk));
                s1.addi(nr);
            }
            sumOut.put(k, s1);
            sqOut.put(k, s2);
        }
        return new GradMoments(
                values.stopGradient(),
                TensorTree.of(sumOut),
                TensorTree.of(sqOut),
                new NDList(o.stopGradient()));
    }

    /** The model run with probes: its output, the probed layers and their probe arrays. */
    private record Probed(
            NDArray output, List<FunctionalModel.LinearProbe> probes, List<NDArray> probeArrays) {}

    /**
     * Runs the structured model with zero probes on its Linear outputs, or returns null when the
     * fast path does not cover it (an unknown layer with parameters, no Linear layer, or a
     * parameter used by two layers).
     */
    private static <B> Probed probedForward(ModelLogPosterior<B> m, TensorTree leaves, B batch) {
        List<FunctionalModel.LinearProbe> probes = new ArrayList<>();
        NDList out = m.model().forwardWithProbes(leaves, m.inputsOf(batch), probes);
        if (out == null || probes.isEmpty() || sharesParameters(probes)) {
            return null;
        }
        List<NDArray> probeArrays = new ArrayList<>();
        probes.forEach(p -> probeArrays.add(p.probe()));
        return new Probed(out.singletonOrThrow(), probes, probeArrays);
    }

    private static boolean sharesParameters(List<FunctionalModel.LinearProbe> probes) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (FunctionalModel.LinearProbe p : probes) {
            if (!seen.add(p.weight()) || (p.bias() != null && !seen.add(p.bias()))) {
                return true;
            }
        }
        return false;
    }

    private static List<NDArray> arraysOfMoments(GradMoments gm) {
        if (gm == null) {
            return List.of();
        }
        List<NDArray> all = new ArrayList<>();
        all.add(gm.values());
        all.addAll(gm.sum().leaves());
        all.addAll(gm.sumOfSquares().leaves());
        gm.aux().forEach(all::add);
        return all;
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
     * @throws IllegalArgumentException when {@code v} has another structure or {@code f} returns a
     *     non-scalar or non-finite value
     */
    public static <B> TensorTree hvp(LogProbFn<B> f, TensorTree params, B batch, TensorTree v) {
        Checks.notNull(f, "f");
        requireOpen(params);
        params.requireSameStructure(v, "v");
        return Scoped.call(
                params.manager(),
                () ->
                        TorchAutograd.withGrad(
                                () -> {
                                    TensorTree x = leavesOf(params);
                                    LogProb lp = call(f, x, batch);
                                    NDArray value = lp.value();
                                    checkScalar(value, "log probability");
                                    NDList g =
                                            TorchAutograd.vjp(
                                                    List.of(value),
                                                    x.leaves(),
                                                    List.of(value.onesLike()),
                                                    true,
                                                    params.manager());
                                    NDArray dot = innerProduct(g, v.leaves());
                                    NDList hv =
                                            TorchAutograd.vjp(
                                                    List.of(dot),
                                                    x.leaves(),
                                                    List.of(dot.onesLike()),
                                                    false,
                                                    params.manager());
                                    return treeLike(params, hv);
                                }),
                TensorTree::leaves);
    }

    /**
     * Returns the empirical Fisher-vector product {@code J^T J v} (divided by n when {@code
     * normalize}), where J is the n-by-P Jacobian of a per-sample log probability vector:
     * posteriors' {@code fvp}. Computed with two reverse passes and one forward product (by the
     * double-vector-Jacobian trick), never forming J.
     *
     * @param f the per-sample log density; must return a vector
     * @param params where to differentiate
     * @param batch the batch passed to {@code f}
     * @param v the direction, with the parameters' structure
     * @param normalize whether to divide by the number of samples
     * @param <B> the batch type
     * @return the product, on the parameters' manager
     */
    public static <B> TensorTree fvp(
            LogProbFn<B> f, TensorTree params, B batch, TensorTree v, boolean normalize) {
        Checks.notNull(f, "f");
        requireOpen(params);
        params.requireSameStructure(v, "v");
        return Scoped.call(
                params.manager(),
                () ->
                        TorchAutograd.withGrad(
                                () -> {
                                    TensorTree x = leavesOf(params);
                                    LogProb lp = call(f, x, batch);
                                    NDArray y = lp.value();
                                    checkVector(y, "per-sample log probability");
                                    NDArray jv = jvp(y, x.leaves(), v.leaves(), params.manager());
                                    NDList fv =
                                            TorchAutograd.vjp(
                                                    List.of(y),
                                                    x.leaves(),
                                                    List.of(jv),
                                                    false,
                                                    params.manager());
                                    TensorTree out = treeLike(params, fv);
                                    if (normalize) {
                                        double n = y.getShape().get(0);
                                        out.forEach((k, a) -> a.divi(n));
                                    }
                                    return out;
                                }),
                TensorTree::leaves);
    }

    /**
     * Returns the dense empirical Fisher {@code J^T J} (divided by n when {@code normalize}) over
     * the raveled parameters (see {@link TensorTree#ravel()}), where J is the Jacobian of a
     * per-sample log probability vector: posteriors' {@code empirical_fisher}.
     *
     * @param f the per-sample log density; must return a vector
     * @param params where to differentiate
     * @param batch the batch passed to {@code f}
     * @param normalize whether to divide by the number of samples
     * @param <B> the batch type
     * @return a P-by-P matrix on the parameters' manager
     */
    public static <B> NDArray empiricalFisher(
            LogProbFn<B> f, TensorTree params, B batch, boolean normalize) {
        Checks.notNull(f, "f");
        requireOpen(params);
        return Scoped.call(
                params.manager(),
                () ->
                        TorchAutograd.withGrad(
                                () -> {
                                    TensorTree x = leavesOf(params);
                                    LogProb lp = call(f, x, batch);
                                    NDArray y = lp.value();
                                    checkVector(y, "per-sample log probability");
                                    NDList j =
                                            TorchAutograd.jacobian(y, x.leaves(), params.manager());
                                    NDArray jm = flatRows(j, y.getShape().get(0));
                                    NDArray fisher = jm.transpose().matMul(jm);
                                    if (normalize) {
                                        fisher.divi(y.getShape().get(0));
                                    }
                                    return fisher;
                                }),
                a -> List.of(a));
    }

    /**
     * Returns the generalised Gauss-Newton-vector product {@code J^T H J v}, where J is the
     * Jacobian of the forward function's outputs with respect to the parameters and H the Hessian
     * of {@code outer} with respect to the outputs: posteriors' {@code ggnvp}. Pass a loss (a
     * negative log likelihood) as {@code outer} for a positive semi-definite GGN.
     *
     * @param forward the model's forward function
     * @param outer the scalar function of the outputs
     * @param params where to linearise
     * @param batch the batch passed to both functions
     * @param v the direction, with the parameters' structure
     * @param <B> the batch type
     * @return the product, on the parameters' manager
     */
    public static <B> TensorTree ggnvp(
            ForwardFn<B> forward, OuterFn<B> outer, TensorTree params, B batch, TensorTree v) {
        Checks.notNull(forward, "forward");
        Checks.notNull(outer, "outer");
        requireOpen(params);
        params.requireSameStructure(v, "v");
        return Scoped.call(
                params.manager(),
                () ->
                        TorchAutograd.withGrad(
                                () -> {
                                    TensorTree x = leavesOf(params);
                                    NDArray o = forwardOutput(forward, x, batch);
                                    NDArray jv = jvp(o, x.leaves(), v.leaves(), params.manager());
                                    NDArray od = o.stopGradient();
                                    od.setRequiresGradient(true);
                                    NDArray loss = outerValue(outer, od, batch);
                                    NDArray gl =
                                            TorchAutograd.vjp(
                                                            List.of(loss),
                                                            List.of(od),
                                                            List.of(loss.onesLike()),
                                                            true,
                                                            params.manager())
                                                    .get(0);
                                    NDArray dot = gl.mul(jv).sum();
                                    NDArray hjv =
                                            TorchAutograd.vjp(
                                                            List.of(dot),
                                                            List.of(od),
                                                            List.of(dot.onesLike()),
                                                            false,
                                                            params.manager())
                                                    .get(0);
                                    NDList out =
                                            TorchAutograd.vjp(
                                                    List.of(o),
                                                    x.leaves(),
                                                    List.of(hjv),
                                                    false,
                                                    params.manager());
                                    return treeLike(params, out);
                                }),
                TensorTree::leaves);
    }

    /**
     * Returns the dense generalised Gauss-Newton matrix {@code J^T H J} over the raveled
     * parameters: posteriors' {@code ggn}. Costs one reverse pass per output element; use it on
     * small models or on a subset of the parameters.
     *
     * @param forward the model's forward function
     * @param outer the scalar function of the outputs (a loss for a PSD result)
     * @param params where to linearise
     * @param batch the batch passed to both functions
     * @param <B> the batch type
     * @return a P-by-P matrix on the parameters' manager
     */
    public static <B> NDArray ggn(
            ForwardFn<B> forward, OuterFn<B> outer, TensorTree params, B batch) {
        return ggnParts(forward, outer, params, batch, false);
    }

    /**
     * Returns the diagonal of the generalised Gauss-Newton matrix {@code J^T H J}, with the
     * parameters' structure: posteriors' {@code diag_ggn}.
     *
     * @param forward the model's forward function
     * @param outer the scalar function of the outputs (a loss for a non-negative result)
     * @param params where to linearise
     * @param batch the batch passed to both functions
     * @param <B> the batch type
     * @return the diagonal, on the parameters' manager
     */
    public static <B> TensorTree diagGgn(
            ForwardFn<B> forward, OuterFn<B> outer, TensorTree params, B batch) {
        try (NDArray diag = ggnParts(forward, outer, params, batch, true)) {
            return Scoped.call(
                    params.manager(),
                    () -> {
                        TensorTree t = params.unravel(diag);
                        return t.map(NDArray::duplicate);
                    },
                    TensorTree::leaves);
        }
    }

    /**
     * Returns the diagonal of the GGN {@code sum_i J_i^T H_i J_i} of the negative log likelihood of
     * a structured log posterior, where {@code J_i} is the Jacobian of sample i's outputs and
     * {@code H_i} the Hessian of {@code -logLik_i} with respect to them (the prior is not included:
     * Laplace methods add it as the initial precision).
     *
     * <p><b>Fast path</b> (a {@code SequentialBlock} of {@code Linear} layers and parameter-free
     * blocks): factor each {@code H_i = L_i L_i^T} (C-by-C for C outputs per sample), push each of
     * the C columns of {@code L} back to every layer's output, and sum {@code (delta^2)^T (a^2)}
     * over the columns: C reverse passes instead of a Jacobian with one row per output element.
     * Other models use {@link #diagGgn(ForwardFn, OuterFn, TensorTree, Object)}.
     *
     * @param m the structured log posterior (its log likelihood entry i must depend on sample i's
     *     outputs only)
     * @param params where to linearise
     * @param batch the batch
     * @param <B> the batch type
     * @return the diagonal, on the parameters' manager
     */
    public static <B> TensorTree diagGgn(ModelLogPosterior<B> m, TensorTree params, B batch) {
        Checks.notNull(m, "m");
        requireOpen(params);
        if (FAST_PER_SAMPLE) {
            TensorTree fast =
                    Scoped.call(
                            params.manager(),
                            () -> TorchAutograd.withGrad(() -> fastDiagGgn(m, params, batch)),
                            t -> t == null ? List.of() : t.leaves());
            if (fast != null) {
                FAST_PATH_CALLS.incrementAndGet();
                return fast;
            }
        }
        OuterFn<B> loss = (o, b) -> m.outerLogLikelihood().apply(o, b).neg();
        return diagGgn(m.forward(), loss, params, batch);
    }

    private static <B> TensorTree fastDiagGgn(ModelLogPosterior<B> m, TensorTree params, B batch) {
        TensorTree x = leavesOf(params);
        Probed probed = probedForward(m, x, batch);
        if (probed == null) {
            return null;
        }
        List<FunctionalModel.LinearProbe> probes = probed.probes();
        List<NDArray> probeArrays = probed.probeArrays();
        NDArray o = probed.output();
        if (o.getShape().dimension() != 2) {
            return null;
        }
        int c = (int) o.getShape().get(1);
        // per-sample Hessian blocks of the loss with respect to the outputs, H[i, :, k]
        NDArray od = o.stopGradient();
        od.setRequiresGradient(true);
        NDArray loss = m.logLikelihood().apply(od, batch);
        checkVector(loss, "per-sample log likelihood");
        NDArray total = loss.sum().neg();
        NDArray g =
                TorchAutograd.vjp(
                                List.of(total),
                                List.of(od),
                                List.of(total.onesLike()),
                                true,
                                params.manager())
                        .get(0);
        NDList columns = new NDList(c);
        for (int k = 0; k < c; k++) {
            NDArray e = od.zerosLike();
            e.set(new ai.djl.ndarray.index.NDIndex(":, {}", k), 1);
            NDArray dot = g.mul(e).sum();
            columns.add(
                    TorchAutograd.vjp(
                                    List.of(dot),
                                    List.of(od),
                                    List.of(dot.onesLike()),
                                    false,
                                    params.manager())
                            .get(0));
        }
        NDArray h = NDArrays.stack(columns, 2); // (n, C, C)
        NDArray hs = h.add(h.transpose(0, 2, 1)).div(2);
        NDList eig = Linalg.eigh(hs);
        NDArray root = eig.get(0).maximum(0).sqrt(); // (n, C)
        NDArray factor = eig.get(1).mul(root.expandDims(1)); // L = V diag(sqrt(lambda+))
        Map<String, NDArray> diag = new LinkedHashMap<>();
        for (int k = 0; k < c; k++) {
            NDArray u = factor.get(new ai.djl.ndarray.index.NDIndex(":, :, {}", k));
            NDList deltas =
                    TorchAutograd.vjp(List.of(o), probeArrays, List.of(u), false, params.manager());
            for (int i = 0; i < probes.size(); i++) {
                FunctionalModel.LinearProbe p = probes.get(i);
                NDArray d2 = deltas.get(i).square();
                accumulate(diag, p.weight(), d2.transpose().matMul(p.input().square()));
                if (p.bias() != null) {
                    accumulate(diag, p.bias(), d2.sum(new int[] {0}));
                }
            }
        }
        Map<String, NDArray> result = new LinkedHashMap<>();
        for (String k : params.names()) {
            NDArray d = diag.get(k);
            result.put(k, d == null ? params.get(k).zerosLike() : d);
        }
        return TensorTree.of(result);
    }

    private static void accumulate(Map<String, NDArray> into, String key, NDArray term) {
        NDArray prev = into.get(key);
        into.put(key, prev == null ? term : prev.add(term));
    }

    private static <B> NDArray ggnParts(
            ForwardFn<B> forward, OuterFn<B> outer, TensorTree params, B batch, boolean diagOnly) {
        Checks.notNull(forward, "forward");
        Checks.notNull(outer, "outer");
        requireOpen(params);
        return Scoped.call(
                params.manager(),
                () ->
                        TorchAutograd.withGrad(
                                () -> {
                                    TensorTree x = leavesOf(params);
                                    NDArray o = forwardOutput(forward, x, batch);
                                    long k = o.size();
                                    NDList j =
                                            TorchAutograd.jacobian(
                                                    o.flatten(), x.leaves(), params.manager());
                                    NDArray jm = flatRows(j, k);
                                    NDArray od = o.stopGradient();
                                    od.setRequiresGradient(true);
                                    NDArray loss = outerValue(outer, od, batch);
                                    NDArray gl =
                                            TorchAutograd.vjp(
                                                            List.of(loss),
                                                            List.of(od),
                                                            List.of(loss.onesLike()),
                                                            true,
                                                            params.manager())
                                                    .get(0);
                                    NDArray h =
                                            TorchAutograd.jacobian(
                                                            gl.flatten(),
                                                            List.of(od),
                                                            params.manager())
                                                    .get(0)
                                                    .reshape(k, k);
                                    NDArray hj = h.matMul(jm);
                                    if (diagOnly) {
                                        return jm.mul(hj).sum(new int[] {0});
                                    }
                                    return jm.transpose().matMul(hj);
                                }),
                a -> List.of(a));
    }

    /**
     * Returns the outputs of a forward function and their covariance when the parameters are
     * Gaussian with mean {@code params} and diagonal standard deviations {@code sdDiag}, under the
     * model's linearisation at the mean: {@code cov_i = J_i diag(sd^2) J_i^T} for each sample i,
     * posteriors' {@code linearized_forward_diag} (which returns the Cholesky factor instead).
     *
     * @param forward the model's forward function (batch-first outputs)
     * @param params the mean of the parameters
     * @param batch the batch passed to {@code forward}
     * @param sdDiag the standard deviations, with the parameters' structure
     * @param <B> the batch type
     * @return outputs, per-sample output covariances and aux, on the parameters' manager
     */
    public static <B> Linearized linearizedForwardDiag(
            ForwardFn<B> forward, TensorTree params, B batch, TensorTree sdDiag) {
        Checks.notNull(forward, "forward");
        requireOpen(params);
        params.requireSameStructure(sdDiag, "sdDiag");
        return Scoped.call(
                params.manager(),
                () ->
                        TorchAutograd.withGrad(
                                () -> {
                                    TensorTree x = leavesOf(params);
                                    ModelOutput mo =
                                            Checks.notNull(
                                                    forward.apply(x, batch), "forward result");
                                    NDArray o = mo.output();
                                    checkBatchFirst(o);
                                    long n = o.getShape().get(0);
                                    long d = o.size() / n;
                                    NDList j =
                                            TorchAutograd.jacobian(
                                                    o.flatten(), x.leaves(), params.manager());
                                    NDArray jm = flatRows(j, n * d).reshape(n, d, -1);
                                    NDArray var = sdDiag.ravel().square();
                                    NDArray cov = jm.mul(var).matMul(jm.transpose(0, 2, 1));
                                    return new Linearized(o.stopGradient(), cov, detach(mo.aux()));
                                }),
                r -> {
                    List<NDArray> all = new ArrayList<>(List.of(r.mean(), r.cov()));
                    r.aux().forEach(all::add);
                    return all;
                });
    }

    /**
     * Returns the linearised predictive of a structured log posterior's model: outputs and their
     * per-sample covariance {@code J_i diag(sd^2) J_i^T}, as {@link
     * #linearizedForwardDiag(ForwardFn, TensorTree, Object, TensorTree)} gives for {@code
     * m.forward()}.
     *
     * <p><b>Fast path</b> (a {@code SequentialBlock} of {@code Linear} layers and parameter-free
     * blocks, two-dimensional outputs): one reverse pass per output column to the zero probes on
     * the layers' outputs gives {@code delta^(c)}, and for each layer {@code cov_i[c, c'] += sum_j
     * delta^(c)_ij delta^(c')_ij (a_i^2 . sd_W[j,:]^2 + sd_b[j]^2)}: C reverse passes instead of a
     * Jacobian with one row per output element. Other models take the generic path.
     *
     * @param m the structured log posterior whose model is linearised
     * @param params the mean of the parameters
     * @param batch the batch
     * @param sdDiag the standard deviations, with the parameters' structure
     * @param <B> the batch type
     * @return outputs, per-sample output covariances and (empty) aux, on the parameters' manager
     */
    public static <B> Linearized linearizedForwardDiag(
            ModelLogPosterior<B> m, TensorTree params, B batch, TensorTree sdDiag) {
        Checks.notNull(m, "m");
        requireOpen(params);
        params.requireSameStructure(sdDiag, "sdDiag");
        if (FAST_PER_SAMPLE) {
            Linearized fast =
                    Scoped.call(
                            params.manager(),
                            () ->
                                    TorchAutograd.withGrad(
                                            () -> fastLinearized(m, params, batch, sdDiag)),
                            r -> r == null ? List.of() : List.of(r.mean(), r.cov()));
            if (fast != null) {
                FAST_PATH_CALLS.incrementAndGet();
                return fast;
            }
        }
        return linearizedForwardDiag(m.forward(), params, batch, sdDiag);
    }

    private static <B> Linearized fastLinearized(
            ModelLogPosterior<B> m, TensorTree params, B batch, TensorTree sdDiag) {
        TensorTree x = leavesOf(params);
        Probed probed = probedForward(m, x, batch);
        if (probed == null) {
            return null;
        }
        List<FunctionalModel.LinearProbe> probes = probed.probes();
        List<NDArray> probeArrays = probed.probeArrays();
        NDArray o = probed.output();
        if (o.getShape().dimension() != 2) {
            return null;
        }
        int c = (int) o.getShape().get(1);
        // deltas[layer] collects, for each output column, the (n, out) gradient at the probe
        List<NDList> deltas = new ArrayList<>();
        probes.forEach(p -> deltas.add(new NDList(c)));
        for (int k = 0; k < c; k++) {
            NDArray e = o.stopGradient().zerosLike();
            e.set(new ai.djl.ndarray.index.NDIndex(":, {}", k), 1);
            NDList d =
                    TorchAutograd.vjp(List.of(o), probeArrays, List.of(e), false, params.manager());
            for (int i = 0; i < probes.size(); i++) {
                deltas.get(i).add(d.get(i));
            }
        }
        NDArray cov = null;
        for (int i = 0; i < probes.size(); i++) {
            FunctionalModel.LinearProbe p = probes.get(i);
            NDArray dl = NDArrays.stack(deltas.get(i), 1); // (n, C, out)
            NDArray w = p.input().square().matMul(sdDiag.get(p.weight()).square().transpose());
            if (p.bias() != null) {
                w = w.add(sdDiag.get(p.bias()).square());
            }
            NDArray term = dl.mul(w.expandDims(1)).matMul(dl.transpose(0, 2, 1));
            cov = cov == null ? term : cov.add(term);
        }
        return new Linearized(o.stopGradient(), cov, new NDList());
    }

    // ---------------------------------------------------------------------------------------

    /**
     * Gradient of a scalar with respect to fresh leaves by one plain backward pass. The leaves were
     * made for this call and are closed with its scope, so their {@code .grad} (which holds no
     * graph: no {@code create_graph}) is freed with them; this path is about twice as cheap as the
     * TorchScript call for small functions.
     */
    private static NDList firstOrder(NDArray value, TensorTree leaves) {
        JniUtils.backward((PtNDArray) value, (PtNDArray) value.onesLike(), false, false);
        NDList out = new NDList(leaves.size());
        for (NDArray leaf : leaves.leaves()) {
            PtNDArray g = JniUtils.getGradient((PtNDArray) leaf);
            // a parameter the function does not use has no gradient: it is zero
            out.add(g == null ? leaf.zerosLike() : g);
        }
        return out;
    }

    /** Jacobian-vector product J v of outputs y by the double-vector-Jacobian trick. */
    private static NDArray jvp(NDArray y, List<NDArray> xs, List<NDArray> v, NDManager owner) {
        NDArray u = y.stopGradient().zerosLike();
        u.setRequiresGradient(true);
        NDList w = TorchAutograd.vjp(List.of(y), xs, List.of(u), true, owner);
        NDArray dot = innerProduct(w, v);
        return TorchAutograd.vjp(List.of(dot), List.of(u), List.of(dot.onesLike()), false, owner)
                .get(0);
    }

    private static NDArray innerProduct(List<NDArray> a, List<NDArray> b) {
        NDArray total = null;
        for (int i = 0; i < a.size(); i++) {
            NDArray term = a.get(i).mul(b.get(i).toType(a.get(i).getDataType(), false)).sum();
            total = total == null ? term : total.add(term);
        }
        return total;
    }

    private static NDArray flatRows(NDList jacobians, long rows) {
        NDList parts = new NDList(jacobians.size());
        for (NDArray j : jacobians) {
            parts.add(j.reshape(rows, -1));
        }
        return parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 1);
    }

    private static <B> LogProb call(LogProbFn<B> f, TensorTree x, B batch) {
        LogProb lp = f.apply(x, batch);
        if (lp == null) {
            throw new IllegalArgumentException("log probability function returned null");
        }
        return lp;
    }

    private static <B> NDArray forwardOutput(ForwardFn<B> forward, TensorTree x, B batch) {
        ModelOutput mo = forward.apply(x, batch);
        if (mo == null) {
            throw new IllegalArgumentException("forward function returned null");
        }
        checkBatchFirst(mo.output());
        return mo.output();
    }

    private static <B> NDArray outerValue(OuterFn<B> outer, NDArray outputs, B batch) {
        NDArray l = outer.apply(outputs, batch);
        if (l == null) {
            throw new IllegalArgumentException("outer function returned null");
        }
        checkScalar(l, "outer function value");
        return l;
    }

    private static void checkBatchFirst(NDArray o) {
        if (o.getShape().dimension() < 1 || o.getShape().get(0) < 1) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "forward output must be batch-first with at least one sample, got"
                                    + " shape %s",
                            o.getShape()));
        }
    }

    /**
     * Checks that a value is a finite scalar.
     *
     * @param value the value
     * @param what what it is, for the message
     * @throws IllegalArgumentException when it is not a scalar or not finite
     */
    static void checkScalar(NDArray value, String what) {
        if (value.getShape().dimension() != 0) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "%s must be a scalar (shape ()), got shape %s; average or sum over the"
                                    + " batch, or use a per-sample method",
                            what, value.getShape()));
        }
        if (CHECK_FINITE) {
            double d = value.toType(DataType.FLOAT64, false).getDouble();
            if (!Double.isFinite(d)) {
                throw new IllegalArgumentException(
                        Checks.format("%s must be finite, got %s", what, d));
            }
        }
    }

    private static void checkVector(NDArray value, String what) {
        Shape s = value.getShape();
        if (s.dimension() != 1 || s.get(0) < 1) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "%s must be a non-empty vector with one entry per sample, got shape"
                                    + " %s",
                            what, s));
        }
        if (CHECK_FINITE) {
            NDArray bad = value.isNaN().logicalOr(value.isInfinite());
            if (bad.any().getBoolean()) {
                long at = bad.toType(DataType.INT32, false).argMax().getLong();
                throw new IllegalArgumentException(
                        Checks.format(
                                "%s must be finite, got %s for sample %d",
                                what,
                                value.get(at).toType(DataType.FLOAT64, false).getDouble(),
                                at));
            }
        }
    }

    private static void requireOpen(TensorTree params) {
        Checks.notNull(params, "params");
        params.forEach((k, a) -> Checks.open(a, "params leaf '" + k + "'"));
    }

    /** Detached copies of the parameters that require gradients, on the same manager. */
    private static TensorTree leavesOf(TensorTree params) {
        return params.map(
                a -> {
                    NDArray leaf = a.stopGradient();
                    leaf.setRequiresGradient(true);
                    return leaf;
                });
    }

    private static TensorTree treeLike(TensorTree params, NDList arrays) {
        Map<String, NDArray> m = new LinkedHashMap<>();
        int i = 0;
        for (String name : params.names()) {
            m.put(name, arrays.get(i++));
        }
        return TensorTree.of(m);
    }

    private static NDList detach(NDList aux) {
        NDList out = new NDList(aux.size());
        for (NDArray a : aux) {
            out.add(a.stopGradient());
        }
        return out;
    }

    private static List<NDArray> arraysOf(ValueAndGrad vg) {
        List<NDArray> all = new ArrayList<>();
        all.add(vg.value());
        all.addAll(vg.grad().leaves());
        vg.aux().forEach(all::add);
        return all;
    }
}
