package io.posteriors.vi;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import io.posteriors.Autodiff;
import io.posteriors.Checks;
import io.posteriors.FusedOps;
import io.posteriors.InitialValue;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.Scalars;
import io.posteriors.Schedule;
import io.posteriors.Scopes;
import io.posteriors.Step;
import io.posteriors.TemperedBuilder;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.optim.GradientOptimizer;
import io.posteriors.optim.OptimState;
import java.util.ArrayList;
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
 * TensorTree draws = state.sample(100);   // theta ~ q, every leaf (100, *shape)
 * }</pre>
 *
 * <p>The optimiser is one of the library's functional {@link GradientOptimizer}s (for example
 * {@link io.posteriors.optim.Adam}), whose state is explicit and lives in {@link DiagViState}, so a
 * pure {@link Transform#update} copies it and is really pure. A DJL {@code Optimizer} keeps hidden
 * mutable state and is not accepted for that reason.
 *
 * @param logPosterior the log posterior, a scalar per batch (it may be unnormalised)
 * @param optimizer the optimiser of the variational parameters; it minimises the NELBO
 * @param temperature the temperature T as a function of the step
 * @param nSamples the number of Monte Carlo samples per NELBO estimate
 * @param stl whether to detach the variational parameters inside {@code log q}
 * @param initLogSds the initial log standard deviations: a number or a tree shaped like the
 *     parameters
 * @param <B> the batch type
 */
public record DiagVi<B>(
        LogProbFn<B> logPosterior,
        GradientOptimizer optimizer,
        Schedule temperature,
        int nSamples,
        boolean stl,
        InitialValue initLogSds)
        implements Transform<DiagViState, B> {

    /** Prefix of the log standard deviation leaves in the tree of variational parameters. */
    static final String LOG_SD = "logSd/";

    /**
     * Checks the options.
     *
     * @throws NullPointerException when an option is null
     * @throws IllegalArgumentException when {@code nSamples < 1}, the temperature is negative or
     *     not finite at step 0, or {@code initLogSds} is not a finite number or a tree
     */
    public DiagVi {
        ViSupport.checkOptions(logPosterior, optimizer, temperature, nSamples);
        Checks.notNull(initLogSds, "initLogSds");
        if (initLogSds instanceof InitialValue.Constant c) {
            Checks.finite(c.value(), "initLogSds");
        } else if (!(initLogSds instanceof InitialValue.Tree)) {
            throw new IllegalArgumentException(
                    "initLogSds must be a number or a tree shaped like params");
        }
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
     * Options of {@link DiagVi}, each validated when set; the temperature comes from {@link
     * TemperedBuilder}, the sample count and STL switch from their shared base.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> extends ViBuilder<B, Builder<B>> {
        private InitialValue initLogSds = InitialValue.of(0.0, "initLogSds");

        private Builder(LogProbFn<B> logPosterior, GradientOptimizer optimizer) {
            super(logPosterior, optimizer);
        }

        @Override
        protected Builder<B> self() {
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
            this.initLogSds = InitialValue.of(initLogSds, "initLogSds");
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
         * @throws IllegalStateException when one of its arrays is closed
         */
        public Builder<B> initLogSds(TensorTree initLogSds) {
            this.initLogSds = InitialValue.of(initLogSds, "initLogSds");
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
            return new DiagVi<>(logPosterior, optimizer, temperature(), nSamples, stl, initLogSds);
        }
    }

    /**
     * Builds the initial state: q centred at a copy of {@code params}, with the configured log
     * standard deviations, the optimiser's initial state and a NaN NELBO.
     *
     * @param params the initial mean
     * @return the state at step 0
     * @throws NullPointerException when {@code params} is null
     * @throws IllegalArgumentException when {@code params} has a NaN or infinite entry (the message
     *     names the leaf), or the {@code initLogSds} tree has another structure than {@code params}
     *     (the message names the leaf and both shapes) or a non-finite entry
     */
    @Override
    public DiagViState init(TensorTree params) {
        Checks.openTree(params, "params");
        Checks.finite(params, "params", 0);
        TensorTree logSd = initLogSds.tree(params, "initLogSds");
        try {
            logSd.forEach(
                    (k, a) -> ViSupport.requireEntries(a, "initLogSds leaf '" + k + "'", false));
        } catch (RuntimeException e) {
            logSd.close();
            throw e;
        }
        TensorTree mean = params.copy();
        return new DiagViState(
                mean, logSd, optimizer.init(variational(mean, logSd)), ViSupport.nan(params), 0);
    }

    /**
     * Computes the next state by writing into the arrays of {@code state}: draws the noise, takes
     * the NELBO's gradient with respect to mean and log standard deviations, and applies one
     * optimiser step. On an exception the state is unchanged.
     *
     * @param state the current state; its arrays are overwritten
     * @param batch the batch passed to the log posterior
     * @return a state sharing the arrays of {@code state} with the step advanced, and the aux of
     *     the log posterior (for {@code nSamples > 1}, each aux array stacked over the samples
     *     along a new leading dimension)
     * @throws IllegalArgumentException when the temperature is negative at this step, the log
     *     posterior returns a non-scalar, or the NELBO or its gradient is not finite (the message
     *     names the step, and for the gradient the leaf)
     */
    @Override
    public Step<DiagViState> updateInPlace(DiagViState state, B batch) {
        Checks.open(state);
        long step = state.step();
        double t = TemperedBuilder.temperatureAt(temperature, step);
        // theta_s = mu + exp(logSd) * eps_s,  eps_s ~ N(0, I),  s = 1..nSamples
        // NELBO = -(1/n) sum_s [log p(theta_s) - T log q(theta_s)]
        // (mu, logSd) <- optimizer step along grad NELBO, the gradient written down from the
        // gradients of log p at the draws (FusedOps.diagGaussianNelboGradient)
        OptimState[] next = new OptimState[1];
        NDList aux =
                Scopes.call(
                        state.params().manager(),
                        () -> {
                            TensorTree eps = ViSupport.noise(state.params(), nSamples);
                            TensorTree draws =
                                    FusedOps.reparameterize(state.params(), state.logSdDiag(), eps);
                            List<TensorTree> grads = new ArrayList<>(nSamples);
                            List<NDList> auxes = new ArrayList<>(nSamples);
                            double sumLogP = 0;
                            LogProbFn<B> checked = ViSupport.scalarChecked(logPosterior);
                            for (int i = 0; i < nSamples; i++) {
                                int s = i;
                                TensorTree theta = draws.map(a -> a.get(s));
                                Autodiff.ValueAndGrad vg =
                                        Autodiff.valueAndGrad(checked, theta, batch);
                                sumLogP += Scalars.value(vg.value());
                                grads.add(vg.grad());
                                auxes.add(vg.aux());
                            }
                            FusedOps.DiagNelboGradient g =
                                    FusedOps.diagGaussianNelboGradient(
                                            state.logSdDiag(), eps, grads, t, stl);
                            double elbo = sumLogP / nSamples;
                            if (t > 0) {
                                double meanLogQ =
                                        -0.5 * g.sumEpsSquared() / nSamples
                                                - g.sumLogSd()
                                                - ViSupport.HALF_LOG_2PI * state.params().numel();
                                elbo -= t * meanLogQ;
                            }
                            Checks.finiteScalar(Scalars.like(state.nelbo(), -elbo), "nelbo", step);
                            TensorTree grad =
                                    ViSupport.concat(
                                            ViSupport.prefixed(ViSupport.MEAN, g.mean()),
                                            ViSupport.prefixed(LOG_SD, g.logSd()));
                            Checks.finite(grad, "nelbo gradient", step);
                            next[0] =
                                    optimizer.stepInPlace(
                                            variational(state.params(), state.logSdDiag()),
                                            grad,
                                            state.optimState());
                            state.nelbo().set(new NDIndex("..."), -elbo);
                            return ViSupport.stackAux(auxes);
                        },
                        a -> a);
        DiagViState nextState =
                new DiagViState(
                        state.params(), state.logSdDiag(), next[0], state.nelbo(), step + 1);
        return new Step<>(nextState, aux);
    }

    /**
     * Estimates the NELBO of the state's q with this transform's temperature (at the state's step)
     * and number of samples.
     *
     * @param state the state
     * @param batch the batch passed to the log posterior
     * @return a new scalar array on the parameters' manager
     * @throws IllegalArgumentException when the temperature is negative at the state's step
     */
    public NDArray nelbo(DiagViState state, B batch) {
        Checks.open(state);
        double t = TemperedBuilder.temperatureAt(temperature, state.step());
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
     * @param sdDiag the standard deviations of q, same structure, positive and finite
     * @param batch the batch passed to the log posterior
     * @param temperature T; non-negative
     * @param nSamples the number of Monte Carlo samples; at least 1
     * @param <B> the batch type
     * @return a new scalar array on the mean's manager
     * @throws IllegalArgumentException when the structures differ, an entry of {@code sdDiag} is
     *     not positive and finite (the message names the leaf and the value), {@code temperature <
     *     0} or {@code nSamples < 1}
     */
    public static <B> NDArray nelbo(
            LogProbFn<B> logPosterior,
            TensorTree mean,
            TensorTree sdDiag,
            B batch,
            double temperature,
            int nSamples) {
        Checks.notNull(logPosterior, "logPosterior");
        Checks.openTree(mean, "mean");
        mean.requireSameStructure(sdDiag, "sdDiag");
        sdDiag.forEach((k, a) -> ViSupport.requireEntries(a, "sdDiag leaf '" + k + "'", true));
        Checks.nonNegative(temperature, "temperature");
        Checks.atLeast(nSamples, 1, "nSamples");
        return Scopes.call(
                mean.manager(),
                () -> {
                    TensorTree eps = ViSupport.noise(mean, nSamples);
                    TensorTree logSd = sdDiag.map(NDArray::log);
                    return elbo(logPosterior, batch, mean, sdDiag, logSd, eps, temperature, false)
                            .value()
                            .neg();
                },
                List::of);
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
