package io.posteriors.laplace;

import ai.djl.ndarray.NDList;
import io.posteriors.Checks;
import io.posteriors.Curvature;
import io.posteriors.ForwardFn;
import io.posteriors.InitialValue;
import io.posteriors.ModelLogPosterior;
import io.posteriors.OuterFn;
import io.posteriors.Scopes;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;

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
 * <p>The diagonal comes from {@link Curvature#diagGgn}, which forms the Jacobian of the batch's
 * outputs (one reverse pass per output element); the forward function is then run once more, out of
 * autograd, to return its aux.
 *
 * <p>Temperature: {@link DiagLaplaceState#sample(int, double)} draws from {@code N(θ*, T /
 * precDiag)}; T = 1 is the Laplace posterior and T = 0 returns θ* exactly.
 *
 * <pre>{@code
 * Transform<DiagLaplaceState, Batch> t =
 *         DiagGgn.builder(forward, (logits, b) -> LogLikelihoods.categorical(logits, b.y()).sum())
 *                 .initPrecDiag(1.0)
 *                 .build();
 * }</pre>
 *
 * @param forward the model's forward function, batch-first outputs (e.g. logits)
 * @param outerLogLikelihood the log likelihood of the batch given the outputs, a scalar summed over
 *     the batch
 * @param modelLogPosterior the structured log posterior these two come from, whose fast path is
 *     then used, or null
 * @param initPrecDiag the initial diagonal precision (the prior precision), non-negative
 * @param <B> the batch type
 */
public record DiagGgn<B>(
        ForwardFn<B> forward,
        OuterFn<B> outerLogLikelihood,
        ModelLogPosterior<B> modelLogPosterior,
        InitialValue initPrecDiag)
        implements Transform<DiagLaplaceState, B> {

    /**
     * Checks the options.
     *
     * @throws NullPointerException when a function or {@code initPrecDiag} is null
     * @throws IllegalArgumentException when an initial precision entry is negative or not finite
     */
    public DiagGgn {
        Checks.notNull(forward, "forward");
        Checks.notNull(outerLogLikelihood, "outerLogLikelihood");
        Checks.notNull(initPrecDiag, "initPrecDiag").requireNonNegative("initPrecDiag");
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
        return new Builder<>(forward, outerLogLikelihood, null);
    }

    /**
     * Starts a builder from a structured log posterior: its model's forward function and its summed
     * per-sample log likelihood. Its log prior, if any, is <b>not</b> included (as in posteriors,
     * the prior enters as {@code initPrecDiag}). For a {@code SequentialBlock} of {@code Linear}
     * layers the diagonal then comes from {@link Curvature#diagGgn(ModelLogPosterior, TensorTree,
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
        return new Builder<>(
                logPosterior.forward(), logPosterior.outerLogLikelihood(), logPosterior);
    }

    /**
     * Options of {@link DiagGgn}.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> {
        private final ForwardFn<B> forward;
        private final OuterFn<B> outerLogLikelihood;
        private final ModelLogPosterior<B> modelLogPosterior;
        private InitialValue initPrecDiag = new InitialValue.Constant(0);

        private Builder(
                ForwardFn<B> forward,
                OuterFn<B> outerLogLikelihood,
                ModelLogPosterior<B> modelLogPosterior) {
            this.forward = Checks.notNull(forward, "forward");
            this.outerLogLikelihood = Checks.notNull(outerLogLikelihood, "outerLogLikelihood");
            this.modelLogPosterior = modelLogPosterior;
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
            this.initPrecDiag =
                    InitialValue.of(initPrecDiag, "initPrecDiag")
                            .requireNonNegative("initPrecDiag");
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
            this.initPrecDiag =
                    InitialValue.of(initPrecDiag, "initPrecDiag")
                            .requireNonNegative("initPrecDiag");
            return this;
        }

        /**
         * Sets the prior to a previous fit's posterior, for continual learning: the initial
         * precision becomes {@code previous.precDiag() / temperature}, the precision of {@code
         * N(μ_prev, T Σ_prev)}. Pair it with a log posterior whose log prior is {@code p ->
         * previous.logProb(p, temperature)} (centred at the previous mean) when fitting the next
         * task's MAP. The scaled copy is made now, on the previous state's manager.
         *
         * @param previous the previous task's diagonal Laplace posterior
         * @param temperature T, the temperature the previous posterior is used at; positive
         * @return this builder
         * @throws IllegalArgumentException when the temperature is not positive or a precision
         *     entry is negative or not finite
         */
        public Builder<B> prior(DiagLaplaceState previous, double temperature) {
            return initPrecDiag(DiagLaplaceState.precisionAt(previous, temperature));
        }

        /**
         * Builds the transform.
         *
         * @return the transform
         */
        public DiagGgn<B> build() {
            return new DiagGgn<>(forward, outerLogLikelihood, modelLogPosterior, initPrecDiag);
        }
    }

    /**
     * Returns the state at step 0: a copy of {@code params} as the mean and the initial precision.
     *
     * @param params the parameters to build the approximation around (usually the MAP)
     * @return the state
     * @throws IllegalArgumentException when {@code params} is not finite, or an initial precision
     *     tree does not have its structure
     */
    @Override
    public DiagLaplaceState init(TensorTree params) {
        return DiagLaplaceState.init(params, initPrecDiag);
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
        Checks.open(state);
        TensorTree params = state.params();
        // precDiag += diag(Jᵀ H J); the scope also frees the flat diagonal diagGgn leaves behind
        try (TensorTree diag =
                Scopes.call(
                        params.manager(),
                        () ->
                                modelLogPosterior != null
                                        ? Curvature.diagGgn(modelLogPosterior, params, batch)
                                        : Curvature.diagGgn(
                                                Calls.batchFirst(forward, batch),
                                                Calls.negate(outerLogLikelihood),
                                                params,
                                                batch),
                        TensorTree::leaves)) {
            NDList aux =
                    modelLogPosterior != null
                            ? Calls.logProbAux(modelLogPosterior, params, batch)
                            : Calls.forwardAux(forward, params, batch);
            try {
                return new Step<>(state.add(diag, "GGN diagonal"), aux);
            } catch (RuntimeException e) {
                aux.close();
                throw e;
            }
        }
    }
}
