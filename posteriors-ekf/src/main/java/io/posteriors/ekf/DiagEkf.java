package io.posteriors.ekf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Checks;
import io.posteriors.ForwardFn;
import io.posteriors.InitialValue;
import io.posteriors.LogProbFn;
import io.posteriors.OuterFn;
import io.posteriors.PerSampleBuilder;
import io.posteriors.Schedule;
import io.posteriors.Step;
import io.posteriors.TemperedBuilder;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
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
 * TensorTree draws = state.sample(100);
 * }</pre>
 *
 * @param logLikelihood the log likelihood of a batch: a scalar, or with {@code perSample} a vector
 *     with one entry per sample
 * @param lr the learning rate by step, the likelihood's inverse temperature; positive at every step
 * @param initSds the initial standard deviations: a number for every parameter (default 1) or a
 *     tree shaped like the parameters, read by {@code init}; every entry positive and finite
 * @param transitionSd the standard deviation of the random-walk transition noise added to every
 *     parameter before each update; non-negative (default 0: static parameters)
 * @param forward the model's forward function for the GGN curvature, or null for the empirical
 *     Fisher (default)
 * @param outerLogLikelihood the log likelihood as a function of the outputs for the GGN, summed
 *     over the batch; null exactly when {@code forward} is
 * @param perSample whether the log likelihood returns one value per sample (default false: it
 *     returns a scalar for a batch and is evaluated on each one-sample batch; see above)
 * @param batchSplitter splits a batch into one-sample batches when {@code perSample} is false
 *     (default {@link io.posteriors.PerSample#split})
 * @param <B> the batch type
 */
public record DiagEkf<B>(
        LogProbFn<B> logLikelihood,
        Schedule lr,
        InitialValue initSds,
        double transitionSd,
        ForwardFn<B> forward,
        OuterFn<B> outerLogLikelihood,
        boolean perSample,
        Function<B, List<B>> batchSplitter)
        implements Transform<DiagEkfState, B>, EkfCurvature.Options<B> {

    /**
     * Checks the options.
     *
     * @throws NullPointerException when {@code logLikelihood}, {@code lr}, {@code initSds} or
     *     {@code batchSplitter} is null
     * @throws IllegalArgumentException when {@code lr} is not positive and finite at step 0, an
     *     initial standard deviation is not positive and finite (or {@code initSds} is a matrix),
     *     {@code transitionSd} is negative or not finite, or only one of {@code forward} and {@code
     *     outerLogLikelihood} is given
     */
    public DiagEkf {
        EkfCurvature.checkOptions(logLikelihood, lr, forward, outerLogLikelihood, batchSplitter);
        EkfCurvature.requirePositive(initSds, "initSds");
        Checks.nonNegative(transitionSd, "transitionSd");
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
        return new Builder<>(logLikelihood, Schedule.constant(Checks.positive(lr, "lr")));
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
     * Options of {@link DiagEkf}, with posteriors' defaults; {@code perSample} and {@code
     * batchSplitter} come from {@link PerSampleBuilder}, {@code ggn} from a base shared with the
     * other filter.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> extends EkfBuilder<B, Builder<B>> {
        private InitialValue initSds = InitialValue.of(1.0, "initSds");
        private double transitionSd;

        private Builder(LogProbFn<B> logLikelihood, Schedule lr) {
            super(logLikelihood, lr);
        }

        @Override
        protected Builder<B> self() {
            return this;
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
         * Sets one initial standard deviation for every parameter (default 1).
         *
         * @param initSds the standard deviation; positive
         * @return this builder
         * @throws IllegalArgumentException when it is not positive and finite
         */
        public Builder<B> initSds(double initSds) {
            this.initSds =
                    EkfCurvature.requirePositive(InitialValue.of(initSds, "initSds"), "initSds");
            return this;
        }

        /**
         * Sets the initial standard deviations leaf by leaf. The tree is read by {@code init}, so
         * it must stay open until then; {@code init} checks that it has the parameters' structure.
         *
         * @param initSds the standard deviations; every entry positive and finite
         * @return this builder
         * @throws NullPointerException when it is null
         * @throws IllegalArgumentException naming the leaf when an entry is not positive and finite
         */
        public Builder<B> initSds(TensorTree initSds) {
            this.initSds =
                    EkfCurvature.requirePositive(InitialValue.of(initSds, "initSds"), "initSds");
            return this;
        }

        /**
         * Builds the transform.
         *
         * @return the transform
         */
        public DiagEkf<B> build() {
            return new DiagEkf<>(
                    logLikelihood,
                    lr,
                    initSds,
                    transitionSd,
                    forward,
                    outerLogLikelihood,
                    perSample(),
                    batchSplitter());
        }
    }

    /**
     * Builds the initial state: mean {@code params} (copied), standard deviations {@code initSds},
     * log likelihood NaN, step 0.
     *
     * @param params the initial mean
     * @return the state
     * @throws IllegalArgumentException when {@code params} has a non-finite entry (naming the leaf)
     *     or a tree of initial standard deviations has another structure than {@code params}
     * @throws IllegalStateException when {@code params} or the tree of initial standard deviations
     *     has been closed
     */
    @Override
    public DiagEkfState init(TensorTree params) {
        Checks.openTree(params, "params");
        Checks.finite(params, "params", 0);
        TensorTree sd = initSds.tree(params, "initSds");
        TensorTree mean = params.copy();
        NDArray nan = mean.manager().full(new Shape(), Float.NaN, mean.dataType(), mean.device());
        return new DiagEkfState(mean, sd, nan, 0);
    }

    /**
     * Computes the next state by writing into the arrays of {@code state}. When it throws, the
     * state is unchanged.
     *
     * @param state the current state; its arrays are overwritten
     * @param batch the batch
     * @return a state sharing the arrays of {@code state}, with the step advanced, and the aux
     * @throws IllegalArgumentException when the learning rate at this step is not positive, the log
     *     likelihood (or forward or outer function) returns a value of the wrong shape, or the
     *     value, gradient or curvature is not finite; the message names the step
     * @throws IllegalStateException when an array of the state has been closed
     */
    @Override
    public Step<DiagEkfState> updateInPlace(DiagEkfState state, B batch) {
        Checks.open(state);
        long step = state.step();
        double lrNow = TemperedBuilder.lrAt(lr, step);
        TensorTree params = state.params();
        TensorTree sdDiag = state.sdDiag();
        NDArray logLik = state.logLikelihood();
        if (forward == null) {
            NDList aux =
                    EkfCurvature.updateDiagonalFisher(
                            this, params, sdDiag, logLik, batch, step, lrNow, transitionSd);
            return new Step<>(new DiagEkfState(params, sdDiag, logLik, step + 1), aux);
        }
        NDList aux =
                EkfCurvature.update(
                        this,
                        params,
                        logLik,
                        batch,
                        step,
                        lin -> {
                            // predict: sigma_p^2 = sigma^2 + transitionSd^2
                            NDArray varPredict =
                                    sdDiag.ravel().square().add(transitionSd * transitionSd);
                            // update: 1 / sigma'^2 = 1 / sigma_p^2 + lr f
                            NDArray var =
                                    varPredict.div(
                                            lin.diagonal().mul(varPredict).mul(lrNow).add(1));
                            // mu' = mu + lr sigma'^2 g
                            NDArray mean = params.ravel().add(var.mul(lin.grad()).mul(lrNow));
                            // everything is computed: only now write into the state
                            params.setFrom(params.unravel(mean));
                            sdDiag.setFrom(sdDiag.unravel(var.sqrt()));
                        });
        return new Step<>(new DiagEkfState(params, sdDiag, logLik, step + 1), aux);
    }
}
