package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.posteriors.Autodiff;
import io.posteriors.Checks;
import io.posteriors.LogProbFn;
import io.posteriors.PerSample;
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
 * <p>Temperature: {@link #sample(DiagLaplaceState, int, double)} draws from {@code N(θ*, T /
 * precDiag)}; T = 1 is the Laplace posterior and T = 0 returns θ* exactly (the optimisation limit).
 *
 * <pre>{@code
 * Transform<DiagLaplaceState, Batch> t =
 *         DiagFisher.builder(perSampleLogLik).perSample(true).initPrecDiag(1.0).build();
 * DiagLaplaceState state = t.init(map);
 * for (Batch b : batches) {
 *     state = t.updateInPlace(state, b).state();
 * }
 * TensorTree samples = DiagFisher.sample(state, 30);   // leaves of shape (30, ...)
 * }</pre>
 *
 * @param <B> the batch type
 */
public final class DiagFisher<B> implements Transform<DiagLaplaceState, B> {

    private final double initPrecDiag;
    private final TensorTree initPrecDiagTree;
    private final LogProbFn<B> perSampleLogPosterior;

    private DiagFisher(Builder<B> b) {
        this.initPrecDiag = b.initPrecDiag;
        this.initPrecDiagTree = b.initPrecDiagTree;
        this.perSampleLogPosterior =
                PerSample.perSampleForm(b.logPosterior, b.perSample, b.batchSplitter);
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
     * Options of {@link DiagFisher}.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> {
        private final LogProbFn<B> logPosterior;
        private boolean perSample;
        private double initPrecDiag;
        private TensorTree initPrecDiagTree;
        private Function<B, List<B>> batchSplitter;

        private Builder(LogProbFn<B> logPosterior) {
            this.logPosterior = Checks.notNull(logPosterior, "logPosterior");
        }

        /**
         * Sets whether the log posterior returns one value per sample (a vector); default false,
         * when it returns a scalar for a batch and is evaluated on each sample separately. Ignored
         * for a {@link io.posteriors.ModelLogPosterior}, which is always used per sample.
         *
         * @param perSample whether the function is per sample
         * @return this builder
         */
        public Builder<B> perSample(boolean perSample) {
            this.perSample = perSample;
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
         * Sets how a batch is split into one-sample batches when {@code perSample} is false. By
         * default a batch that is an NDArray, NDList, TensorTree, List or record of these is split
         * along dimension 0 of every array it holds ({@link PerSample#split}).
         *
         * @param batchSplitter returns the one-sample batches of a batch, in order
         * @return this builder
         * @throws NullPointerException when the splitter is null
         */
        public Builder<B> batchSplitter(Function<B, List<B>> batchSplitter) {
            this.batchSplitter = Checks.notNull(batchSplitter, "batchSplitter");
            return this;
        }

        /**
         * Builds the transform.
         *
         * @return the transform
         */
        public DiagFisher<B> build() {
            return new DiagFisher<>(this);
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
     * Returns a new state whose precision has this batch's squared per-sample gradients added; the
     * input state is untouched.
     *
     * @param state the current state
     * @param batch the batch
     * @return the new state and the aux of the log posterior
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
        Checks.notNull(state, "state");
        // Σ_i g_i² in one call: per-sample gradients by the generic path, or by per-layer outer
        // products without forming them when the log posterior is a ModelLogPosterior of Linears.
        Autodiff.GradMoments gm =
                Autodiff.perSampleGradMoments(perSampleLogPosterior, state.params(), batch);
        NDList aux = gm.aux();
        try {
            return new Step<>(
                    DiagLaplace.accumulate(state, gm.sumOfSquares(), "diagonal empirical Fisher"),
                    aux);
        } catch (RuntimeException e) {
            aux.close();
            throw e;
        } finally {
            gm.values().close();
            gm.sum().close();
            gm.sumOfSquares().close();
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
