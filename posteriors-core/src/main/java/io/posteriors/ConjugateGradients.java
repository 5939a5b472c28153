package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.posteriors.internal.Scoped;
import java.util.function.UnaryOperator;

/**
 * Solves {@code (A + damping I) x = b} for a symmetric positive-definite linear operator A on
 * parameter trees by the (preconditioned) conjugate gradient method of Hestenes and Stiefel
 * ("Methods of Conjugate Gradients for Solving Linear Systems", 1952): posteriors' {@code cg}.
 *
 * <p>A is only ever applied to vectors, so it need not be formed. Use this to solve with a
 * curvature matrix that is too large to store: a Hessian ({@link Autodiff#hvp}, of a negative log
 * density), a generalised Gauss-Newton matrix ({@link Curvature#ggnvp}, with a loss as the outer
 * function) or an empirical Fisher ({@link Curvature#fvp}), for example to compute a damped Newton
 * step or an inverse-curvature-vector product for a Laplace approximation. Each iteration costs one
 * product with A, one with the preconditioner and a few tree-wide inner products; in exact
 * arithmetic the method terminates in at most P iterations (P the number of elements), and usually
 * reaches a useful tolerance much sooner when the eigenvalues of A cluster.
 *
 * <p>The iteration, with {@code A_d = A + damping I} and M^{-1} the preconditioner (the identity
 * when none is given):
 *
 * <pre>
 * r_0 = b - A_d x_0,  z_0 = M^{-1} r_0,  p_0 = z_0
 * alpha_k = (r_k . z_k) / (p_k . A_d p_k)
 * x_{k+1} = x_k + alpha_k p_k
 * r_{k+1} = r_k - alpha_k A_d p_k
 * z_{k+1} = M^{-1} r_{k+1}
 * beta_k  = (r_{k+1} . z_{k+1}) / (r_k . z_k)
 * p_{k+1} = z_{k+1} + beta_k p_k
 * </pre>
 *
 * <p>It stops when {@code ||r_k|| <= max(tolerance ||b||, absoluteTolerance)} (Euclidean norms over
 * all elements of the tree) or after {@code maxIterations} iterations; the {@link Result} says
 * which. The inner products are read from the device each iteration (two or three numbers), so a
 * solve synchronises with the device once per iteration. Every temporary of an iteration, including
 * the trees the operator and the preconditioner return, is closed before the next one starts; the
 * solution lives on the manager of {@code b}'s first leaf. The operator's and the preconditioner's
 * results are never written to, so they may return their input.
 *
 * <pre>{@code
 * // a damped Gauss-Newton step, never forming the P-by-P GGN
 * ConjugateGradients cg =
 *         ConjugateGradients.builder(v -> Curvature.ggnvp(forward, loss, params, batch, v))
 *                 .damping(1e-3)
 *                 .tolerance(1e-6)
 *                 .maxIterations(50)
 *                 .build();
 * try (ConjugateGradients.Result r = cg.solve(grad)) {
 *     params.forEachZip(r.x(), (p, dx) -> p.subi(dx));
 * }
 * }</pre>
 */
public final class ConjugateGradients {

    private final UnaryOperator<TensorTree> a;
    private final double damping;
    private final double tolerance;
    private final double absoluteTolerance;
    private final int maxIterations;
    private final UnaryOperator<TensorTree> preconditioner;

    private ConjugateGradients(Builder b) {
        this.a = b.a;
        this.damping = b.damping;
        this.tolerance = b.tolerance;
        this.absoluteTolerance = b.absoluteTolerance;
        this.maxIterations = b.maxIterations;
        this.preconditioner = b.preconditioner;
    }

    /**
     * Starts a builder for solving with the operator {@code a}.
     *
     * @param a the symmetric positive-definite operator {@code v -> A v}; it must return a tree of
     *     the structure of its argument and must not write into its argument
     * @return the builder
     * @throws NullPointerException when {@code a} is null
     */
    public static Builder builder(UnaryOperator<TensorTree> a) {
        return new Builder(a);
    }

    /**
     * Solves {@code A x = b} from {@code x = 0} with the default options (relative tolerance 1e-5,
     * no damping, no preconditioner, at most P iterations).
     *
     * @param a the symmetric positive-definite operator {@code v -> A v}
     * @param b the right-hand side
     * @return the solution and how it was reached
     * @throws NullPointerException when an argument is null
     * @throws IllegalArgumentException as {@link #solve(TensorTree)}
     */
    public static Result solve(UnaryOperator<TensorTree> a, TensorTree b) {
        return builder(a).build().solve(b);
    }

    /**
     * Options of {@link ConjugateGradients}, validated when set.
     *
     * <p>Defaults: damping 0, tolerance 1e-5, absolute tolerance 0, at most as many iterations as
     * {@code b} has elements, no preconditioner.
     */
    public static final class Builder {
        private final UnaryOperator<TensorTree> a;
        private double damping = 0;
        private double tolerance = 1e-5;
        private double absoluteTolerance = 0;
        private int maxIterations = 0;
        private UnaryOperator<TensorTree> preconditioner;

