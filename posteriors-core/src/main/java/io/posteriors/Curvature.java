package io.posteriors;

import static io.posteriors.Differentiation.callPerSample;
import static io.posteriors.Differentiation.checkBatchFirst;
import static io.posteriors.Differentiation.detach;
import static io.posteriors.Differentiation.flatRows;
import static io.posteriors.Differentiation.forwardOutput;
import static io.posteriors.Differentiation.jvp;
import static io.posteriors.Differentiation.onLeaves;
import static io.posteriors.Differentiation.outerValue;
import static io.posteriors.Differentiation.requireOpen;
import static io.posteriors.Differentiation.treeLike;
import static io.posteriors.Differentiation.vjpOfScalar;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.posteriors.internal.Scoped;
import io.posteriors.internal.TorchAutograd;
import java.util.ArrayList;
import java.util.List;

/**
 * Curvature of log densities and models: Fisher-, GGN-vector products, the dense empirical Fisher
 * and GGN, the diagonal GGN and the linearised forward pass, which Laplace, the EKF and the
 * linearised predictive are built from. First-order gradients and Hessian-vector products are in
 * {@link Autodiff}.
 *
 * <p>Like {@link Autodiff}, every function differentiates detached copies of the parameters, never
 * leaves a gradient on the caller's arrays, and closes everything it creates except its result.
 */
public final class Curvature {

    private Curvature() {}

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

