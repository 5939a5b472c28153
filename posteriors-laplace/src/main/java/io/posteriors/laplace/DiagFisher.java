package io.posteriors.laplace;

import io.posteriors.Autodiff;
import io.posteriors.Checks;
import io.posteriors.InitialValue;
import io.posteriors.LogProbFn;
import io.posteriors.PerSample;
import io.posteriors.PerSampleBuilder;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import java.util.List;
import java.util.function.Function;

/**
 * Diagonal Laplace approximation with the empirical Fisher: posteriors' {@code
 * laplace.diag_fisher}.
 *
 * <p>The posterior is approximated by {@code N(θ*, diag(1 / precDiag))} around parameters θ* (the
 * MAP, found beforehand, e.g. with {@link io.posteriors.optim.Optimize}); the parameters are not
 * moved. Each batch adds the squares of the per-sample gradients of the log posterior:
 *
 * <pre>
 * precDiag ← precDiag + Σ_{i in batch} (∇_θ log p(y_i, θ | x_i))²   (element-wise, at θ = θ*)
 * </pre>
 *
 * <p>starting from {@code initPrecDiag} (a prior precision; 0 by default as in posteriors). The
 * updates add, so one pass over the data in minibatches gives the same precision as one update with
 * the full batch. This is the diagonal of the empirical Fisher {@code Σ_i g_i g_i^T}, a cheap
 * stand-in for the Hessian of the negative log posterior that is always non-negative (Martens, "New
 * insights and perspectives on the natural gradient method", JMLR 2020; Kunstner, Balles and
 * Hennig, "Limitations of the empirical Fisher approximation for natural gradient descent", NeurIPS
 * 2019, explain when it is a poor one; its use in Laplace is surveyed in Daxberger, Kristiadi,
 * Immer, Eschenhagen, Bauer and Hennig, "Laplace Redux – Effortless Bayesian Deep Learning",
 * NeurIPS 2021).
 *
 * <p>{@code perSample(false)} (the default) takes a log posterior of a whole batch (e.g. the mean
 * log likelihood) and evaluates it on each sample as a batch of one, as posteriors' {@code
 * per_samplify} does ({@link PerSample#perSamplify}); {@code perSample(true)} takes a function that
 * returns one value per sample, which is faster (one forward pass per batch). A {@link
 * io.posteriors.ModelLogPosterior} is always used in its per-sample form (whatever {@code
 * perSample} says), which gives the same values and, for a {@code SequentialBlock} of {@code
 * Linear} layers, lets {@link Autodiff#perSampleGradMoments} compute {@code Σ_i g_i²} from one
 * reverse pass without forming the per-sample gradients; other functions take its generic path (one
 * reverse pass per sample).
 *
 * <p>Temperature: {@link DiagLaplaceState#sample(int, double)} draws from {@code N(θ*, T /
 * precDiag)}; T = 1 is the Laplace posterior and T = 0 returns θ* exactly (the optimisation limit).
 *
 * <pre>{@code
 * Transform<DiagLaplaceState, Batch> t =
 *         DiagFisher.builder(perSampleLogLik).perSample(true).initPrecDiag(1.0).build();
 * DiagLaplaceState state = t.init(map);
 * for (Batch b : batches) {
 *     state = t.updateInPlace(state, b).state();
 * }
 * TensorTree samples = state.sample(30);   // leaves of shape (30, ...)
 * }</pre>
 *
 * @param logPosterior the log posterior (unnormalised): of a whole batch, returning a scalar,
 *     unless {@code perSample}, then one value per sample
 * @param perSample whether {@code logPosterior} returns one value per sample
 * @param batchSplitter splits a batch into one-sample batches when {@code perSample} is false
 * @param initPrecDiag the initial diagonal precision (the prior precision), non-negative
 * @param <B> the batch type
 */
public record DiagFisher<B>(
        LogProbFn<B> logPosterior,
        boolean perSample,
        Function<B, List<B>> batchSplitter,
        InitialValue initPrecDiag)
        implements Transform<DiagLaplaceState, B> {

    /**
     * Checks the options.
     *
     * @throws NullPointerException when a function or {@code initPrecDiag} is null
     * @throws IllegalArgumentException when an initial precision entry is negative or not finite
     */
    public DiagFisher {
        Checks.notNull(logPosterior, "logPosterior");
        Checks.notNull(batchSplitter, "batchSplitter");
        Checks.notNull(initPrecDiag, "initPrecDiag").requireNonNegative("initPrecDiag");
    }

    /**
     * Starts a builder.
     *
     * @param logPosterior the log posterior (unnormalised): of a whole batch, returning a scalar,
     *     unless {@link Builder#perSample(boolean)} is set, then one value per sample
     * @param <B> the batch type
     * @return the builder
     * @throws NullPointerException when {@code logPosterior} is null
     */
    public static <B> Builder<B> builder(LogProbFn<B> logPosterior) {
        return new Builder<>(logPosterior);
    }

    /**
     * Options of {@link DiagFisher}: {@code perSample} and {@code batchSplitter} from {@link
     * PerSampleBuilder}, and the initial precision.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> extends PerSampleBuilder<B, Builder<B>> {
        private final LogProbFn<B> logPosterior;
        private InitialValue initPrecDiag = new InitialValue.Constant(0);

        private Builder(LogProbFn<B> logPosterior) {
            this.logPosterior = Checks.notNull(logPosterior, "logPosterior");
        }

        @Override
        protected Builder<B> self() {
            return this;
        }

        /**
         * Sets the initial diagonal precision to one value on every element (default 0).
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
        public DiagFisher<B> build() {
            return new DiagFisher<>(logPosterior, perSample(), batchSplitter(), initPrecDiag);
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
     * Adds this batch's squared per-sample gradients to the state's precision in place.
     *
     * @param state the current state; its precision arrays are written to
     * @param batch the batch
     * @return a state sharing the arrays of {@code state}, one step on, and the aux of the log
     *     posterior (stacked over samples when {@code perSample} is false)
     * @throws IllegalArgumentException when the log posterior is not finite or not of the expected
     *     shape, or the squared gradients are not finite (the state is then unchanged)
     */
    @Override
    public Step<DiagLaplaceState> updateInPlace(DiagLaplaceState state, B batch) {
        Checks.open(state);
        // precDiag += Σ_i g_i², in one call: per-sample gradients by the generic path, or per-layer
        // outer products without forming them when the log posterior is a ModelLogPosterior.
        LogProbFn<B> f = PerSample.perSampleForm(logPosterior, perSample, batchSplitter);
        Autodiff.GradMoments gm = Autodiff.perSampleGradMoments(f, state.params(), batch);
        try {
            return new Step<>(state.add(gm.sumOfSquares(), "diagonal empirical Fisher"), gm.aux());
        } catch (RuntimeException e) {
            gm.aux().close();
            throw e;
        } finally {
            gm.values().close();
            gm.sum().close();
            gm.sumOfSquares().close();
        }
    }
}