        private Builder(UnaryOperator<TensorTree> a) {
            this.a = Checks.notNull(a, "a");
        }

        /**
         * Sets the damping: the solver solves {@code (A + damping I) x = b}.
         *
         * @param damping a non-negative, finite number
         * @return this builder
         * @throws IllegalArgumentException when {@code damping} is negative, NaN or infinite
         */
        public Builder damping(double damping) {
            this.damping = Checks.nonNegative(damping, "damping");
            return this;
        }

        /**
         * Sets the relative tolerance: the solver stops once {@code ||r|| <= tolerance ||b||}.
         *
         * @param tolerance a positive, finite number
         * @return this builder
         * @throws IllegalArgumentException when {@code tolerance} is not positive and finite
         */
        public Builder tolerance(double tolerance) {
            this.tolerance = Checks.positive(tolerance, "tolerance");
            return this;
        }

        /**
         * Sets the absolute tolerance: the solver also stops once {@code ||r|| <=
         * absoluteTolerance}, which matters when {@code b} is tiny.
         *
         * @param absoluteTolerance a non-negative, finite number
         * @return this builder
         * @throws IllegalArgumentException when {@code absoluteTolerance} is negative, NaN or
         *     infinite
         */
        public Builder absoluteTolerance(double absoluteTolerance) {
            this.absoluteTolerance = Checks.nonNegative(absoluteTolerance, "absoluteTolerance");
            return this;
        }

        /**
         * Sets the largest number of iterations (products with A).
         *
         * @param maxIterations at least 1
         * @return this builder
         * @throws IllegalArgumentException when {@code maxIterations < 1}
         */
        public Builder maxIterations(int maxIterations) {
            this.maxIterations = Checks.atLeast(maxIterations, 1, "maxIterations");
            return this;
        }

        /**
         * Sets a preconditioner, the operator {@code r -> M^{-1} r} for a symmetric
         * positive-definite M that approximates A (for example the inverse of A's diagonal, the
         * Jacobi preconditioner). A good M cuts the number of iterations on ill-conditioned
         * systems.
         *
         * @param preconditioner the operator; it must return a tree of the structure of its
         *     argument and must not write into its argument
         * @return this builder
         * @throws NullPointerException when {@code preconditioner} is null
         */
        public Builder preconditioner(UnaryOperator<TensorTree> preconditioner) {
            this.preconditioner = Checks.notNull(preconditioner, "preconditioner");
            return this;
        }

        /**
         * Builds the solver.
         *
         * @return the solver
         */
        public ConjugateGradients build() {
            return new ConjugateGradients(this);
        }
    }

    /**
     * The outcome of a solve.
     *
     * @param x the approximate solution, with {@code b}'s structure, on {@code b}'s manager; the
     *     caller owns it
     * @param iterations the number of iterations done (0 when the starting point already met the
     *     tolerance)
     * @param residualNorm the Euclidean norm of the last residual {@code b - (A + damping I) x}, as
     *     updated by the recurrence
     * @param converged whether the residual met the tolerance; false when the solver stopped at
     *     {@code maxIterations}
     */
    public record Result(TensorTree x, int iterations, double residualNorm, boolean converged)
            implements AutoCloseable {

        /** Closes the solution's arrays. */
        @Override
        public void close() {
            x.close();
        }
    }

    /**
     * Solves {@code (A + damping I) x = b} starting from {@code x = 0}.
     *
     * @param b the right-hand side; finite
     * @return the solution and how it was reached
     * @throws NullPointerException when {@code b} is null
     * @throws IllegalArgumentException when {@code b} is not finite, the operator or the
     *     preconditioner returns a tree of another structure, or {@code A + damping I} turns out
     *     not to be positive definite ({@code p . A p <= 0} for a search direction p)
     * @throws IllegalStateException when a leaf of {@code b} or its manager is closed
     */
    public Result solve(TensorTree b) {
        return solve(b, null);
    }

