package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.posteriors.Checks;
import io.posteriors.ForwardFn;
import io.posteriors.ModelLogPosterior;
import io.posteriors.ModelOutput;
import io.posteriors.OuterFn;
import io.posteriors.Scalars;
import io.posteriors.Scopes;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.apache.commons.math3.analysis.solvers.BrentSolver;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.optim.InitialGuess;
import org.apache.commons.math3.optim.MaxEval;
import org.apache.commons.math3.optim.PointValuePair;
import org.apache.commons.math3.optim.SimpleValueChecker;
import org.apache.commons.math3.optim.nonlinear.scalar.GoalType;
import org.apache.commons.math3.optim.nonlinear.scalar.ObjectiveFunction;
import org.apache.commons.math3.optim.nonlinear.scalar.ObjectiveFunctionGradient;
import org.apache.commons.math3.optim.nonlinear.scalar.gradient.NonLinearConjugateGradientOptimizer;

/**
 * The Laplace log marginal likelihood (evidence) of diagonal, dense and K-FAC Laplace states, and
 * the prior precision that maximises it.
 *
 * <p>With θ* the mode the state is built around, {@code P0} the (diagonal) precision of a zero-mean
 * Gaussian prior and {@code H} the curvature of the negative log likelihood at θ* (GGN, Fisher or
 * Hessian), the Laplace approximation of the evidence is
 *
 * <pre>
 * log p(D) ≈ log p(D | θ*) − ½ θ*ᵀ P0 θ* + ½ log det P0 − ½ log det (P0 + H)
 * </pre>
 *
 * <p>(MacKay, "A practical Bayesian framework for backpropagation networks", Neural Computation
 * 1992; Immer, Bauer, Fortuin, Rätsch and Khan, "Scalable marginal likelihood estimation for model
 * selection in deep learning", ICML 2021). The {@code (2π)^{P/2}} factors of the prior and of the
 * Gaussian cancel. {@code log p(D | θ*)} is the log likelihood of the <b>whole</b> training set at
 * θ*, summed over samples, supplied by the caller (see {@link #logLikelihood(ModelLogPosterior,
 * TensorTree, Iterable)}); it does not depend on {@code P0}, so prior tuning does not need it.
 *
 * <p>Where the prior is kept: a diagonal or dense state holds the sum {@code prec = P0 + H} (its
 * {@code initPrecDiag} / {@code initPrec} is {@code P0}); the caller passes the {@link
 * PriorPrecision} it was built with, and {@code H = prec − P0}. A {@link KfacLaplaceState} holds
 * {@code H} (its Kronecker factors) and {@code P0} separately. Either way {@link #withPrior} swaps
 * the prior and returns a new state; the input state is never changed.
 *
 * <p>Prior tuning keeps θ* fixed (as laplace-torch does). For a linear-Gaussian model at the MAP of
 * the tuned prior this is exact; otherwise refit the MAP with the tuned prior for a consistent
 * pair. The evidence is concave in each group's {@code δ = P0} (for fixed θ*), and its stationary
 * point satisfies MacKay's {@code δ = γ / |θ*|²} with {@code γ = Σ_j h_j / (δ + h_j)} the effective
 * number of parameters ({@code h_j} the curvature's eigenvalues in the group): one scalar, one per
 * leaf (per layer for K-FAC) and, for diagonal states, one per element are solved in closed form or
 * by a one-dimensional root finder; dense states with more than one group use a conjugate-gradient
 * ascent with the closed-form gradient.
 */
public final class Evidence {

    /** The search interval of a tuned precision. */
    private static final double MIN = 1e-12;

    private static final double MAX = 1e12;

    private Evidence() {}

    /**
     * A state with a tuned prior and that prior.
     *
     * @param state a new state (its own arrays) whose precision uses {@code prior}
     * @param prior the tuned prior precision
     * @param <S> the state type
     */
    public record Tuned<S>(S state, PriorPrecision prior) {
        /**
         * Checks the components.
         *
         * @throws NullPointerException when one is null
         */
        public Tuned {
            Checks.notNull(state, "state");
            Checks.notNull(prior, "prior");
        }
    }

