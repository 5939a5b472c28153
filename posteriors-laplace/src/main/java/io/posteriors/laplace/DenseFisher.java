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
import io.posteriors.internal.Scoped;
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
 * <p>Temperature: {@link #sample(DenseLaplaceState, int, double)} draws from {@code N(θ*, T
 * prec^-1)}; T = 1 is the Laplace posterior and T = 0 returns θ* exactly.
 *
 * @param <B> the batch type
 */
public final class DenseFisher<B> implements Transform<DenseLaplaceState, B> {

    private final double initPrec;
    private final NDArray initPrecMatrix;
    private final LogProbFn<B> perSampleLogPosterior;

    private DenseFisher(Builder<B> b) {
        this.initPrec = b.initPrec;
        this.initPrecMatrix = b.initPrecMatrix;
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
     * Options of {@link DenseFisher}.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> {
        private final LogProbFn<B> logPosterior;
        private boolean perSample;
        private double initPrec;
        private NDArray initPrecMatrix;
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
         * Sets the initial precision to {@code initPrec} times the identity (default 0).
         *
         * @param initPrec the prior precision; finite and non-negative
         * @return this builder
         * @throws IllegalArgumentException when the value is negative, NaN or infinite
         */
        public Builder<B> initPrec(double initPrec) {
            this.initPrec = Checks.nonNegative(initPrec, "initPrec");
            this.initPrecMatrix = null;
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
            this.initPrecMatrix = DenseLaplace.checkInitMatrix(initPrec);
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
        public DenseFisher<B> build() {
            return new DenseFisher<>(this);
        }
    }

    /**
     * Returns the state at step 0: a copy of {@code params} as the mean and the initial precision.
     *
     * @param params the parameters to build the approximation around (usually the MAP)
     * @return the state
     * @throws IllegalArgumentException when an initial precision matrix is not (P, P) for the P
     *     elements of {@code params}
     */
    @Override
    public DenseLaplaceState init(TensorTree params) {
        return DenseLaplace.init(params, initPrec, initPrecMatrix);
    }

    /**
     * Returns a new state whose precision has this batch's empirical Fisher added; the input state
     * is untouched.
     *
     * @param state the current state
     * @param batch the batch
     * @return the new state and the aux of the log posterior
     */
    @Override
    public Step<DenseLaplaceState> update(DenseLaplaceState state, B batch) {
        DenseLaplaceState copy = DenseLaplace.copy(state);
        try {
            return updateInPlace(copy, batch);
        } catch (RuntimeException e) {
            copy.close();
            throw e;
        }
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
        Checks.notNull(state, "state");
        Autodiff.ValueAndGrad vg =
                Autodiff.perSampleValueAndGrad(perSampleLogPosterior, state.params(), batch);
        NDList aux = vg.aux();
        try {
            long n = vg.value().getShape().get(0);
            NDArray fisher =
                    Scoped.call(
                            state.params().manager(),
                            () -> {
                                NDArray g = vg.grad().ravelBatched(n);
                                return DenseLaplace.symmetrize(g.transpose().matMul(g));
                            },
                            List::of);
            try {
                return new Step<>(DenseLaplace.accumulate(state, fisher, "empirical Fisher"), aux);
            } finally {
                fisher.close();
            }
        } catch (RuntimeException e) {
            aux.close();
            throw e;
        } finally {
            vg.value().close();
            vg.grad().close();
        }
    }

    /**
     * Draws one sample from the Laplace posterior {@code N(params, prec^-1)}.
     *
     * @param state the state
     * @return a tree with the parameters' structure, on their manager
     * @throws IllegalArgumentException when the precision is not positive definite
     */
    public static TensorTree sample(DenseLaplaceState state) {
        return DenseLaplace.sample(state);
    }

    /**
     * Draws {@code n} samples from the Laplace posterior {@code N(params, prec^-1)}.
     *
     * @param state the state
     * @param n the number of samples; at least 1
     * @return a tree whose leaves have shape {@code (n, *leaf shape)}
     * @throws IllegalArgumentException when {@code n < 1} or the precision is not positive definite
     */
    public static TensorTree sample(DenseLaplaceState state, int n) {
        return DenseLaplace.sample(state, n, 1.0);
    }

    /**
     * Draws {@code n} samples from {@code N(params, T prec^-1)} as {@code params + sqrt(T) z} with
     * {@code L^T z = ε}, {@code prec = L L^T} (Cholesky) and ε standard Normal, so the precision is
     * never inverted: temperature 1 is the Laplace posterior, temperature 0 returns {@code n} exact
     * copies of the mean.
     *
     * @param state the state
     * @param n the number of samples; at least 1
     * @param temperature T, scaling the covariance; finite and non-negative
     * @return a tree whose leaves have shape {@code (n, *leaf shape)}
     * @throws IllegalArgumentException when {@code n < 1}, T is negative or not finite, or T &gt; 0
     *     and the precision is not positive definite
     */
    public static TensorTree sample(DenseLaplaceState state, int n, double temperature) {
        return DenseLaplace.sample(state, n, temperature);
    }

    /**
     * Returns the normalised log density of the Laplace posterior {@code N(params, prec^-1)}.
     *
     * @param state the state
     * @param x one point (the parameters' structure) or m points (every leaf with a leading
     *     dimension m)
     * @return a scalar for one point, a vector of m values otherwise; differentiable in {@code x}
     * @throws IllegalArgumentException when {@code x} has neither structure or the precision is not
     *     positive definite
     */
    public static NDArray logProb(DenseLaplaceState state, TensorTree x) {
        return DenseLaplace.logProb(state, x, 1.0);
    }

    /**
     * Returns the normalised log density of {@code N(params, T prec^-1)}: {@code -(x - μ)^T prec (x
     * - μ) / (2T) + log det(prec) / 2 - P log(2πT) / 2}.
     *
     * @param state the state
     * @param x one point or m points (leading dimension m)
     * @param temperature T; finite and positive
     * @return a scalar for one point, a vector of m values otherwise; differentiable in {@code x}
     * @throws IllegalArgumentException when T is not positive, {@code x} has neither structure or
     *     the precision is not positive definite
     */
    public static NDArray logProb(DenseLaplaceState state, TensorTree x, double temperature) {
        return DenseLaplace.logProb(state, x, temperature);
    }
}
