package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import io.posteriors.Autodiff;
import io.posteriors.Checks;
import io.posteriors.InitialValue;
import io.posteriors.LogProbFn;
import io.posteriors.PerSample;
import io.posteriors.PerSampleBuilder;
import io.posteriors.Scopes;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import java.util.List;
import java.util.function.Function;

/**
 * Dense Laplace approximation with the empirical Fisher: posteriors' {@code laplace.dense_fisher}.
 *
 * <p>The posterior is approximated by {@code N(θ*, prec^-1)} around parameters θ* (the MAP, found
 * beforehand); the parameters are not moved. With {@code g_i = ∇_θ log p(y_i, θ | x_i)} the
 * per-sample gradients of the log posterior at θ*, raveled ({@link TensorTree#ravel()} order), each
 * batch adds their outer products:
 *
 * <pre>
 * prec ← prec + Σ_{i in batch} g_i g_i^T = prec + G^T G,   G the (n, P) matrix of rows g_i
 * </pre>
 *
 * <p>starting from {@code initPrec} (a prior precision; 0 by default as in posteriors, a scalar
 * meaning that multiple of the identity). The updates add, so one pass over the data equals one
 * full-batch update. The empirical Fisher is positive semi-definite by construction (Martens, "New
 * insights and perspectives on the natural gradient method", JMLR 2020; Kunstner, Balles and
 * Hennig, "Limitations of the empirical Fisher approximation for natural gradient descent", NeurIPS
 * 2019; Daxberger et al., "Laplace Redux – Effortless Bayesian Deep Learning", NeurIPS 2021). It
 * costs P^2 memory: use it on a small model or a subset of the parameters (last layer).
 *
 * <p>{@code perSample(false)} (the default) evaluates a whole-batch log posterior on each sample as
 * a batch of one (posteriors' {@code per_samplify}, {@link PerSample#perSamplify}); {@code
 * perSample(true)} takes a function that returns one value per sample; a {@link
 * io.posteriors.ModelLogPosterior} is always used in its per-sample form. The per-sample gradients
 * come from {@link Autodiff#perSampleValueAndGrad}.
 *
 * <p>Temperature: {@link DenseLaplaceState#sample(int, double)} draws from {@code N(θ*, T
 * prec^-1)}; T = 1 is the Laplace posterior and T = 0 returns θ* exactly.
 *
 * @param logPosterior the log posterior (unnormalised): of a whole batch, returning a scalar,
 *     unless {@code perSample}, then one value per sample
 * @param perSample whether {@code logPosterior} returns one value per sample
 * @param batchSplitter splits a batch into one-sample batches when {@code perSample} is false
 * @param initPrec the initial precision (the prior precision): a non-negative number times the
 *     identity, or a symmetric {@code (P, P)} matrix with a non-negative diagonal
 * @param <B> the batch type
 */
public record DenseFisher<B>(
        LogProbFn<B> logPosterior,
        boolean perSample,
        Function<B, List<B>> batchSplitter,
        InitialValue initPrec)
        implements Transform<DenseLaplaceState, B> {

    /**
     * Checks the options.
     *
     * @throws NullPointerException when a function or {@code initPrec} is null
     * @throws IllegalArgumentException when the initial precision is negative, not finite or not
     *     symmetric
     */
    public DenseFisher {
        Checks.notNull(logPosterior, "logPosterior");
        Checks.notNull(batchSplitter, "batchSplitter");
        DenseLaplaceState.requireInitPrec(initPrec);
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
     * Options of {@link DenseFisher}: {@code perSample} and {@code batchSplitter} from {@link
     * PerSampleBuilder}, and the initial precision.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> extends PerSampleBuilder<B, Builder<B>> {
        private final LogProbFn<B> logPosterior;
        private InitialValue initPrec = new InitialValue.Constant(0);

        private Builder(LogProbFn<B> logPosterior) {
            this.logPosterior = Checks.notNull(logPosterior, "logPosterior");
        }

        @Override
        protected Builder<B> self() {
            return this;
        }

        /**
         * Sets the initial precision to {@code initPrec} times the identity (default 0).
         *
         * @param initPrec the prior precision; finite and non-negative
         * @return this builder
         * @throws IllegalArgumentException when the value is negative, NaN or infinite
         */
        public Builder<B> initPrec(double initPrec) {
            this.initPrec =
                    DenseLaplaceState.requireInitPrec(InitialValue.of(initPrec, "initPrec"));
            return this;
        }

        /**
         * Sets the initial precision matrix, over the raveled parameters; {@code init} copies it
         * and checks that it is (P, P) for the P parameter elements.
         *
         * @param initPrec a square, symmetric, finite matrix with a non-negative diagonal (e.g. the
         *     precision of an earlier Laplace approximation, as a prior)
         * @return this builder
         * @throws IllegalArgumentException when the matrix is not square, not finite, not symmetric
         *     or has a negative diagonal entry
         * @throws NullPointerException when the matrix is null
         */
        public Builder<B> initPrec(NDArray initPrec) {
            this.initPrec =
                    DenseLaplaceState.requireInitPrec(InitialValue.of(initPrec, "initPrec"));
            return this;
        }

        /**
         * Builds the transform.
         *
         * @return the transform
         */
        public DenseFisher<B> build() {
            return new DenseFisher<>(logPosterior, perSample(), batchSplitter(), initPrec);
        }
    }

    /**
     * Returns the state at step 0: a copy of {@code params} as the mean and the initial precision.
     *
     * @param params the parameters to build the approximation around (usually the MAP)
     * @return the state
     * @throws IllegalArgumentException when {@code params} is not finite, or an initial precision
     *     matrix is not (P, P) for its P elements
     */
    @Override
    public DenseLaplaceState init(TensorTree params) {
        return DenseLaplaceState.init(params, initPrec);
    }

    /**
     * Adds this batch's empirical Fisher to the state's precision in place.
     *
     * @param state the current state; its precision is written to
     * @param batch the batch
     * @return a state sharing the arrays of {@code state}, one step on, and the aux of the log
     *     posterior (stacked over samples when {@code perSample} is false)
     * @throws IllegalArgumentException when the log posterior is not finite or not of the expected
     *     shape, or the Fisher is not finite (the state is then unchanged)
     */
    @Override
    public Step<DenseLaplaceState> updateInPlace(DenseLaplaceState state, B batch) {
        Checks.open(state);
        LogProbFn<B> f = PerSample.perSampleForm(logPosterior, perSample, batchSplitter);
        Autodiff.ValueAndGrad vg = Autodiff.perSampleValueAndGrad(f, state.params(), batch);
        try {
            // prec += Gᵀ G, G the (n, P) matrix of per-sample gradients
            long n = vg.value().getShape().get(0);
            try (NDArray fisher =
                    Scopes.call(
                            state.params().manager(),
                            () -> {
                                NDArray g = vg.grad().ravelBatched(n);
                                return DenseLaplaceState.symmetrize(g.transpose().matMul(g));
                            },
                            List::of)) {
                return new Step<>(state.add(fisher, "empirical Fisher"), vg.aux());
            }
        } catch (RuntimeException e) {
            vg.aux().close();
            throw e;
        } finally {
            vg.value().close();
            vg.grad().close();
        }
    }
}
