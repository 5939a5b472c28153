package io.posteriors.ekf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import io.posteriors.Checks;
import io.posteriors.DiagNormal;
import io.posteriors.ForwardFn;
import io.posteriors.LogProbFn;
import io.posteriors.OuterFn;
import io.posteriors.PerSample;
import io.posteriors.Schedule;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.internal.Scoped;
import java.util.List;
import java.util.function.Function;

/**
 * An extended Kalman filter with a diagonal Gaussian over the parameters, for online learning:
 * posteriors' {@code ekf.diag_fisher}.
 *
 * <p>The filter tracks {@code N(mu, diag(sigma^2))} over parameters that may drift between batches.
 * Each update takes two steps.
 *
 * <p><b>Predict.</b> The parameters follow a random walk with standard deviation {@code
 * transitionSd} per step, which inflates the variances: {@code sigma_p^2 = sigma^2 +
 * transitionSd^2}. Without it the variances only shrink and the filter eventually stops moving.
 *
 * <p><b>Update.</b> The log likelihood {@code l} of the batch, weighted by the learning rate {@code
 * lr} (the likelihood's inverse temperature), is replaced by its second-order expansion at the mean
 * {@code l(theta) ~ l(mu) + g^T (theta - mu) - (theta - mu)^T F (theta - mu) / 2}, with {@code g}
 * the gradient at {@code mu} and {@code F} a positive semi-definite curvature, of which this filter
 * keeps the diagonal {@code f}. Completing the square of {@code log N(theta | mu, sigma_p^2) + lr
 * l(theta)} gives the Gaussian
 *
 * <pre>
 * 1 / sigma'^2 = 1 / sigma_p^2 + lr f        (the precision grows with data)
 * mu'          = mu + lr sigma'^2 g          (a preconditioned gradient step)
 * </pre>
 *
 * computed as {@code sigma'^2 = sigma_p^2 / (1 + lr f sigma_p^2)}, elementwise. The curvature is
 *
 * <ul>
 *   <li>by default the empirical Fisher, posteriors' choice: {@code f = (1/n) sum_i g_i^2};
 *   <li>given a forward function and an outer log likelihood ({@link Builder#ggn}), the diagonal of
 *       the generalised Gauss-Newton matrix {@code J^T H J / n}, H the Hessian of the negative
 *       outer log likelihood (summed over the batch) in the outputs: the classical EKF
 *       linearisation of the model's outputs.
 * </ul>
 *
 * <p>Here {@code l} is the mean of the per-sample log likelihoods {@code l_i} of the n samples of
 * the batch, {@code g = (1/n) sum_i g_i} with {@code g_i} the gradient of {@code l_i}. With {@code
 * perSample(true)} the log likelihood returns the vector of {@code l_i}; with {@code
 * perSample(false)} (the default, as in posteriors) it returns a scalar for a batch and the filter
 * evaluates it on each sample as a batch of one ({@link io.posteriors.PerSample#perSamplify},
 * posteriors' {@code per_samplify}), so both settings give the same update.
 *
 * <p>{@code lr = n} weighs a batch of n samples as its summed log likelihood: one pass then gives
 * the (linearised, diagonal) Bayesian posterior under the prior {@code N(mu_0, initSds^2)}. As
 * {@code lr} grows (temperature {@code 1/lr} to 0) the update tends to the Gauss-Newton step {@code
 * mu' = mu + g / f} on the informed coordinates and the variances collapse: optimisation with a
 * diagonal preconditioner.
 *
 * <p>References: Y. Ollivier, "Online natural gradient as a Kalman filter", Electronic Journal of
 * Statistics, 2018 (arXiv:1703.00209), for the EKF as online natural gradient; S. Singhal and L.
 * Wu, "Training multilayer perceptrons with the extended Kalman algorithm", NeurIPS 1988.
 *
 * <pre>{@code
 * Transform<DiagEkfState, Batch> t =
 *         DiagEkf.builder(perSampleLogLik, 1.0).perSample(true).transitionSd(0.01).build();
 * DiagEkfState state = t.init(params);
 * for (Batch b : stream) {
 *     state = t.updateInPlace(state, b).state();
 * }
 * TensorTree draws = DiagEkf.sample(state, 100);
 * }</pre>
 *
 * @param <B> the batch type
 */