        List<NDArray> arrays() {
            List<NDArray> all = new ArrayList<>(List.of(mean, cov));
            aux.forEach(all::add);
            return all;
        }
    }

    /**
     * A model's outputs and their Jacobian with respect to the parameters.
     *
     * @param output the outputs at the parameters, shape {@code (n, *out)}
     * @param jacobian the Jacobian of each sample's flattened outputs with respect to the flattened
     *     parameters (in {@link TensorTree#ravel()} order), shape {@code (n, d, P)}
     * @param aux the aux of the forward function
     */
    public record Jacobian(NDArray output, NDArray jacobian, NDList aux) implements AutoCloseable {
        /** Closes the three components. */
        @Override
        public void close() {
            output.close();
            jacobian.close();
            aux.close();
        }

        List<NDArray> arrays() {
            List<NDArray> all = new ArrayList<>(List.of(output, jacobian));
            aux.forEach(all::add);
            return all;
        }
    }

    /**
     * Returns the outputs of a forward function and their Jacobian with respect to the parameters,
     * one {@code (d, P)} block per sample: what the linearised (GLM) predictive needs. It takes one
     * reverse pass per output element of the batch, and {@code n d P} numbers of memory; use it on
     * a subnetwork or in small batches.
     *
     * @param forward the model's forward function (batch-first outputs)
     * @param params where to linearise
     * @param batch the batch passed to {@code forward}
     * @param <B> the batch type
     * @return the outputs, the Jacobian and the aux, on the parameters' manager
     * @throws IllegalArgumentException when the outputs are not batch-first
     */
    public static <B> Jacobian jacobian(ForwardFn<B> forward, TensorTree params, B batch) {
        Checks.notNull(forward, "forward");
        return onLeaves(
                params,
                x -> {
                    ModelOutput mo = Checks.notNull(forward.apply(x, batch), "forward result");
                    NDArray o = mo.output();
                    checkBatchFirst(o);
                    long n = o.getShape().get(0);
                    long d = o.size() / n;
                    NDList j = TorchAutograd.jacobian(o.flatten(), x.leaves(), params.manager());
                    NDArray jm = flatRows(j, n * d).reshape(n, d, -1);
                    return new Jacobian(o.stopGradient(), jm, detach(mo.aux()));
                },
                Jacobian::arrays);
    }

    /**
     * Returns the outputs of a forward function at a Gaussian posterior's mean and their covariance
     * {@code J_i Σ J_iᵀ} per sample under the model's linearisation at the mean, for any {@link
     * GaussianPosterior} (diagonal, dense or structured: the posterior applies its own covariance
     * to the Jacobian).
     *
     * @param forward the model's forward function (batch-first outputs)
     * @param posterior the Gaussian over the parameters; its mean is where the model is linearised
     * @param batch the batch passed to {@code forward}
     * @param <B> the batch type
     * @return outputs, per-sample output covariances {@code (n, d, d)} at temperature 1 and aux
     * @throws IllegalArgumentException when the outputs are not batch-first
     */
    public static <B> Linearized linearizedForward(
            ForwardFn<B> forward, GaussianPosterior posterior, B batch) {
        Checks.notNull(posterior, "posterior");
        TensorTree mean = posterior.mean();
        return Scoped.call(
                mean.manager(),
                () -> {
                    Jacobian j = jacobian(forward, mean, batch);
                    return new Linearized(
                            j.output(), posterior.projectCovariance(j.jacobian()), j.aux());
                },
                Linearized::arrays);
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
        return onLeaves(
                params,
                x -> {
                    params.requireSameStructure(v, "v");
                    NDArray y = callPerSample(f, x, batch).value();
                    NDArray jv = jvp(y, x.leaves(), v.leaves(), params.manager());
                    NDList fv =
                            TorchAutograd.vjp(
                                    List.of(y), x.leaves(), List.of(jv), false, params.manager());
                    TensorTree out = treeLike(params, fv);
                    if (normalize) {
                        double n = y.getShape().get(0);
                        out.forEach((k, a) -> a.divi(n));
                    }
                    return out;
                },
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
        return onLeaves(
                params,
                x -> {
                    NDArray y = callPerSample(f, x, batch).value();
                    NDList j = TorchAutograd.jacobian(y, x.leaves(), params.manager());
                    NDArray jm = flatRows(j, y.getShape().get(0));
                    NDArray fisher = jm.transpose().matMul(jm);
                    if (normalize) {
                        fisher.divi(y.getShape().get(0));
                    }
                    return fisher;
                },
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
        return onLeaves(
                params,
                x -> {
                    params.requireSameStructure(v, "v");
                    NDArray o = forwardOutput(forward, x, batch);
                    NDArray jv = jvp(o, x.leaves(), v.leaves(), params.manager());
                    NDArray od = o.stopGradient();
                    od.setRequiresGradient(true);
                    NDArray loss = outerValue(outer, od, batch);
                    NDArray gl = vjpOfScalar(loss, List.of(od), true, params.manager()).get(0);
                    NDArray dot = gl.mul(jv).sum();
                    NDArray hjv = vjpOfScalar(dot, List.of(od), false, params.manager()).get(0);
                    NDList out =
                            TorchAutograd.vjp(
                                    List.of(o), x.leaves(), List.of(hjv), false, params.manager());
                    return treeLike(params, out);
                },
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
                    () -> params.unravel(diag).map(NDArray::duplicate),
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
        TensorTree fast = m.probing().diagGgn(params, batch);
        if (fast != null) {
            return fast;
        }
        OuterFn<B> loss = (o, b) -> m.outerLogLikelihood().apply(o, b).neg();
        return diagGgn(m.forward(), loss, params, batch);
    }

    private static <B> NDArray ggnParts(
            ForwardFn<B> forward, OuterFn<B> outer, TensorTree params, B batch, boolean diagOnly) {
        Checks.notNull(forward, "forward");
        Checks.notNull(outer, "outer");
        return onLeaves(
                params,
                x -> {
                    NDArray o = forwardOutput(forward, x, batch);
                    long k = o.size();
                    NDList j = TorchAutograd.jacobian(o.flatten(), x.leaves(), params.manager());
                    NDArray jm = flatRows(j, k);
                    NDArray od = o.stopGradient();
                    od.setRequiresGradient(true);
                    NDArray loss = outerValue(outer, od, batch);
                    NDArray gl = vjpOfScalar(loss, List.of(od), true, params.manager()).get(0);
                    NDArray h =
                            TorchAutograd.jacobian(gl.flatten(), List.of(od), params.manager())
                                    .get(0)
                                    .reshape(k, k);
                    NDArray hj = h.matMul(jm);
                    if (diagOnly) {
                        return jm.mul(hj).sum(new int[] {0});
                    }
                    return jm.transpose().matMul(hj);
                },
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
                () -> {
                    Jacobian j = jacobian(forward, params, batch);
                    NDArray jm = j.jacobian();
                    NDArray var = sdDiag.ravel().square();
                    NDArray cov = jm.mul(var).matMul(jm.transpose(0, 2, 1));
                    return new Linearized(j.output(), cov, j.aux());
                },
                Linearized::arrays);
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
        Linearized fast = m.probing().linearizedForwardDiag(params, batch, sdDiag);
        if (fast != null) {
            return fast;
        }
        return linearizedForwardDiag(m.forward(), params, batch, sdDiag);
    }
}
