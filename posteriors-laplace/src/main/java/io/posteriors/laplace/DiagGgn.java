package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.posteriors.Autodiff;
import io.posteriors.Checks;
import io.posteriors.ForwardFn;
import io.posteriors.ModelLogPosterior;
import io.posteriors.OuterFn;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.internal.Scoped;

/**
 * Diagonal Laplace approximation with the generalised Gauss-Newton matrix: posteriors' {@code
 * laplace.diag_ggn}.
 *
 * <p>The posterior is approximated by {@code N(θ*, diag(1 / precDiag))} around parameters θ* (the
 * MAP, found beforehand); the parameters are not moved. With {@code z = f(θ)} the model outputs of
 * a batch (the forward function, batch-first) and {@code L(z) = -log p(y | z)} the loss (the
 * negative of the outer log likelihood), each batch adds the diagonal of the GGN:
 *
 * <pre>
 * precDiag ← precDiag + diag(J^T H J),   J = ∂z/∂θ,  H = ∂²L/∂z²   (at θ = θ*)
 * </pre>
 *
 * <p>starting from {@code initPrecDiag} (the prior precision; 0 by default as in posteriors). The
 * updates add, so one pass over the data gives the full-data GGN diagonal. The GGN drops the second
 * derivatives of the network from the Hessian, so it is positive semi-definite whenever the loss is
 * convex in the outputs (cross entropy, Gaussian); for an exponential-family likelihood whose
 * natural parameter is the output it equals the Fisher information (Schraudolph, "Fast curvature
 * matrix-vector products for second-order gradient descent", Neural Computation 2002; Martens, "New
 * insights and perspectives on the natural gradient method", JMLR 2020; Immer, Korzepa and Bauer,
 * "Improving predictions of Bayesian neural nets via local linearization", AISTATS 2021).
 *
 * <p>The diagonal comes from {@link Autodiff#diagGgn}, which forms the Jacobian of the batch's
 * outputs (one reverse pass per output element); the forward function is then run once more, out of
 * autograd, to return its aux.
 *
 * <p>Temperature: {@link #sample(DiagLaplaceState, int, double)} draws from {@code N(θ*, T /
 * precDiag)}; T = 1 is the Laplace posterior and T = 0 returns θ* exactly.
 *
 * <pre>{@code
 * Transform<DiagLaplaceState, Batch> t =
 *         DiagGgn.builder(forward, (logits, b) -> LogLikelihoods.categorical(logits, b.y()).sum())
 *                 .initPrecDiag(1.0)
 *                 .build();
 * }</pre>
 *
 * @param <B> the batch type
 */
public final class DiagGgn<B> implements Transform<DiagLaplaceState, B> {

    private final ForwardFn<B> forward;
    private final OuterFn<B> loss;
    private final ModelLogPosterior<B> structured;
    private final double initPrecDiag;
    private final TensorTree initPrecDiagTree;

    private DiagGgn(Builder<B> b) {
        this.forward = b.forward;
        this.structured = b.structured;
        this.loss = Calls.negate(b.outerLogLikelihood);
        this.initPrecDiag = b.initPrecDiag;
        this.initPrecDiagTree = b.initPrecDiagTree;
    }

    /**
     * Starts a builder.
     *
     * @param forward the model's forward function, batch-first outputs (e.g. logits)
     * @param outerLogLikelihood the log likelihood of the batch given the outputs, a scalar summed
     *     over the batch (e.g. {@code LogLikelihoods.categorical(logits, y).sum()})
     * @param <B> the batch type
     * @return the builder
     * @throws NullPointerException when an argument is null
     */
    public static <B> Builder<B> builder(ForwardFn<B> forward, OuterFn<B> outerLogLikelihood) {
        return new Builder<>(forward, outerLogLikelihood);
    }