public final class DiagEkf<B> implements Transform<DiagEkfState, B> {

    private final LogProbFn<B> logLikelihood;
    private final Schedule lr;
    private final double transitionSd;
    private final double initSds;
    private final TensorTree initSdsTree;
    private final ForwardFn<B> forward;
    private final OuterFn<B> outerLogLikelihood;

    private DiagEkf(Builder<B> b) {
        this.logLikelihood = PerSample.perSampleForm(b.logLikelihood, b.perSample, b.batchSplitter);
        this.lr = b.lr;
        this.transitionSd = b.transitionSd;
        this.initSds = b.initSds;
        this.initSdsTree = b.initSdsTree;
        this.forward = b.forward;
        this.outerLogLikelihood = b.outerLogLikelihood;
    }

    /**
     * Starts a builder with a constant learning rate.
     *
     * @param logLikelihood the log likelihood of a batch: a scalar, or with {@link
     *     Builder#perSample(boolean)} a vector with one entry per sample
     * @param lr the learning rate, the likelihood's inverse temperature; positive
     * @param <B> the batch type
     * @return the builder
     * @throws NullPointerException when {@code logLikelihood} is null
     * @throws IllegalArgumentException when {@code lr} is not positive and finite
     */
    public static <B> Builder<B> builder(LogProbFn<B> logLikelihood, double lr) {
        Checks.positive(lr, "lr");
        return new Builder<>(logLikelihood, Schedule.constant(lr));
    }

    /**
     * Starts a builder with a learning-rate schedule, checked to be positive at every step.
     *
     * @param logLikelihood the log likelihood of a batch
     * @param lr the learning rate by step
     * @param <B> the batch type
     * @return the builder
     * @throws NullPointerException when an argument is null
     */
    public static <B> Builder<B> builder(LogProbFn<B> logLikelihood, Schedule lr) {
        return new Builder<>(logLikelihood, Checks.notNull(lr, "lr"));
    }

    /**
     * Options of {@link DiagEkf}, with posteriors' defaults.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> {
        private final LogProbFn<B> logLikelihood;
        private final Schedule lr;
        private double transitionSd = 0;
        private boolean perSample = false;
        private Function<B, List<B>> batchSplitter;
        private double initSds = 1;
        private TensorTree initSdsTree;
        private ForwardFn<B> forward;
        private OuterFn<B> outerLogLikelihood;

        private Builder(LogProbFn<B> logLikelihood, Schedule lr) {
            this.logLikelihood = Checks.notNull(logLikelihood, "logLikelihood");
            this.lr = lr;
        }

        /**
         * Sets the standard deviation of the random-walk transition noise added to every parameter
         * before each update (default 0: static parameters).
         *
         * @param transitionSd the standard deviation; non-negative
         * @return this builder
         * @throws IllegalArgumentException when it is negative, NaN or infinite
         */
        public Builder<B> transitionSd(double transitionSd) {
            this.transitionSd = Checks.nonNegative(transitionSd, "transitionSd");
            return this;
        }

