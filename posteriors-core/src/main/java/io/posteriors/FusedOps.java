package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.posteriors.internal.TorchAutograd;
import java.util.ArrayList;
import java.util.List;

/**
 * In-place updates of whole parameter trees in one engine call each: the arithmetic of the
 * samplers, VI and the analytic Gaussian prior. Each method runs every leaf's update inside the
 * library's TorchScript module, with the coefficients folded into the operations ({@code y.add_(x,
 * alpha=b)} instead of {@code y.addi(x.mul(b))}), so an update costs one crossing into the engine
 * and no temporary arrays besides the noise, whatever the number of leaves. The results are those
 * of the equivalent element-wise arithmetic, up to rounding.
 *
 * <p>Noise is drawn from the engine's generator ({@code Engine.setRandomSeed}), one draw per leaf
 * in the tree's order, like {@code NDManager.randomNormal}.
 */
public final class FusedOps {

    private FusedOps() {}

    /**
     * Sets {@code y ← a y + b x + sd ξ} for every leaf, {@code ξ} standard Normal, drawn only when
     * {@code sd > 0}.
     *
     * @param y the tree updated in place
     * @param x a tree with {@code y}'s structure; may be null when {@code b == 0}
     * @param a the factor of {@code y}; finite
     * @param b the factor of {@code x}; finite
     * @param sd the noise standard deviation; non-negative and finite
     * @throws IllegalArgumentException when a coefficient is out of range or the structures differ
     */
    public static void langevin(TensorTree y, TensorTree x, double a, double b, double sd) {
        Checks.finite(a, "a");
        Checks.finite(b, "b");
        Checks.nonNegative(sd, "sd");
        Checks.notNull(y, "y");
        if (x == y) {
            // one tree in two roles: y ← (a + b) y + sd ξ
            run("scale_noise_", y, List.of(y.leaves(), List.of()), a + b, 0, sd);
        } else if (x == null) {
            if (b != 0) {
                throw new IllegalArgumentException(
                        Checks.format("x must be given when b is not 0, got b = %s", b));
            }
            run("scale_noise_", y, List.of(y.leaves(), List.of()), a, b, sd);
        } else {
            y.requireSameStructure(x, "x");
            run("langevin_", y, List.of(y.leaves(), x.leaves(), List.of()), a, b, sd);
        }
    }

    /**
     * Sets {@code y ← y + a x + shift} for every leaf.
     *
     * @param y the tree updated in place
     * @param x a tree with {@code y}'s structure
     * @param a the factor of {@code x}; finite
     * @param shift a constant added to every element; finite
     * @throws IllegalArgumentException when a coefficient is not finite or the structures differ
     */
    public static void axpy(TensorTree y, TensorTree x, double a, double shift) {
        Checks.finite(a, "a");
        Checks.finite(shift, "shift");
        Checks.notNull(y, "y");
        y.requireSameStructure(x, "x");
        if (x == y) {
            throw new IllegalArgumentException(
                    "x must not be y itself; use langevin(y, null, 1 + a, 0, 0)");
        }
        run("axpy_", y, List.of(y.leaves(), x.leaves(), List.of()), a, shift);
    }

    /**
     * One momentum step for every leaf: {@code m ← decay m + eps g + sd ξ}, then {@code θ ← θ +
     * drift m} with the new momenta ({@code ξ} standard Normal, drawn only when {@code sd > 0}).
     *
     * @param params the parameters θ, updated in place
     * @param momenta the momenta m, updated in place, with the parameters' structure
     * @param grad the gradient g, with the parameters' structure; not modified
     * @param decay the factor of the momenta; finite
     * @param eps the factor of the gradient; finite
     * @param sd the noise standard deviation; non-negative and finite
     * @param drift the factor of the momenta in the parameters' update; finite
     * @throws IllegalArgumentException when a coefficient is out of range or the structures differ
     */
    public static void momentum(
            TensorTree params,
            TensorTree momenta,
            TensorTree grad,
            double decay,
            double eps,
            double sd,
            double drift) {
        Checks.finite(decay, "decay");
        Checks.finite(eps, "eps");
        Checks.nonNegative(sd, "sd");
        Checks.finite(drift, "drift");
        Checks.notNull(params, "params");
        params.requireSameStructure(momenta, "momenta");
        params.requireSameStructure(grad, "grad");
        run(
                "momentum_",
                params,
                List.of(params.leaves(), momenta.leaves(), grad.leaves()),
                decay,
                eps,
                sd,
                drift);
    }