    /**
     * Starts a builder from a structured log posterior: its model's forward function and its summed
     * per-sample log likelihood. Its log prior, if any, is <b>not</b> included (as in posteriors,
     * the prior enters as {@code initPrecDiag}). For a {@code SequentialBlock} of {@code Linear}
     * layers the diagonal then comes from {@link Autodiff#diagGgn(ModelLogPosterior, TensorTree,
     * Object)}'s fast path: C reverse passes per batch (C outputs per sample) instead of one per
     * output element; other models get the same numbers by the generic path.
     *
     * @param logPosterior the structured log posterior
     * @param <B> the batch type
     * @return the builder
     * @throws NullPointerException when {@code logPosterior} is null
     */
    public static <B> Builder<B> builder(ModelLogPosterior<B> logPosterior) {
        Checks.notNull(logPosterior, "logPosterior");
        Builder<B> b = new Builder<>(logPosterior.forward(), logPosterior.outerLogLikelihood());
        b.structured = logPosterior;
        return b;
    }

    /**
     * Options of {@link DiagGgn}.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> {
        private final ForwardFn<B> forward;
        private final OuterFn<B> outerLogLikelihood;
        private ModelLogPosterior<B> structured;
        private double initPrecDiag;
        private TensorTree initPrecDiagTree;

        private Builder(ForwardFn<B> forward, OuterFn<B> outerLogLikelihood) {
            this.forward = Checks.notNull(forward, "forward");
            this.outerLogLikelihood = Checks.notNull(outerLogLikelihood, "outerLogLikelihood");
        }

        /**
         * Sets the initial diagonal precision (the prior precision) to one value on every element
         * (default 0).
         *
         * @param initPrecDiag the prior precision; finite and non-negative
         * @return this builder
         * @throws IllegalArgumentException when the value is negative, NaN or infinite
         */
        public Builder<B> initPrecDiag(double initPrecDiag) {
            this.initPrecDiag = Checks.nonNegative(initPrecDiag, "initPrecDiag");
            this.initPrecDiagTree = null;
            return this;
        }

        /**
         * Sets the initial diagonal precision element by element; {@code init} copies it and checks
         * that it has the parameters' structure.
         *
         * @param initPrecDiag the prior precision, finite and non-negative everywhere
         * @return this builder
         * @throws IllegalArgumentException when an entry is negative, NaN or infinite
         * @throws NullPointerException when the tree is null
         */
        public Builder<B> initPrecDiag(TensorTree initPrecDiag) {
            this.initPrecDiagTree = DiagLaplace.checkInitTree(initPrecDiag);
            return this;
        }