        /**
         * Sets whether the log likelihood returns one value per sample (a vector); default false,
         * as in posteriors: it returns a scalar for a batch (e.g. the mean log likelihood) and the
         * filter evaluates it on each sample as a batch of one ({@link PerSample#perSamplify}),
         * which gives the same per-sample values at the cost of one call per sample. Either way the
         * filter's log likelihood is the mean of the per-sample values and the curvature is built
         * from the per-sample gradients. A {@link io.posteriors.ModelLogPosterior} is always used
         * in its per-sample form, whatever this says. To make a batch count as a single observation
         * (e.g. one vector observation with correlated noise), return its log likelihood as a
         * vector of length 1 with {@code perSample(true)}.
         *
         * @param perSample whether the log likelihood is per sample
         * @return this builder
         */
        public Builder<B> perSample(boolean perSample) {
            this.perSample = perSample;
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
         * Sets one initial standard deviation for every parameter (default 1).
         *
         * @param initSds the standard deviation; positive
         * @return this builder
         * @throws IllegalArgumentException when it is not positive and finite
         */
        public Builder<B> initSds(double initSds) {
            this.initSds = Checks.positive(initSds, "initSds");
            this.initSdsTree = null;
            return this;
        }

        /**
         * Sets the initial standard deviations leaf by leaf. The builder keeps its own copy; {@code
         * init} checks that the tree has the parameters' structure.
         *
         * @param initSds the standard deviations; every entry positive and finite
         * @return this builder
         * @throws IllegalArgumentException when an entry is not positive and finite
         */
        public Builder<B> initSds(TensorTree initSds) {
            Checks.notNull(initSds, "initSds");
            initSds.forEach(
                    (k, a) -> {
                        Checks.open(a, "initSds leaf '" + k + "'");
                        try (NDArray bad = a.lte(0).logicalOr(a.isNaN()).logicalOr(a.isInfinite());
                                NDArray any = bad.any()) {
                            if (any.getBoolean()) {
                                throw new IllegalArgumentException(
                                        Checks.format(
                                                "initSds must be positive and finite, got a"
                                                        + " non-positive or non-finite entry in"
                                                        + " leaf '%s'",
                                                k));
                            }
                        }
                    });
            this.initSdsTree = initSds.copy();
            return this;
        }

        /**
         * Uses the diagonal of the generalised Gauss-Newton matrix as the curvature instead of the
         * empirical Fisher. {@code outerLogLikelihood(forward(params, batch).output(), batch)} must
         * equal the log likelihood summed over the samples of the batch, {@code sum_i l_i},
         * whatever {@code perSample} says (the convention of {@code
         * ModelLogPosterior.outerLogLikelihood()} and of the Laplace GGN transforms). The filter
         * takes the Hessian of its negative divided by the number of samples n, to match the mean
         * {@code (1/n) sum_i l_i} it uses as the log likelihood; the log likelihood itself gives
         * the gradient.
         *
         * @param forward the model's forward function (batch-first outputs)
         * @param outerLogLikelihood the log likelihood as a function of the outputs (a scalar)
         * @return this builder
         * @throws NullPointerException when an argument is null
         */
        public Builder<B> ggn(ForwardFn<B> forward, OuterFn<B> outerLogLikelihood) {
            this.forward = Checks.notNull(forward, "forward");
            this.outerLogLikelihood = Checks.notNull(outerLogLikelihood, "outerLogLikelihood");
            return this;
        }

        /**
         * Builds the transform.
         *
         * @return the transform
         */
        public DiagEkf<B> build() {
            return new DiagEkf<>(this);
        }
    }

    /**
     * Builds the initial state: mean {@code params} (copied), standard deviations {@code initSds},
     * log likelihood NaN, step 0.
     *
     * @param params the initial mean
     * @return the state
     * @throws IllegalArgumentException when a tree of initial standard deviations has another
     *     structure than {@code params}
     * @throws IllegalStateException when {@code params} has been closed
     */
    @Override
    public DiagEkfState init(TensorTree params) {
        Checks.notNull(params, "params");
        params.forEach((k, a) -> Checks.open(a, "params leaf '" + k + "'"));
        if (initSdsTree != null) {
            params.requireSameStructure(initSdsTree, "initSds");
        }
        TensorTree mean = params.copy();
        TensorTree sd =
                initSdsTree == null
                        ? mean.fullLike(initSds)
                        : initSdsTree.zip(mean, EkfArrays::copyLike);
        NDArray nan = EkfArrays.nanLike(mean.anyLeaf());
        return new DiagEkfState(mean, sd, nan, 0);
    }