    // ---------------------------------------------------------------------------------------
    // log likelihood of the data

    /**
     * Returns the log likelihood of all the batches at {@code params}, {@code Σ_i log p(y_i | x_i,
     * θ)}: the first term of the evidence. The log prior is not included.
     *
     * @param m the structured log posterior whose per-sample log likelihood is summed
     * @param params where to evaluate (usually the state's mean)
     * @param batches the training data, each sample once
     * @param <B> the batch type
     * @return the summed log likelihood
     * @throws NullPointerException when an argument is null
     */
    public static <B> double logLikelihood(
            ModelLogPosterior<B> m, TensorTree params, Iterable<B> batches) {
        Checks.notNull(m, "m");
        return logLikelihood(m.forward(), m.outerLogLikelihood(), params, batches);
    }

    /**
     * Returns {@code Σ_batches outerLogLikelihood(forward(params, b), b)}.
     *
     * @param forward the model's forward function
     * @param outerLogLikelihood the log likelihood of a batch given the outputs, summed over it
     * @param params where to evaluate
     * @param batches the training data, each sample once
     * @param <B> the batch type
     * @return the summed log likelihood
     * @throws NullPointerException when an argument is null
     */
    public static <B> double logLikelihood(
            ForwardFn<B> forward,
            OuterFn<B> outerLogLikelihood,
            TensorTree params,
            Iterable<B> batches) {
        Checks.notNull(forward, "forward");
        Checks.notNull(outerLogLikelihood, "outerLogLikelihood");
        Checks.openTree(params, "params");
        Checks.notNull(batches, "batches");
        double total = 0;
        for (B b : batches) {
            total +=
                    Scopes.call(
                            null,
                            () -> {
                                ModelOutput mo = forward.apply(params, b);
                                return Scalars.value(
                                        outerLogLikelihood.apply(mo.output(), b).stopGradient());
                            },
                            v -> List.of());
        }
        return total;
    }

    // ---------------------------------------------------------------------------------------
    // the evidence

    /**
     * Returns the Laplace log evidence of a diagonal state built with prior precision {@code
     * prior}: {@code logLikelihood − ½ Σ P0_j θ*_j² + ½ Σ log P0_j − ½ Σ log precDiag_j}.
     *
     * @param state the state; its {@code precDiag} is {@code P0 + H}
     * @param prior the prior precision {@code P0} the state was built with ({@code initPrecDiag})
     * @param logLikelihood {@code log p(D | θ*)}, summed over the whole training set
     * @return the log evidence ({@code -∞} when a prior entry is 0)
     * @throws IllegalArgumentException when the prior does not fit the parameters
     */
    public static double logEvidence(
            DiagLaplaceState state, PriorPrecision prior, double logLikelihood) {
        Checks.open(state);
        double[] theta = doubles(state.params());
        double[] p0 = prior.flat(state.params());
        double[] prec = doubles(state.precDiag());
        double v = logLikelihood;
        for (int j = 0; j < theta.length; j++) {
            v +=
                    -0.5 * p0[j] * theta[j] * theta[j]
                            + 0.5 * Math.log(p0[j])
                            - 0.5 * Math.log(prec[j]);
        }
        return v;
    }

    /**
     * Returns the Laplace log evidence of a dense state built with prior precision {@code prior}:
     * {@code logLikelihood − ½ θ*ᵀ P0 θ* + ½ log det P0 − ½ log det prec}, with the determinant of
     * {@code prec} from its Cholesky factor.
     *
     * @param state the state; its {@code prec} is {@code P0 + H}
     * @param prior the prior precision {@code P0} the state was built with ({@code initPrec}, as a
     *     diagonal)
     * @param logLikelihood {@code log p(D | θ*)}, summed over the whole training set
     * @return the log evidence
     * @throws IllegalArgumentException when the prior does not fit the parameters or {@code prec}
     *     is not positive definite
     */
    public static double logEvidence(
            DenseLaplaceState state, PriorPrecision prior, double logLikelihood) {
        Checks.open(state);
        double[] theta = doubles(state.params());
        double[] p0 = prior.flat(state.params());
        double v = logLikelihood + logDetCholesky(matrix(state.prec())) * -0.5;
        for (int j = 0; j < theta.length; j++) {
            v += -0.5 * p0[j] * theta[j] * theta[j] + 0.5 * Math.log(p0[j]);
        }
        return v;
    }