    /**
     * One Adam step for every leaf, at step {@code t} (counted from 1), with decoupled weight
     * decay: {@code m ← β1 m + (1 - β1) g}, {@code v ← β2 v + (1 - β2) g²}, {@code x ← (1 - lr wd)
     * x - lr (m / (1 - β1^t)) / (sqrt(v / (1 - β2^t)) + eps)}. The gradient {@code g} is that of
     * the loss being minimised. Runs PyTorch's fused AdamW kernel: one pass over each leaf.
     *
     * @param params the parameters, updated in place
     * @param m the first moments, updated in place
     * @param v the second moments, updated in place
     * @param grad the gradient of the loss; not modified
     * @param lr the learning rate; finite
     * @param beta1 the first moments' decay; in [0, 1)
     * @param beta2 the second moments' decay; in [0, 1)
     * @param eps added to the denominator; finite
     * @param t the step, at least 1
     * @param weightDecay the decoupled weight decay; non-negative and finite
     * @throws IllegalArgumentException when a coefficient is out of range or the structures differ
     */
    public static void adam(
            TensorTree params,
            TensorTree m,
            TensorTree v,
            TensorTree grad,
            double lr,
            double beta1,
            double beta2,
            double eps,
            long t,
            double weightDecay) {
        Checks.finite(lr, "lr");
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "beta1 and beta2 must be in [0, 1), got %s and %s", beta1, beta2));
        }
        Checks.finite(eps, "eps");
        if (t < 1) {
            throw new IllegalArgumentException(Checks.format("t must be at least 1, got %d", t));
        }
        Checks.nonNegative(weightDecay, "weightDecay");
        Checks.notNull(params, "params");
        params.requireSameStructure(m, "m");
        params.requireSameStructure(v, "v");
        params.requireSameStructure(grad, "grad");
        List<NDArray> moments = new ArrayList<>(m.leaves());
        moments.addAll(v.leaves());
        run(
                "adam_",
                params,
                List.of(params.leaves(), moments, grad.leaves()),
                lr,
                beta1,
                beta2,
                eps,
                t,
                weightDecay);
    }

    /**
     * One step of the diagonal extended Kalman filter for every leaf, from the sums over a batch of
     * n per-sample gradients ({@code gradSum = sum_i g_i}) and of their squares ({@code sqSum =
     * sum_i g_i²}): predict {@code v = sd² + transitionSd²}, update {@code v' = v / (1 + lr v sqSum
     * / n)}, {@code θ ← θ + lr v' gradSum / n}, {@code sd ← sqrt(v')}.
     *
     * @param params the means θ, updated in place
     * @param sd the standard deviations, updated in place, with the parameters' structure
     * @param gradSum the summed per-sample gradients
     * @param sqSum the summed squared per-sample gradients (the diagonal empirical Fisher times n)
     * @param n the number of samples; positive
     * @param lr the learning rate; positive and finite
     * @param transitionSd the transition noise standard deviation; non-negative and finite
     * @throws IllegalArgumentException when a coefficient is out of range or the structures differ
     */
    public static void diagonalFilterUpdate(
            TensorTree params,
            TensorTree sd,
            TensorTree gradSum,
            TensorTree sqSum,
            double n,
            double lr,
            double transitionSd) {
        Checks.positive(n, "n");
        Checks.positive(lr, "lr");
        Checks.nonNegative(transitionSd, "transitionSd");
        Checks.notNull(params, "params");
        params.requireSameStructure(sd, "sd");
        params.requireSameStructure(gradSum, "gradSum");
        params.requireSameStructure(sqSum, "sqSum");
        List<NDArray> sums = new ArrayList<>(gradSum.leaves());
        sums.addAll(sqSum.leaves());
        run(
                "diag_filter_",
                params,
                List.of(params.leaves(), sd.leaves(), sums),
                lr,
                n,
                transitionSd * transitionSd);
    }

    /**
     * Returns {@code mean + exp(logSd) * eps} for every leaf: reparameterised draws of a diagonal
     * Gaussian, with {@code eps} of shape {@code (n, *leaf shape)} broadcast against the mean.
     *
     * @param mean the means
     * @param logSd the log standard deviations, same structure
     * @param eps standard Normal draws, same names, each with a leading sample dimension
     * @return a new tree of draws, shaped like {@code eps}, on the means' manager
     * @throws IllegalArgumentException when the names differ
     */
    public static TensorTree reparameterize(TensorTree mean, TensorTree logSd, TensorTree eps) {
        Checks.notNull(mean, "mean");
        mean.requireSameStructure(logSd, "logSd");
        requireSameNames(mean, eps, "eps");
        NDList out =
                TorchAutograd.withoutGrad(
                        () ->
                                TorchAutograd.call(
                                        "reparam",
                                        mean.manager(),
                                        mean.leaves(),
                                        logSd.leaves(),
                                        eps.leaves()));
        return treeOf(mean.names(), out);
    }

    /**
     * The gradients of the Monte Carlo NELBO of a diagonal Gaussian {@code q = N(mean,
     * exp(logSd)²)} and the two sums its value needs.
     *
     * @param mean the gradient with respect to the means
     * @param logSd the gradient with respect to the log standard deviations
     * @param sumEpsSquared {@code sum_s |eps_s|²} over the samples
     * @param sumLogSd {@code sum logSd} over every element
     */
    public record DiagNelboGradient(
            TensorTree mean, TensorTree logSd, double sumEpsSquared, double sumLogSd)
            implements AutoCloseable {
        /** Closes both gradient trees. */
        @Override
        public void close() {
            mean.close();
            logSd.close();
        }
    }

    /**
     * Returns the gradients of {@code NELBO = -(1/n) sum_s [log p(θ_s) - T log q(θ_s)]} with
     * respect to the mean and log standard deviations of {@code q}, at reparameterised draws {@code
     * θ_s = mean + sd eps_s}, given the gradients {@code g_s} of {@code log p} at the draws. With
     * {@code d_s = g_s + T eps_s / sd} (the path derivative, {@code stl}) or {@code d_s = g_s}:
     * {@code ∂/∂mean = -(1/n) sum_s d_s} and {@code ∂/∂logSd = -(1/n) sum_s d_s sd eps_s}, minus
     * {@code T} without {@code stl} (the entropy's own derivative). These are the derivatives
     * autograd gives for the same estimator, written down.
     *
     * @param logSd the log standard deviations of q
     * @param eps the draws, each leaf {@code (n, *leaf shape)}
     * @param grads the gradients of {@code log p} at the n draws, in the draws' order
     * @param temperature T; non-negative and finite
     * @param stl whether the parameters inside {@code log q} are held fixed (sticking the landing)
     * @return the two gradient trees, new, and the sums of the NELBO's value
     * @throws IllegalArgumentException when the structures or the number of gradients differ
     */
    public static DiagNelboGradient diagGaussianNelboGradient(
            TensorTree logSd,
            TensorTree eps,
            List<TensorTree> grads,
            double temperature,
            boolean stl) {
        Checks.notNull(logSd, "logSd");
        Checks.nonNegative(temperature, "temperature");
        requireSameNames(logSd, eps, "eps");
        int n = (int) eps.anyLeaf().getShape().get(0);
        if (Checks.notNull(grads, "grads").size() != n) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "grads must hold one tree per draw, %d, got %d", n, grads.size()));
        }
        List<NDArray> third = new ArrayList<>();
        for (TensorTree g : grads) {
            logSd.requireSameStructure(g, "grads tree");
            third.addAll(g.leaves());
        }
        NDList out =
                run(
                        "diag_elbo_grad",
                        logSd,
                        List.of(logSd.leaves(), eps.leaves(), third),
                        temperature,
                        stl ? 1 : 0,
                        n);
        int p = logSd.size();
        double sumEps;
        double sumLogSd;
        try (NDArray a = out.get(2 * p);
                NDArray b = out.get(2 * p + 1)) {
            sumEps = a.getDouble();
            sumLogSd = b.getDouble();
        }
        return new DiagNelboGradient(
                treeOf(logSd.names(), out.subNDList(0, p)),
                treeOf(logSd.names(), out.subNDList(p, 2 * p)),
                sumEps,
                sumLogSd);
    }

    private static void requireSameNames(TensorTree a, TensorTree b, String name) {
        Checks.notNull(b, name);
        if (!a.names().equals(b.names())) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "%s must have the leaves %s, got %s", name, a.names(), b.names()));
        }
    }

    private static TensorTree treeOf(List<String> names, List<NDArray> arrays) {
        java.util.Map<String, NDArray> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            m.put(names.get(i), arrays.get(i));
        }
        return TensorTree.of(m);
    }

    /**
     * Returns {@code sum (y - shift)²} over every element of the tree, accumulated in double
     * precision, without recording an autograd graph.
     *
     * @param y the tree
     * @param shift subtracted from every element first; finite
     * @return a float64 scalar on the tree's manager
     * @throws IllegalArgumentException when {@code shift} is not finite
     */
    public static NDArray sumOfSquares(TensorTree y, double shift) {
        Checks.finite(shift, "shift");
        Checks.notNull(y, "y");
        return run("sum_sq", y, List.of(y.leaves(), List.of()), shift).singletonOrThrow();
    }

    /**
     * Calls a kernel of the TorchScript module with the coefficients appended to its last list as
     * one float64 array, outside any autograd graph.
     */
    @SuppressWarnings("unchecked")
    private static NDList run(
            String method, TensorTree owner, List<List<NDArray>> lists, double... coefficients) {
        NDManager manager = owner.manager();
        try (NDArray c = manager.create(coefficients)) {
            List<NDArray>[] args = new List[lists.size()];
            for (int i = 0; i < args.length; i++) {
                args[i] = new ArrayList<>(lists.get(i));
            }
            args[args.length - 1].add(c);
            return TorchAutograd.withoutGrad(() -> TorchAutograd.call(method, manager, args));
        }
    }
}
