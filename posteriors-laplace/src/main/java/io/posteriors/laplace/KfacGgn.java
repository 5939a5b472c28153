package io.posteriors.laplace;

import io.posteriors.Checks;
import io.posteriors.KroneckerFactors;
import io.posteriors.ModelLogPosterior;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;

/**
 * K-FAC Laplace approximation with the generalised Gauss-Newton matrix: each {@code Linear} layer's
 * block of the GGN is approximated by a Kronecker product (posteriors' issue #55; laplace-torch's
 * default {@code KronLaplace}).
 *
 * <p>For a layer {@code z = W a + b} with augmented input {@code ã = (a, 1)}, each batch adds
 *
 * <pre>
 * A ← A + Σ_i ã_i ã_iᵀ,   G ← G + Σ_i Σ_c δ_ic δ_icᵀ,   n ← n + batch size
 * </pre>
 *
 * <p>where {@code δ_ic} is the c-th column of a square root of the Hessian of {@code −log p(y_i |
 * z_i)} in the outputs, pushed back to the layer's output ({@link KroneckerFactors#ggn}: one probed
 * forward pass and C reverse passes per batch, as the fast diagonal GGN). The state's precision
 * block over {@code [W b]} is {@code G ⊗ (A / n) + δ I} with δ the prior precision: for one sample
 * this is exactly the layer's GGN block; over N samples it is the K-FAC approximation of the summed
 * GGN (Martens and Grosse, "Optimizing neural networks with Kronecker-factored approximate
 * curvature", ICML 2015; Ritter, Botev and Barber, "A scalable Laplace approximation for neural
 * networks", ICLR 2018; Daxberger et al., "Laplace Redux", NeurIPS 2021). The parameters are not
 * moved.
 *
 * <p>Coverage: the model must be a {@code SequentialBlock} of {@code Linear} layers and
 * parameter-free blocks with two-dimensional inputs and {@code (n, C)} outputs. Leaves no layer
 * covers (everything, for other models, e.g. with an embedding) fall back to the diagonal GGN of
 * {@link DiagGgn}; {@link KfacLaplaceState#fallbackLeaves()} lists them. The log prior of the log
 * posterior is not included: the prior enters as {@code priorPrecision} (0 by default, as in
 * posteriors; give one before sampling, or tune it with {@link Evidence#tunePrior(KfacLaplaceState,
 * PriorPrecision.Kind)}).
 *
 * <p>Temperature: {@link KfacLaplaceState#sample(int, double)} draws from {@code N(θ*, T Λ^-1)}; T
 * = 1 is the Laplace posterior and T = 0 returns θ* exactly.
 *
 * <pre>{@code
 * var t = KfacGgn.builder(logPost).priorPrecision(1.0).build();   // or builder(Subnetwork.lastLayer(logPost, map))
 * KfacLaplaceState s = t.init(map);
 * for (Batch b : batches) {
 *     s = t.updateInPlace(s, b).state();
 * }
 * }</pre>
 *
 * @param logPosterior the structured log posterior (its per-sample log likelihood is used; its log
 *     prior is not)
 * @param subnetwork the subnetwork the state covers (the rest fixed), or null for all leaves
 * @param priorPrecision the prior precision δ: a scalar, or per leaf with a layer's weight and bias
 *     equal
 * @param <B> the batch type
 */
public record KfacGgn<B>(
        ModelLogPosterior<B> logPosterior, Subnetwork<B> subnetwork, PriorPrecision priorPrecision)
        implements Transform<KfacLaplaceState, B> {

    /**
     * Checks the options.
     *
     * @throws NullPointerException when {@code logPosterior} or {@code priorPrecision} is null
     * @throws IllegalArgumentException when the prior precision is diagonal
     */
    public KfacGgn {
        Checks.notNull(logPosterior, "logPosterior");
        Kfac.requireKfacPrior(priorPrecision);
    }

    /**
     * Starts a builder over all the leaves of a structured log posterior.
     *
     * @param logPosterior the structured log posterior
     * @param <B> the batch type
     * @return the builder
     * @throws NullPointerException when {@code logPosterior} is null
     */
    public static <B> Builder<B> builder(ModelLogPosterior<B> logPosterior) {
        return new Builder<>(Checks.notNull(logPosterior, "logPosterior"), null);
    }

    /**
     * Starts a builder over a subnetwork (the rest fixed); {@code init} then takes {@code
     * subnetwork.params()}.
     *
     * @param subnetwork the subnetwork
     * @param <B> the batch type
     * @return the builder
     * @throws NullPointerException when {@code subnetwork} is null
     */
    public static <B> Builder<B> builder(Subnetwork<B> subnetwork) {
        Checks.notNull(subnetwork, "subnetwork");
        return new Builder<>(subnetwork.logPosterior(), subnetwork);
    }

    /**
     * Options of {@link KfacGgn}.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> extends Kfac.Builder<B, Builder<B>> {
        private Builder(ModelLogPosterior<B> logPosterior, Subnetwork<B> subnetwork) {
            super(logPosterior, subnetwork);
        }

        @Override
        Builder<B> self() {
            return this;
        }

        /**
         * Builds the transform.
         *
         * @return the transform
         */
        public KfacGgn<B> build() {
            return new KfacGgn<>(logPosterior, subnetwork, priorPrecision);
        }
    }

    /**
     * Returns the state at step 0: a copy of {@code params} as the mean, zero factors for each
     * covered layer and a zero fallback diagonal for the other leaves.
     *
     * @param params the parameters (usually the MAP; the subnetwork's leaves for a subnetwork)
     * @return the state
     * @throws IllegalArgumentException when {@code params} is not finite, does not match the
     *     subnetwork, or the prior lacks a leaf or splits a layer
     */
    @Override
    public KfacLaplaceState init(TensorTree params) {
        return Kfac.init(logPosterior, subnetwork, priorPrecision, params);
    }

    /**
     * Adds this batch's Kronecker factors (and the fallback leaves' GGN diagonal) in place.
     *
     * @param state the current state; its factor arrays are written to
     * @param batch the batch
     * @return a state sharing the arrays of {@code state}, one step on, and an empty aux
     * @throws IllegalArgumentException when a factor is not finite (the state is then unchanged) or
     *     the model is not covered at this batch
     */
    @Override
    public Step<KfacLaplaceState> updateInPlace(KfacLaplaceState state, B batch) {
        return Kfac.update(logPosterior, subnetwork, true, state, batch);
    }
}