    /**
     * Returns the Laplace log evidence of a K-FAC state, whose prior it holds: the log determinant
     * of each layer's block {@code G ⊗ A + δ I} is {@code Σ log(λ_G λ_A + δ)} over the factors'
     * eigenvalues.
     *
     * @param state the state
     * @param logLikelihood {@code log p(D | θ*)}, summed over the whole training set
     * @return the log evidence
     */
    public static double logEvidence(KfacLaplaceState state, double logLikelihood) {
        Checks.open(state);
        double v = logLikelihood;
        for (Group g : state.groups()) {
            v += g.value(state.prior().of(g.leaves().get(0)));
        }
        return v;
    }

    // ---------------------------------------------------------------------------------------
    // swapping the prior

    /**
     * Returns a new diagonal state with {@code precDiag − old + prior}: the same curvature under
     * another prior.
     *
     * @param state the state; not changed
     * @param old the prior precision the state was built with
     * @param prior the new prior precision
     * @return a new state with its own arrays
     */
    public static DiagLaplaceState withPrior(
            DiagLaplaceState state, PriorPrecision old, PriorPrecision prior) {
        Checks.open(state);
        TensorTree params = state.params();
        try (TensorTree o = old.tree(params);
                TensorTree n = prior.tree(params)) {
            TensorTree prec =
                    Scopes.call(
                            params.manager(),
                            () -> state.precDiag().zip3(o, n, (p, a, b) -> p.sub(a).add(b)),
                            TensorTree::leaves);
            return new DiagLaplaceState(params.copy(), prec, state.step());
        }
    }

    /**
     * Returns a new dense state with {@code prec − diag(old) + diag(prior)}.
     *
     * @param state the state; not changed
     * @param old the prior precision the state was built with
     * @param prior the new prior precision
     * @return a new state with its own arrays
     */
    public static DenseLaplaceState withPrior(
            DenseLaplaceState state, PriorPrecision old, PriorPrecision prior) {
        Checks.open(state);
        TensorTree params = state.params();
        try (TensorTree o = old.tree(params);
                TensorTree n = prior.tree(params)) {
            NDArray prec =
                    Scopes.call(
                            params.manager(),
                            () -> {
                                NDArray d = n.ravel().sub(o.ravel());
                                int p = (int) d.size();
                                NDArray eye =
                                        d.getManager()
                                                .eye(p, p, 0, d.getDataType())
                                                .toDevice(d.getDevice(), false);
                                return state.prec().add(eye.mul(d));
                            },
                            List::of);
            return new DenseLaplaceState(params.copy(), prec, state.step());
        }
    }

    /**
     * Returns a new K-FAC state with the same curvature and another prior.
     *
     * @param state the state; not changed
     * @param prior the new prior precision: a scalar, or per leaf with a layer's weight and bias
     *     equal
     * @return a new state with its own arrays
     * @throws IllegalArgumentException when the prior is diagonal or splits a layer
     */
    public static KfacLaplaceState withPrior(KfacLaplaceState state, PriorPrecision prior) {
        Checks.open(state);
        return state.copy().withPriorOwned(prior);
    }

    // ---------------------------------------------------------------------------------------
    // tuning by the evidence

