package io.posteriors.vi;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Autodiff;
import io.posteriors.Checks;
import io.posteriors.DiagNormal;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.Schedule;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.internal.Scoped;
import io.posteriors.optim.GradientOptimizer;
import io.posteriors.optim.OptimState;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Mean-field Gaussian variational inference: fits {@code q(theta) = N(mu, diag(sigma^2))} to the
 * tempered posterior {@code p_T(theta) ∝ exp(log p(theta) / T)} by stochastic gradient descent on
 * the negative evidence lower bound (NELBO); posteriors' {@code vi.diag.build}.
 *
 * <p>With {@code sigma = exp(logSdDiag)}, noise {@code eps_s ~ N(0, I)} and the reparameterised
 * samples {@code theta_s = mu + sigma * eps_s} (Kingma and Welling, "Auto-Encoding Variational
 * Bayes", 2014), each update estimates
 *
 * <pre>
 * NELBO(mu, logSd) = -(1/n) sum_{s=1..n} [ log p(theta_s) - T log q(theta_s) ]
 * </pre>
 *
 * with {@code n = nSamples}, differentiates it with respect to {@code (mu, logSd)} by autograd and
 * hands the gradient to the optimiser, which takes one descent step on both. Minimising the NELBO
 * is minimising {@code KL(q || p_T)} up to a constant that does not depend on q (Blei, Kucukelbir
 * and McAuliffe, "Variational Inference: A Review for Statisticians", 2017; for neural networks
 * Blundell et al., "Weight Uncertainty in Neural Networks", 2015).
 *
 * <p>With {@code stl} on (the default), {@code log q(theta_s)} is evaluated with the variational
 * parameters detached, so gradients reach it only through the sample {@code theta_s}: the "sticking
 * the landing" estimator of Roeder, Wu and Duvenaud ("Sticking the Landing: Simple, Lower-Variance
 * Gradient Estimators for Variational Inference", 2017), whose variance vanishes when q equals the
 * target. The estimate of the NELBO itself is the same either way.
 *
 * <p>Temperature: T = 1 targets the Bayesian posterior; with the log posterior averaged over a
 * batch, set T = 1/N (N the data set size). At T = 0 the entropy term vanishes, the NELBO is the
 * expected negative log posterior, so the mean goes to the MAP and the standard deviations shrink
 * towards zero: VI collapses to optimisation.
 *
 * <pre>{@code
 * Transform<DiagViState, Batch> t =
 *         DiagVi.builder(logPost, Adam.of(1e-2)).temperature(1.0 / n).build();
 * DiagViState state = t.init(params);
 * for (Batch b : batches) {
 *     Step<DiagViState> step = t.updateInPlace(state, b);
 *     step.aux().close();
 *     state = step.state();
 * }
 * TensorTree draw = DiagVi.sample(state);   // theta ~ q
 * }</pre>
 *
 * <p>The optimiser is one of the library's functional {@link GradientOptimizer}s (for example
 * {@link io.posteriors.optim.Adam}), whose state is explicit and lives in {@link DiagViState}, so a
 * pure {@link #update} copies it and is really pure. A DJL {@code Optimizer} keeps hidden mutable
 * state and is not accepted for that reason.
 *
 * @param <B> the batch type
 */
public final class DiagVi<B> implements Transform<DiagViState, B> {

    /** Prefix of the log standard deviation leaves in the tree of variational parameters. */
    static final String LOG_SD = "logSd/";

    private final LogProbFn<B> logPosterior;
    private final GradientOptimizer optimizer;
    private final Schedule temperature;
    private final int nSamples;
    private final boolean stl;
    private final double initLogSds;
    private final TensorTree initLogSdsTree;

    private DiagVi(Builder<B> b) {
        this.logPosterior = b.logPosterior;
        this.optimizer = b.optimizer;
        this.temperature = b.temperature;
        this.nSamples = b.nSamples;
        this.stl = b.stl;
        this.initLogSds = b.initLogSds;
        this.initLogSdsTree = b.initLogSdsTree;
    }

    /**
     * Starts a builder with posteriors' defaults: temperature 1, one sample, STL on, initial log
     * standard deviations 0.
     *
     * @param logPosterior the log posterior, a scalar per batch (it may be unnormalised)
     * @param optimizer the optimiser of the variational parameters, for example {@code
     *     Adam.of(1e-2)}; it minimises the NELBO
     * @param <B> the batch type
     * @return the builder
     * @throws NullPointerException when an argument is null
     */
    public static <B> Builder<B> builder(LogProbFn<B> logPosterior, GradientOptimizer optimizer) {
        return new Builder<>(logPosterior, optimizer);
    }

    /**
     * Options of {@link DiagVi}, each validated when set.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> {
        private final LogProbFn<B> logPosterior;
        private final GradientOptimizer optimizer;
        private Schedule temperature = Schedule.constant(1.0);
        private int nSamples = 1;
        private boolean stl = true;
        private double initLogSds = 0.0;
        private TensorTree initLogSdsTree;

        private Builder(LogProbFn<B> logPosterior, GradientOptimizer optimizer) {
            this.logPosterior = Checks.notNull(logPosterior, "logPosterior");
            this.optimizer = Checks.notNull(optimizer, "optimizer");
        }

        /**
         * Sets a constant temperature (default 1).
         *
         * @param temperature T; finite and non-negative
         * @return this builder
         * @throws IllegalArgumentException when {@code temperature} is negative, NaN or infinite
         */
        public Builder<B> temperature(double temperature) {
            Checks.nonNegative(temperature, "temperature");
            this.temperature = Schedule.constant(temperature);
            return this;
        }

        /**
         * Sets a temperature schedule, evaluated at each update's step count.
         *
         * @param temperature the schedule; non-negative and finite at every step (checked at each
         *     update, before the state is touched)
         * @return this builder
         * @throws NullPointerException when {@code temperature} is null
         */
        public Builder<B> temperature(Schedule temperature) {
            this.temperature = Checks.notNull(temperature, "temperature");
            return this;
        }

        /**
         * Sets the number of Monte Carlo samples per NELBO estimate (default 1).
         *
         * @param nSamples at least 1
         * @return this builder
         * @throws IllegalArgumentException when {@code nSamples < 1}
         */
        public Builder<B> nSamples(int nSamples) {
            this.nSamples = Checks.atLeast(nSamples, 1, "nSamples");
            return this;
        }

        /**
         * Sets whether to use the sticking-the-landing gradient estimator (default true).
         *
         * @param stl true to detach the variational parameters inside {@code log q}
         * @return this builder
         */
        public Builder<B> stl(boolean stl) {
            this.stl = stl;
            return this;
        }

        /**
         * Sets one initial log standard deviation for every parameter (default 0, that is sd 1).
         *
         * @param initLogSds the value; finite
         * @return this builder
         * @throws IllegalArgumentException when {@code initLogSds} is NaN or infinite
         */
        public Builder<B> initLogSds(double initLogSds) {
            this.initLogSds = Checks.finite(initLogSds, "initLogSds");
            this.initLogSdsTree = null;
            return this;
        }

        /**
         * Sets initial log standard deviations per element. The tree is read (copied) by {@code
         * init}, which checks that it has the parameters' structure and finite entries; keep its
         * arrays open until then.
         *
         * @param initLogSds a tree with the structure of the parameters
         * @return this builder
         * @throws NullPointerException when {@code initLogSds} is null
         */
        public Builder<B> initLogSds(TensorTree initLogSds) {
            this.initLogSdsTree = Checks.notNull(initLogSds, "initLogSds");
            return this;
        }

        /**
         * Builds the transform.
         *
         * @return the transform
         * @throws IllegalArgumentException when the temperature schedule is negative or not finite
         *     at step 0
         */
        public DiagVi<B> build() {
            Checks.nonNegativeAt(temperature, 0, "temperature");
            return new DiagVi<>(this);
        }
    }

    /**
     * Builds the initial state: q centred at a copy of {@code params}, with the configured log
     * standard deviations, the optimiser's initial state and a NaN NELBO.
     *
     * @param params the initial mean
     * @return the state at step 0
     * @throws NullPointerException when {@code params} is null
     * @throws IllegalArgumentException when the {@code initLogSds} tree has another structure than
     *     {@code params} (the message names the leaf and both shapes) or a non-finite entry
     */
    @Override
    public DiagViState init(TensorTree params) {
        Checks.notNull(params, "params");
        if (initLogSdsTree != null) {
            params.requireSameStructure(initLogSdsTree, "initLogSds");
            initLogSdsTree.forEach(
                    (k, a) -> ViSupport.requireFinite(a, "initLogSds leaf '" + k + "'"));
        }
        TensorTree mean = params.copy();
        TensorTree logSd;
        if (initLogSdsTree == null) {
            logSd = params.fullLike(initLogSds);
        } else {
            logSd =
                    Scoped.call(
                            params.manager(),
                            () ->
                                    initLogSdsTree.zip(
                                            params,
                                            (l, p) ->
                                                    l.toDevice(p.getDevice(), true)
                                                            .toType(p.getDataType(), false)),
                            TensorTree::leaves);
        }
        OptimState opt = optimizer.init(variational(mean, logSd));
        NDArray nelbo = params.manager().full(new Shape(), Float.NaN, params.dataType());
        return new DiagViState(mean, logSd, opt, nelbo, 0);
    }

    /**
     * Computes the next state without touching {@code state}: copies it (optimiser state included)
     * and updates the copy in place.
     *
     * @param state the current state
     * @param batch the batch passed to the log posterior
     * @return the new state and the aux of the log posterior (for {@code nSamples > 1}, each aux
     *     array stacked over the samples along a new leading dimension)
     * @throws IllegalArgumentException when the temperature is negative at this step, or the log
     *     posterior returns a non-scalar or the NELBO is not finite
     */
    @Override
    public Step<DiagViState> update(DiagViState state, B batch) {
        Checks.notNull(state, "state");
        Checks.nonNegativeAt(temperature, state.step(), "temperature");
        DiagViState copy =
                new DiagViState(
                        state.params().copy(),
                        state.logSdDiag().copy(),
                        state.optimState().copy(),
                        state.nelbo().duplicate(),
                        state.step());
        try {
            return updateInPlace(copy, batch);
        } catch (RuntimeException e) {
            copy.close();
            throw e;
        }
    }

    /**
     * Computes the next state by writing into the arrays of {@code state}: draws the noise, takes
     * the NELBO's gradient with respect to mean and log standard deviations, and applies one
     * optimiser step. On an exception the state is unchanged.
     *
     * @param state the current state; its arrays are overwritten
     * @param batch the batch passed to the log posterior
     * @return a state sharing the arrays of {@code state} with the step advanced, and the aux
     * @throws IllegalArgumentException when the temperature is negative at this step, or the log
     *     posterior returns a non-scalar or the NELBO is not finite
     */
    @Override
    public Step<DiagViState> updateInPlace(DiagViState state, B batch) {
        Checks.notNull(state, "state");
        double t = Checks.nonNegativeAt(temperature, state.step(), "temperature");
        TensorTree vars = variational(state.params(), state.logSdDiag());
        OptimState[] next = new OptimState[1];
        NDList aux =
                Scoped.call(
                        state.params().manager(),
                        () -> {
                            TensorTree eps = ViSupport.noise(state.params(), nSamples);
                            Autodiff.ValueAndGrad vg =
                                    Autodiff.valueAndGrad(
                                            (v, b) -> {
                                                TensorTree m =
                                                        ViSupport.unprefixed(ViSupport.MEAN, v);
                                                TensorTree ls = ViSupport.unprefixed(LOG_SD, v);
                                                return elbo(
                                                        logPosterior,
                                                        b,
                                                        m,
                                                        ls.map(NDArray::exp),
                                                        ls,
                                                        eps,
                                                        t,
                                                        stl);
                                            },
                                            vars,
                                            batch);
                            vg.grad().forEach((k, g) -> g.negi());
                            next[0] = optimizer.stepInPlace(vars, vg.grad(), state.optimState());
                            state.nelbo().set(new NDIndex("..."), vg.value().neg());
                            return vg.aux();
                        },
                        a -> a);
        DiagViState s =
                new DiagViState(
                        state.params(),
                        state.logSdDiag(),
                        next[0],
                        state.nelbo(),
                        state.step() + 1);
        return new Step<>(s, aux);
    }

    /**
     * Estimates the NELBO of the state's q with this transform's temperature (at the state's step)
     * and number of samples.
     *
     * @param state the state
     * @param batch the batch passed to the log posterior
     * @return a new scalar array on the parameters' manager
     */
    public NDArray nelbo(DiagViState state, B batch) {
        Checks.notNull(state, "state");
        double t = Checks.nonNegativeAt(temperature, state.step(), "temperature");
        try (TensorTree sd = state.sdDiag()) {
            return nelbo(logPosterior, state.params(), sd, batch, t, nSamples);
        }
    }

    /**
     * Estimates {@code NELBO = -(1/n) sum_s [log p(theta_s) - T log N(theta_s | mean, sdDiag^2)]}
     * with {@code n} reparameterised samples {@code theta_s = mean + sdDiag * eps_s} from the
     * engine generator: posteriors' {@code vi.diag.nelbo}. With a normalised log posterior it is
     * {@code KL(q || p)} plus Monte Carlo noise, so it is zero exactly when q is the target (and T
     * = 1). The aux of the model calls is discarded.
     *
     * @param logPosterior the log posterior (scalar per batch)
     * @param mean the mean of q
     * @param sdDiag the standard deviations of q, same structure, positive
     * @param batch the batch passed to the log posterior
     * @param temperature T; non-negative
     * @param nSamples the number of Monte Carlo samples; at least 1
     * @param <B> the batch type
     * @return a new scalar array on the mean's manager
     * @throws IllegalArgumentException when the structures differ, {@code temperature < 0} or
     *     {@code nSamples < 1}
     */
    public static <B> NDArray nelbo(
            LogProbFn<B> logPosterior,
            TensorTree mean,
            TensorTree sdDiag,
            B batch,
            double temperature,
            int nSamples) {
        Checks.notNull(logPosterior, "logPosterior");
        Checks.notNull(mean, "mean");
        mean.requireSameStructure(sdDiag, "sdDiag");
        Checks.nonNegative(temperature, "temperature");
        Checks.atLeast(nSamples, 1, "nSamples");
        return Scoped.call(
                mean.manager(),
                () -> {
                    TensorTree eps = ViSupport.noise(mean, nSamples);
                    LogProb lp =
                            elbo(
                                    logPosterior,
                                    batch,
                                    mean,
                                    sdDiag,
                                    sdDiag.map(NDArray::log),
                                    eps,
                                    temperature,
                                    false);
                    return lp.value().neg();
                },
                List::of);
    }

    /**
     * Draws one sample from the state's q: posteriors' {@code vi.diag.sample}.
     *
     * @param state the state
     * @return a new tree with the parameters' structure
     */
    public static TensorTree sample(DiagViState state) {
        Checks.notNull(state, "state");
        try (TensorTree sd = state.sdDiag()) {
            return DiagNormal.sample(state.params(), sd);
        }
    }

    /**
     * Draws {@code n} samples from the state's q, stacked along a new leading dimension.
     *
     * @param state the state
     * @param n the number of samples; at least 1
     * @return a new tree whose leaves have shape {@code (n, *leaf shape)}
     * @throws IllegalArgumentException when {@code n < 1}
     */
    public static TensorTree sample(DiagViState state, int n) {
        Checks.notNull(state, "state");
        Checks.atLeast(n, 1, "n");
        try (TensorTree sd = state.sdDiag()) {
            return DiagNormal.sample(state.params(), sd, n);
        }
    }

    /** The tree of variational parameters: {@code mean/NAME} leaves then {@code logSd/NAME}. */
    private static TensorTree variational(TensorTree mean, TensorTree logSd) {
        return ViSupport.concat(
                ViSupport.prefixed(ViSupport.MEAN, mean), ViSupport.prefixed(LOG_SD, logSd));
    }

    /**
     * The Monte Carlo ELBO of {@code N(mean, sd^2)}; with {@code stl} the parameters inside log q
     * are detached, so only the path through the samples carries gradient.
     */
    private static <B> LogProb elbo(
            LogProbFn<B> logPosterior,
            B batch,
            TensorTree mean,
            TensorTree sd,
            TensorTree logSd,
            TensorTree eps,
            double temperature,
            boolean stl) {
        int n = (int) eps.anyLeaf().getShape().get(0);
        return ViSupport.elbo(
                logPosterior,
                batch,
                n,
                s -> {
                    Map<String, NDArray> theta = new LinkedHashMap<>();
                    for (String k : mean.names()) {
                        theta.put(k, mean.get(k).add(sd.get(k).mul(eps.get(k).get(s))));
                    }
                    return TensorTree.of(theta);
                },
                thetas -> {
                    TensorTree m = stl ? mean.map(NDArray::stopGradient) : mean;
                    TensorTree sdq = stl ? sd.map(NDArray::stopGradient) : sd;
                    TensorTree lsq = stl ? logSd.map(NDArray::stopGradient) : logSd;
                    NDArray quad = null;
                    for (TensorTree theta : thetas) {
                        for (String k : m.names()) {
                            NDArray z = theta.get(k).sub(m.get(k)).div(sdq.get(k));
                            NDArray term = z.square().sum();
                            quad = quad == null ? term : quad.add(term);
                        }
                    }
                    NDArray logDet = null;
                    for (NDArray a : lsq.leaves()) {
                        NDArray term = a.sum();
                        logDet = logDet == null ? term : logDet.add(term);
                    }
                    return quad.mul(-0.5 / thetas.size())
                            .sub(logDet)
                            .sub(ViSupport.HALF_LOG_2PI * mean.numel());
                },
                temperature);
    }
}