    /**
     * Computes the next state without touching {@code state}.
     *
     * @param state the current state
     * @param batch the batch
     * @return the new state (new arrays) and the aux of the log likelihood
     * @throws IllegalArgumentException when the learning rate at this step is not positive, or the
     *     log likelihood (or forward or outer function) returns a value of the wrong shape or a
     *     non-finite value; the message names the step
     */
    @Override
    public Step<DiagEkfState> update(DiagEkfState state, B batch) {
        Checks.notNull(state, "state");
        DiagEkfState copy =
                new DiagEkfState(
                        state.params().copy(),
                        state.sdDiag().copy(),
                        state.logLikelihood().duplicate(),
                        state.step());
        try {
            return updateInPlace(copy, batch);
        } catch (RuntimeException e) {
            copy.close();
            throw e;
        }
    }

    /**
     * Computes the next state by writing into the arrays of {@code state}. When it throws, the
     * state is unchanged.
     *
     * @param state the current state; its arrays are overwritten
     * @param batch the batch
     * @return a state sharing the arrays of {@code state}, with the step advanced, and the aux
     * @throws IllegalArgumentException as {@link #update}
     */
    @Override
    public Step<DiagEkfState> updateInPlace(DiagEkfState state, B batch) {
        Checks.notNull(state, "state");
        long step = state.step();
        double lrNow = Checks.positiveAt(lr, step, "lr");
        TensorTree params = state.params();
        params.forEach((k, a) -> Checks.open(a, "params leaf '" + k + "'"));
        NDList aux =
                Scoped.call(
                        params.manager(),
                        () -> {
                            EkfCurvature.Diagonal lin =
                                    EkfCurvature.computeDiagonal(
                                            logLikelihood,
                                            forward,
                                            outerLogLikelihood,
                                            params,
                                            batch,
                                            step);
                            NDArray f = lin.curvature();
                            NDArray mean = params.ravel();
                            NDArray varPredict =
                                    state.sdDiag()
                                            .ravel()
                                            .square()
                                            .add(transitionSd * transitionSd);
                            NDArray var = varPredict.div(f.mul(varPredict).mul(lrNow).add(1));
                            NDArray newMean = mean.add(var.mul(lin.grad()).mul(lrNow));
                            // everything is computed: only now write into the state
                            params.setFrom(params.unravel(newMean));
                            state.sdDiag().setFrom(state.sdDiag().unravel(var.sqrt()));
                            state.logLikelihood()
                                    .set(
                                            new NDIndex("..."),
                                            lin.value()
                                                    .toType(
                                                            state.logLikelihood().getDataType(),
                                                            false));
                            return lin.aux();
                        },
                        a -> a);
        DiagEkfState next =
                new DiagEkfState(params, state.sdDiag(), state.logLikelihood(), step + 1);
        return new Step<>(next, aux);
    }

    /**
     * Draws one sample from the state's Normal, {@code mean + sd * z}, from the engine's generator.
     *
     * @param state the state
     * @return a new tree with the parameters' structure
     */
    public static TensorTree sample(DiagEkfState state) {
        Checks.notNull(state, "state");
        return DiagNormal.sample(state.params(), state.sdDiag());
    }

    /**
     * Draws {@code n} samples from the state's Normal, stacked along a new leading dimension.
     *
     * @param state the state
     * @param n the number of samples; at least 1
     * @return a tree whose leaves have shape {@code (n, *leaf shape)}
     * @throws IllegalArgumentException when {@code n < 1}
     */
    public static TensorTree sample(DiagEkfState state, int n) {
        Checks.notNull(state, "state");
        return DiagNormal.sample(state.params(), state.sdDiag(), n);
    }
}