    /**
     * Solves {@code (A + damping I) x = b} starting from {@code x0}.
     *
     * @param b the right-hand side; finite
     * @param x0 the starting point, with {@code b}'s structure, or null for zeros; not modified
     * @return the solution and how it was reached
     * @throws NullPointerException when {@code b} is null
     * @throws IllegalArgumentException when {@code x0} has another structure than {@code b}, when
     *     {@code b} is not finite, the operator or the preconditioner returns a tree of another
     *     structure, or {@code A + damping I} turns out not to be positive definite
     * @throws IllegalStateException when a leaf of {@code b} or {@code x0}, or its manager, is
     *     closed
     */
    public Result solve(TensorTree b, TensorTree x0) {
        Checks.notNull(b, "b");
        b.forEach((k, v) -> Checks.open(v, "b leaf '" + k + "'"));
        if (x0 != null) {
            b.requireSameStructure(x0, "x0");
            x0.forEach((k, v) -> Checks.open(v, "x0 leaf '" + k + "'"));
        }
        NDManager owner = b.manager();
        int limit =
                maxIterations > 0 ? maxIterations : (int) Math.min(b.numel(), Integer.MAX_VALUE);
        double bNorm = Math.sqrt(dot(b, b));
        if (!Double.isFinite(bNorm)) {
            throw new IllegalArgumentException(
                    Checks.format("b must be finite, got a norm of %s", bNorm));
        }
        double threshold = Math.max(tolerance * bNorm, absoluteTolerance);

        TensorTree x =
                x0 == null
                        ? Scoped.call(owner, b::zerosLike, TensorTree::leaves)
                        : Scoped.call(
                                owner,
                                // toType(.., true) shares storage when the type already matches
                                () ->
                                        x0.map(
                                                v ->
                                                        v.getDataType() == b.dataType()
                                                                ? v.duplicate()
                                                                : v.toType(b.dataType(), false)),
                                TensorTree::leaves);
        TensorTree r = null;
        TensorTree p = null;
        try {
            r =
                    Scoped.call(
                            owner,
                            () -> x0 == null ? b.copy() : b.zip(applyDamped(x), NDArray::sub),
                            TensorTree::leaves);
            double rNorm = Math.sqrt(dot(r, r));
            int k = 0;
            if (rNorm > threshold) {
                TensorTree r0 = r;
                double[] rz = new double[1];
                p =
                        Scoped.call(
                                owner,
                                () -> {
                                    TensorTree z = precondition(r0);
                                    rz[0] = dot(r0, z);
                                    return z.map(NDArray::duplicate);
                                },
                                TensorTree::leaves);
                while (k < limit) {
                    rNorm = iterate(x, r, p, rz, k, threshold, k + 1 < limit);
                    k++;
                    if (rNorm <= threshold) {
                        break;
                    }
                }
            }
            return new Result(x, k, rNorm, rNorm <= threshold);
        } catch (RuntimeException e) {
            x.close();
            throw e;
        } finally {
            if (r != null) {
                r.close();
            }
            if (p != null) {
                p.close();
            }
        }
    }

    /**
     * Runs one iteration in place on x, r and p and returns the new residual norm; when another
     * iteration may follow, leaves the next search direction in p and the new r . z in rz[0].
     */
    private double iterate(
            TensorTree x,
            TensorTree r,
            TensorTree p,
            double[] rz,
            int k,
            double threshold,
            boolean more) {
        double[] rNorm = new double[1];
        Scoped.run(
                () -> {
                    TensorTree ap = applyDamped(p);
                    double pap = dot(p, ap);
                    if (!(pap > 0) || !Double.isFinite(pap)) {
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "a (plus damping) must be symmetric positive definite,"
                                                + " but p . A p = %s for the search direction of"
                                                + " iteration %d",
                                        pap, k + 1));
                    }
                    double alpha = rz[0] / pap;
                    x.forEachZip(p, (xi, pi) -> xi.addi(pi.mul(alpha)));
                    r.forEachZip(ap, (ri, api) -> ri.subi(api.mul(alpha)));
                    rNorm[0] = Math.sqrt(dot(r, r));
                    if (!more || rNorm[0] <= threshold) {
                        return;
                    }
                    TensorTree z = precondition(r);
                    double rzNext = dot(r, z);
                    double beta = rzNext / rz[0];
                    p.forEachZip(z, (pi, zi) -> pi.muli(beta).addi(zi));
                    rz[0] = rzNext;
                });
        return rNorm[0];
    }

    /** Returns {@code (A + damping I) v} as a new tree; never writes into what A returned. */
    private TensorTree applyDamped(TensorTree v) {
        TensorTree av = Checks.notNull(a.apply(v), "result of a");
        v.requireSameStructure(av, "result of a");
        if (damping == 0) {
            return av;
        }
        return av.zip(v, (ai, vi) -> ai.add(vi.mul(damping)));
    }

    private TensorTree precondition(TensorTree r) {
        if (preconditioner == null) {
            return r;
        }
        TensorTree z = Checks.notNull(preconditioner.apply(r), "result of preconditioner");
        r.requireSameStructure(z, "result of preconditioner");
        return z;
    }

    /** Returns the inner product of two trees over all their elements, read from the device. */
    private static double dot(TensorTree u, TensorTree v) {
        double[] total = new double[1];
        Scoped.run(
                () -> {
                    NDArray sum = null;
                    for (String k : u.names()) {
                        NDArray term = u.get(k).mul(v.get(k)).sum();
                        sum = sum == null ? term : sum.add(term);
                    }
                    total[0] = Scalars.value(sum);
                });
        return total[0];
    }
}