    /**
     * Returns a new diagonal state whose prior precision maximises the Laplace evidence, θ* and the
     * curvature fixed.
     *
     * @param state the state; not changed
     * @param prior the prior precision the state was built with
     * @param kind one scalar, one per leaf, or one per element (closed form {@code δ_j = (−h_j +
     *     sqrt(h_j² + 4 h_j / θ_j²)) / 2})
     * @return the new state and the tuned prior
     */
    public static Tuned<DiagLaplaceState> tunePrior(
            DiagLaplaceState state, PriorPrecision prior, PriorPrecision.Kind kind) {
        Checks.open(state);
        Checks.notNull(kind, "kind");
        TensorTree params = state.params();
        double[] theta = doubles(params);
        double[] h = doubles(state.precDiag());
        double[] p0 = prior.flat(params);
        for (int j = 0; j < h.length; j++) {
            h[j] = Math.max(0, h[j] - p0[j]);
        }
        PriorPrecision tuned;
        if (kind == PriorPrecision.Kind.DIAGONAL) {
            double[] d = new double[h.length];
            for (int j = 0; j < h.length; j++) {
                double t2 = theta[j] * theta[j];
                double v = t2 == 0 ? MAX : 0.5 * (-h[j] + Math.sqrt(h[j] * h[j] + 4 * h[j] / t2));
                d[j] = Math.min(MAX, Math.max(MIN, v));
            }
            NDArray flat = params.manager().create(d).toType(params.dataType(), false);
            tuned = new PriorPrecision.Diagonal(params.unravel(flat));
        } else {
            List<Group> groups = new ArrayList<>();
            int at = 0;
            for (String k : params.names()) {
                int size = Math.toIntExact(params.get(k).size());
                groups.add(Group.of(List.of(k), theta, h, at, size));
                at += size;
            }
            tuned = solve(groups, kind);
        }
        return new Tuned<>(withPrior(state, prior, tuned), tuned);
    }

    /**
     * Returns a new dense state whose prior precision maximises the Laplace evidence, θ* and the
     * curvature fixed. A scalar is found from the eigenvalues of {@code H} by a root finder; one
     * per leaf or per element by a conjugate-gradient ascent in {@code log δ} with the gradient
     * {@code −½ θ_g² + n_g / (2δ_g) − ½ tr_g (P0 + H)^-1} (a Cholesky factorisation per step).
     *
     * @param state the state; not changed
     * @param prior the prior precision the state was built with
     * @param kind one scalar, one per leaf, or one per element
     * @return the new state and the tuned prior
     * @throws IllegalArgumentException when a precision in the search is not positive definite
     */
    public static Tuned<DenseLaplaceState> tunePrior(
            DenseLaplaceState state, PriorPrecision prior, PriorPrecision.Kind kind) {
        Checks.open(state);
        Checks.notNull(kind, "kind");
        TensorTree params = state.params();
        double[] theta = doubles(params);
        double[] p0 = prior.flat(params);
        double[][] h = matrix(state.prec());
        for (int j = 0; j < p0.length; j++) {
            h[j][j] -= p0[j];
        }
        PriorPrecision tuned;
        if (kind == PriorPrecision.Kind.SCALAR) {
            double[] eig = new EigenDecomposition(symmetric(h)).getRealEigenvalues();
            for (int j = 0; j < eig.length; j++) {
                eig[j] = Math.max(0, eig[j]);
            }
            tuned = solve(List.of(Group.of(params.names(), theta, eig, 0, eig.length)), kind);
        } else {
            tuned = denseAscent(params, theta, h, kind);
        }
        return new Tuned<>(withPrior(state, prior, tuned), tuned);
    }

    /**
     * Returns a new K-FAC state whose prior precision maximises the Laplace evidence, θ* and the
     * curvature fixed: one scalar, or one per layer (weight and bias together) and per fallback
     * leaf, each by a one-dimensional root finder on the factors' eigenvalues.
     *
     * @param state the state; not changed
     * @param kind {@code SCALAR} or {@code PER_LEAF}
     * @return the new state and the tuned prior
     * @throws IllegalArgumentException when {@code kind} is {@code DIAGONAL}, which would break the
     *     Kronecker structure
     */
    public static Tuned<KfacLaplaceState> tunePrior(
            KfacLaplaceState state, PriorPrecision.Kind kind) {
        Checks.open(state);
        Checks.notNull(kind, "kind");
        if (kind == PriorPrecision.Kind.DIAGONAL) {
            throw new IllegalArgumentException(
                    "a K-FAC state takes a scalar or per-layer prior precision (kind SCALAR or"
                            + " PER_LEAF), got DIAGONAL");
        }
        PriorPrecision tuned = solve(state.groups(), kind);
        return new Tuned<>(withPrior(state, tuned), tuned);
    }