        /**
         * Builds the transform.
         *
         * @return the transform
         */
        public DiagGgn<B> build() {
            return new DiagGgn<>(this);
        }
    }

    /**
     * Returns the state at step 0: a copy of {@code params} as the mean and the initial precision.
     *
     * @param params the parameters to build the approximation around (usually the MAP)
     * @return the state
     * @throws IllegalArgumentException when an initial precision tree does not have the structure
     *     of {@code params}
     */
    @Override
    public DiagLaplaceState init(TensorTree params) {
        return DiagLaplace.init(params, initPrecDiag, initPrecDiagTree);
    }

    /**
     * Returns a new state whose precision has this batch's GGN diagonal added; the input state is
     * untouched.
     *
     * @param state the current state
     * @param batch the batch
     * @return the new state and the aux of the forward function
     */
    @Override
    public Step<DiagLaplaceState> update(DiagLaplaceState state, B batch) {
        DiagLaplaceState copy = DiagLaplace.copy(state);
        try {
            return updateInPlace(copy, batch);
        } catch (RuntimeException e) {
            copy.close();
            throw e;
        }
    }

    /**
     * Adds this batch's GGN diagonal to the state's precision in place.
     *
     * @param state the current state; its precision arrays are written to
     * @param batch the batch
     * @return a state sharing the arrays of {@code state}, one step on, and the aux of the forward
     *     function (the model outputs when built from a {@code ModelLogPosterior})
     * @throws IllegalArgumentException when the forward output is not batch-first, the outer log
     *     likelihood is not a finite scalar or the GGN diagonal is not finite (the state is then
     *     unchanged)
     */
    @Override
    public Step<DiagLaplaceState> updateInPlace(DiagLaplaceState state, B batch) {
        Checks.notNull(state, "state");
        // The scope also frees the flat diagonal that Autodiff.diagGgn leaves behind.
        TensorTree diag =
                Scoped.call(
                        state.params().manager(),
                        () ->
                                structured != null
                                        ? Autodiff.diagGgn(structured, state.params(), batch)
                                        : Autodiff.diagGgn(
                                                Calls.batchFirst(forward, batch),
                                                loss,
                                                state.params(),
                                                batch),
                        TensorTree::leaves);
        try {
            NDList aux =
                    structured != null
                            ? Calls.logProbAux(structured, state.params(), batch)
                            : Calls.forwardAux(forward, state.params(), batch);
            try {
                return new Step<>(DiagLaplace.accumulate(state, diag, "GGN diagonal"), aux);
            } catch (RuntimeException e) {
                aux.close();
                throw e;
            }
        } finally {
            diag.close();
        }
    }

    /**
     * Draws one sample from the Laplace posterior {@code N(params, 1 / precDiag)}.
     *
     * @param state the state
     * @return a tree with the parameters' structure, on their manager
     * @throws IllegalArgumentException when a precision entry is not positive (its variance would
     *     be infinite); the message names the leaf
     */
    public static TensorTree sample(DiagLaplaceState state) {
        return DiagLaplace.sample(state);
    }

    /**
     * Draws {@code n} samples from the Laplace posterior {@code N(params, 1 / precDiag)}.
     *
     * @param state the state
     * @param n the number of samples; at least 1
     * @return a tree whose leaves have shape {@code (n, *leaf shape)}
     * @throws IllegalArgumentException when {@code n < 1} or a precision entry is not positive
     */
    public static TensorTree sample(DiagLaplaceState state, int n) {
        return DiagLaplace.sample(state, n, 1.0);
    }

    /**
     * Draws {@code n} samples from {@code N(params, T / precDiag)}: temperature 1 is the Laplace
     * posterior, temperature 0 returns {@code n} exact copies of the mean.
     *
     * @param state the state
     * @param n the number of samples; at least 1
     * @param temperature T, scaling the covariance; finite and non-negative
     * @return a tree whose leaves have shape {@code (n, *leaf shape)}
     * @throws IllegalArgumentException when {@code n < 1}, T is negative or not finite, or T &gt; 0
     *     and a precision entry is not positive (its variance would be infinite)
     */
    public static TensorTree sample(DiagLaplaceState state, int n, double temperature) {
        return DiagLaplace.sample(state, n, temperature);
    }

    /**
     * Returns the normalised log density of the Laplace posterior {@code N(params, 1 / precDiag)}.
     *
     * @param state the state
     * @param x one point (the parameters' structure) or m points (every leaf with a leading
     *     dimension m)
     * @return a scalar for one point, a vector of m values otherwise; differentiable in {@code x}
     * @throws IllegalArgumentException when {@code x} has neither structure or a precision entry is
     *     not positive
     */
    public static NDArray logProb(DiagLaplaceState state, TensorTree x) {
        return DiagLaplace.logProb(state, x, 1.0);
    }

    /**
     * Returns the normalised log density of {@code N(params, T / precDiag)}.
     *
     * @param state the state
     * @param x one point or m points (leading dimension m)
     * @param temperature T; finite and positive
     * @return a scalar for one point, a vector of m values otherwise; differentiable in {@code x}
     * @throws IllegalArgumentException when T is not positive, {@code x} has neither structure or a
     *     precision entry is not positive
     */
    public static NDArray logProb(DiagLaplaceState state, TensorTree x, double temperature) {
        return DiagLaplace.logProb(state, x, temperature);
    }
}