    // ---------------------------------------------------------------------------------------
    // tuning by validation

    /**
     * Returns the state, among scalar prior precisions on a grid, whose validation loss is
     * smallest: {@code nll} is called once per grid value with a candidate state (the caller
     * evaluates, e.g., the predictive NLL on held-out data); the losing candidates are closed.
     *
     * @param state the state; not changed
     * @param prior the prior precision the state was built with
     * @param grid the candidate precisions; not empty, each finite and non-negative
     * @param nll the validation loss of a candidate state (lower is better)
     * @return the best candidate and its prior
     * @throws IllegalArgumentException when the grid is empty or has a bad value, or every loss is
     *     NaN
     */
    public static Tuned<DiagLaplaceState> tuneByValidation(
            DiagLaplaceState state,
            PriorPrecision prior,
            double[] grid,
            ToDoubleFunction<DiagLaplaceState> nll) {
        Checks.open(state);
        return grid(grid, p -> withPrior(state, prior, p), nll);
    }

    /**
     * Returns the dense state, among scalar prior precisions on a grid, whose validation loss is
     * smallest (see {@link #tuneByValidation(DiagLaplaceState, PriorPrecision, double[],
     * ToDoubleFunction)}).
     *
     * @param state the state; not changed
     * @param prior the prior precision the state was built with
     * @param grid the candidate precisions
     * @param nll the validation loss of a candidate state
     * @return the best candidate and its prior
     * @throws IllegalArgumentException when the grid is empty or has a bad value, or every loss is
     *     NaN
     */
    public static Tuned<DenseLaplaceState> tuneByValidation(
            DenseLaplaceState state,
            PriorPrecision prior,
            double[] grid,
            ToDoubleFunction<DenseLaplaceState> nll) {
        Checks.open(state);
        return grid(grid, p -> withPrior(state, prior, p), nll);
    }

    /**
     * Returns the K-FAC state, among scalar prior precisions on a grid, whose validation loss is
     * smallest (see {@link #tuneByValidation(DiagLaplaceState, PriorPrecision, double[],
     * ToDoubleFunction)}).
     *
     * @param state the state; not changed
     * @param grid the candidate precisions
     * @param nll the validation loss of a candidate state
     * @return the best candidate and its prior
     * @throws IllegalArgumentException when the grid is empty or has a bad value, or every loss is
     *     NaN
     */
    public static Tuned<KfacLaplaceState> tuneByValidation(
            KfacLaplaceState state, double[] grid, ToDoubleFunction<KfacLaplaceState> nll) {
        Checks.open(state);
        return grid(grid, p -> withPrior(state, p), nll);
    }

    private static <S extends AutoCloseable> Tuned<S> grid(
            double[] grid, Function<PriorPrecision, S> make, ToDoubleFunction<S> nll) {
        Checks.notNull(grid, "grid");
        Checks.notNull(nll, "nll");
        if (grid.length == 0) {
            throw new IllegalArgumentException("grid must not be empty");
        }
        List<PriorPrecision> priors = new ArrayList<>();
        for (double g : grid) {
            priors.add(PriorPrecision.of(g));
        }
        S best = null;
        PriorPrecision bestPrior = null;
        double bestLoss = Double.NaN;
        for (PriorPrecision p : priors) {
            S candidate = make.apply(p);
            double loss;
            try {
                loss = nll.applyAsDouble(candidate);
            } catch (RuntimeException e) {
                closeQuietly(candidate);
                closeQuietly(best);
                throw e;
            }
            if (!Double.isNaN(loss) && (best == null || loss < bestLoss)) {
                closeQuietly(best);
                best = candidate;
                bestPrior = p;
                bestLoss = loss;
            } else {
                closeQuietly(candidate);
            }
        }
        if (best == null) {
            throw new IllegalArgumentException("every validation loss on the grid is NaN");
        }
        return new Tuned<>(best, bestPrior);
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------------------------------
    // the separable problem

    /**
     * A set of parameters sharing one prior precision δ: the leaves it covers, {@code s = Σ θ²},
     * and the eigenvalues {@code h} of its curvature block (as many as its parameters).
     */
    record Group(List<String> leaves, double s, double[] h) {

        static Group of(List<String> leaves, double[] theta, double[] h, int from, int size) {
            double s = 0;
            double[] hs = new double[size];
            for (int j = 0; j < size; j++) {
                s += theta[from + j] * theta[from + j];
                hs[j] = Math.max(0, h[from + j]);
            }
            return new Group(List.copyOf(leaves), s, hs);
        }

        /** Returns {@code −½ δ s + ½ n log δ − ½ Σ log(δ + h_j)}. */
        double value(double delta) {
            double v = -0.5 * delta * s + 0.5 * h.length * Math.log(delta);
            for (double hj : h) {
                v -= 0.5 * Math.log(delta + hj);
            }
            return v;
        }

        /** Returns {@code δ ∂value/∂δ = ½ Σ h_j / (δ + h_j) − ½ δ s}, decreasing in δ. */
        double scaledGradient(double delta) {
            double gamma = 0;
            for (double hj : h) {
                gamma += hj / (delta + hj);
            }
            return 0.5 * gamma - 0.5 * delta * s;
        }

        static Group merge(List<Group> groups) {
            List<String> leaves = new ArrayList<>();
            double s = 0;
            int n = 0;
            for (Group g : groups) {
                leaves.addAll(g.leaves());
                s += g.s();
                n += g.h().length;
            }
            double[] h = new double[n];
            int at = 0;
            for (Group g : groups) {
                System.arraycopy(g.h(), 0, h, at, g.h().length);
                at += g.h().length;
            }
            return new Group(leaves, s, h);
        }
    }

    /** Maximises the separable evidence: one δ for all groups (SCALAR) or one per group. */
    static PriorPrecision solve(List<Group> groups, PriorPrecision.Kind kind) {
        if (kind == PriorPrecision.Kind.SCALAR) {
            return PriorPrecision.of(root(Group.merge(groups)));
        }
        Map<String, Double> values = new LinkedHashMap<>();
        for (Group g : groups) {
            double d = root(g);
            g.leaves().forEach(k -> values.put(k, d));
        }
        return PriorPrecision.of(values);
    }

    /** The root of the scaled gradient in {@code log δ}, clamped to [MIN, MAX]. */
    private static double root(Group g) {
        double lo = Math.log(MIN);
        double hi = Math.log(MAX);
        if (g.scaledGradient(MIN) <= 0) {
            return MIN;
        }
        if (g.scaledGradient(MAX) >= 0) {
            return MAX;
        }
        BrentSolver solver = new BrentSolver(1e-14, 1e-13);
        double u = solver.solve(1000, x -> g.scaledGradient(Math.exp(x)), lo, hi);
        return Math.exp(u);
    }

    /** Conjugate-gradient ascent of the dense evidence in {@code log δ}, one δ per group. */
    private static PriorPrecision denseAscent(
            TensorTree params, double[] theta, double[][] h, PriorPrecision.Kind kind) {
        int p = theta.length;
        int[] groupOf = new int[p];
        List<String> names = params.names();
        int groups;
        if (kind == PriorPrecision.Kind.PER_LEAF) {
            int at = 0;
            for (int g = 0; g < names.size(); g++) {
                int size = Math.toIntExact(params.get(names.get(g)).size());
                for (int j = 0; j < size; j++) {
                    groupOf[at++] = g;
                }
            }
            groups = names.size();
        } else {
            for (int j = 0; j < p; j++) {
                groupOf[j] = j;
            }
            groups = p;
        }
        double[] s = new double[groups];
        int[] n = new int[groups];
        for (int j = 0; j < p; j++) {
            s[groupOf[j]] += theta[j] * theta[j];
            n[groupOf[j]]++;
        }
        ObjectiveFunction value =
                new ObjectiveFunction(
                        u -> {
                            double v = -0.5 * logDetCholesky(plusDiag(h, u, groupOf));
                            for (int g = 0; g < groups; g++) {
                                v += -0.5 * Math.exp(u[g]) * s[g] + 0.5 * n[g] * u[g];
                            }
                            return v;
                        });
        ObjectiveFunctionGradient gradient =
                new ObjectiveFunctionGradient(
                        u -> {
                            RealMatrix inv =
                                    new CholeskyDecomposition(
                                                    new Array2DRowRealMatrix(
                                                            plusDiag(h, u, groupOf), false),
                                                    1e-12,
                                                    1e-300)
                                            .getSolver()
                                            .getInverse();
                            double[] grad = new double[groups];
                            for (int j = 0; j < p; j++) {
                                grad[groupOf[j]] -= 0.5 * inv.getEntry(j, j);
                            }
                            for (int g = 0; g < groups; g++) {
                                double d = Math.exp(u[g]);
                                grad[g] = d * (grad[g] - 0.5 * s[g]) + 0.5 * n[g];
                            }
                            return grad;
                        });
        NonLinearConjugateGradientOptimizer opt =
                new NonLinearConjugateGradientOptimizer(
                        NonLinearConjugateGradientOptimizer.Formula.POLAK_RIBIERE,
                        new SimpleValueChecker(1e-14, 1e-14));
        double[] start = new double[groups];
        PointValuePair best =
                opt.optimize(
                        new MaxEval(100_000),
                        value,
                        gradient,
                        GoalType.MAXIMIZE,
                        new InitialGuess(start));
        double[] u = best.getPoint();
        if (kind == PriorPrecision.Kind.PER_LEAF) {
            Map<String, Double> values = new LinkedHashMap<>();
            for (int g = 0; g < groups; g++) {
                values.put(names.get(g), clamp(Math.exp(u[g])));
            }
            return PriorPrecision.of(values);
        }
        double[] d = new double[p];
        for (int j = 0; j < p; j++) {
            d[j] = clamp(Math.exp(u[j]));
        }
        NDArray flat = params.manager().create(d).toType(params.dataType(), false);
        return PriorPrecision.of(params.unravel(flat));
    }

    private static double clamp(double d) {
        return Math.min(MAX, Math.max(MIN, d));
    }

    private static double[][] plusDiag(double[][] h, double[] u, int[] groupOf) {
        double[][] a = new double[h.length][];
        for (int i = 0; i < h.length; i++) {
            a[i] = h[i].clone();
            a[i][i] += Math.exp(u[groupOf[i]]);
        }
        return a;
    }

    // ---------------------------------------------------------------------------------------
    // conversions

    /** Returns the tree raveled to doubles. */
    static double[] doubles(TensorTree t) {
        return Scopes.call(
                null,
                () -> {
                    try (NDArray f = t.ravel();
                            NDArray d = f.toType(DataType.FLOAT64, true)) {
                        return d.toDoubleArray();
                    }
                },
                v -> List.of());
    }

    /** Returns a square array as a Java matrix. */
    static double[][] matrix(NDArray a) {
        int p = Math.toIntExact(a.getShape().get(0));
        double[] flat;
        try (NDArray d = a.toType(DataType.FLOAT64, true)) {
            flat = d.toDoubleArray();
        }
        double[][] m = new double[p][p];
        for (int i = 0; i < p; i++) {
            System.arraycopy(flat, i * p, m[i], 0, p);
        }
        return m;
    }

    private static RealMatrix symmetric(double[][] a) {
        RealMatrix m = new Array2DRowRealMatrix(a);
        return m.add(m.transpose()).scalarMultiply(0.5);
    }

    /** Returns {@code log det a} from a Cholesky factorisation (after symmetrising). */
    private static double logDetCholesky(double[][] a) {
        try {
            RealMatrix l = new CholeskyDecomposition(symmetric(a), 1e-12, 1e-300).getL();
            double v = 0;
            for (int i = 0; i < a.length; i++) {
                v += 2 * Math.log(l.getEntry(i, i));
            }
            return v;
        } catch (org.apache.commons.math3.linear.NonPositiveDefiniteMatrixException e) {
            throw new IllegalArgumentException(
                    "cannot evaluate the evidence: the precision is not positive definite", e);
        }
    }
}
