package io.posteriors.vi;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Checks;
import io.posteriors.DenseNormal;
import io.posteriors.InitialValue;
import io.posteriors.Linalg;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.Schedule;
import io.posteriors.Scopes;
import io.posteriors.Step;
import io.posteriors.TemperedBuilder;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.optim.GradientOptimizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Gaussian variational inference with a full covariance: fits {@code q(theta) = N(mu, L L^T)} over
 * the raveled parameters to the tempered posterior {@code p_T(theta) ∝ exp(log p(theta) / T)} by
 * stochastic gradient descent on the NELBO; posteriors' {@code vi.dense.build}.
 *
 * <p>L is lower triangular and stored flat ({@link DenseViState#lFactor()}, the {@code d(d+1)/2}
 * entries of its lower triangle row by row, as posteriors' {@code L_factor}); its diagonal is not
 * constrained, and since q depends on L only through {@code L L^T}, a sign flip of a column changes
 * nothing. With noise {@code eps_s ~ N(0, I_d)} and the reparameterised samples {@code theta_s = mu
 * + L eps_s}, each update estimates
 *
 * <pre>
 * NELBO(mu, L) = -(1/n) sum_{s=1..n} [ log p(theta_s) - T log q(theta_s) ],
 * log q(theta) = -|L^-1 (theta - mu)|^2 / 2 - sum_i log|L_ii| - (d/2) log(2 pi),
 * </pre>
 *
 * with {@code n = nSamples}, differentiates it with respect to {@code (mu, L)} by autograd and
 * hands the gradient to the optimiser (Titsias and Lázaro-Gredilla, "Doubly Stochastic Variational
 * Bayes for non-Conjugate Inference", 2014; Blei, Kucukelbir and McAuliffe, "Variational Inference:
 * A Review for Statisticians", 2017).
 *
 * <p>With {@code stl} on (the default) both variational parameters, the mean and the factor, are
 * detached inside {@code log q}, so gradients reach it only through the samples: the "sticking the
 * landing" estimator of Roeder, Wu and Duvenaud ("Sticking the Landing: Simple, Lower-Variance
 * Gradient Estimators for Variational Inference", 2017). posteriors detaches only the factor, which
 * leaves a score-function term in the mean's gradient; this implementation does not port that.
 *
 * <p>Temperature: T = 1 targets the Bayesian posterior; with the log posterior averaged over a
 * batch, set T = 1/N. At T = 0 the entropy term vanishes, so the mean goes to the MAP and L shrinks
 * towards zero: VI collapses to optimisation.
 *
 * <p>Cost: L has {@code d^2} entries for d parameters, and each update forms L, the samples {@code
 * L eps} and (for T &gt; 0) a triangular solve, {@code O(n d^2)} work and {@code O(d^2)} memory.
 * Use it for up to a few thousand parameters (for example the last layer of a network, the rest at
 * a MAP); use {@link DiagVi} beyond.
 *
 * @param logPosterior the log posterior, a scalar per batch (it may be unnormalised)
 * @param optimizer the optimiser of the variational parameters; it minimises the NELBO
 * @param temperature the temperature T as a function of the step
 * @param nSamples the number of Monte Carlo samples per NELBO estimate
 * @param stl whether to detach mean and factor inside {@code log q}
 * @param initL the initial factor: a positive number c (the factor {@code c I}) or a {@code (d, d)}
 *     lower-triangular matrix
 *     <pre>{@code
 * Transform<DenseViState, Batch> t =
 *         DenseVi.builder(logPost, Adam.of(1e-2)).temperature(1.0 / n).build();
 * DenseViState state = t.init(params);
 * state = t.updateInPlace(state, batch).state();
 * NDArray cov = state.covariance();      // L L^T over params.ravel()
 * TensorTree draws = state.sample(100);  // theta ~ q, every leaf (100, *shape)
 * }</pre>
 *
 * @param <B> the batch type
 */
public record DenseVi<B>(
        LogProbFn<B> logPosterior,
        GradientOptimizer optimizer,
        Schedule temperature,
        int nSamples,
        boolean stl,
        InitialValue initL)
        implements Transform<DenseViState, B> {

    /** Name of the flat factor in the tree of variational parameters. */
    static final String L_FACTOR = "lFactor";

    /** The largest d for which a d-by-d factor can be indexed. */
    static final int MAX_DIMENSION = 46_340;

    /**
     * Checks the options.
     *
     * @throws NullPointerException when an option is null
     * @throws IllegalArgumentException when {@code nSamples < 1}, the temperature is negative or
     *     not finite at step 0, or {@code initL} is neither a positive finite number nor a matrix
     */
    public DenseVi {
        ViSupport.checkOptions(logPosterior, optimizer, temperature, nSamples);
        Checks.notNull(initL, "initL");
        if (initL instanceof InitialValue.Constant c) {
            Checks.positive(c.value(), "initL");
        } else if (!(initL instanceof InitialValue.Matrix)) {
            throw new IllegalArgumentException("initL must be a number or a (d, d) matrix");
        }
    }

    /**
     * Starts a builder with posteriors' defaults: temperature 1, one sample, STL on, initial factor
     * the identity.
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
     * Options of {@link DenseVi}, each validated when set; the temperature comes from {@link
     * TemperedBuilder}, the sample count and STL switch from their shared base.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> extends ViBuilder<B, Builder<B>> {
        private InitialValue initL = InitialValue.of(1.0, "initL");

        private Builder(LogProbFn<B> logPosterior, GradientOptimizer optimizer) {
            super(logPosterior, optimizer);
        }

        @Override
        protected Builder<B> self() {
            return this;
        }

        /**
         * Sets the initial factor to {@code c I} (default 1), a covariance {@code c^2 I}.
         *
         * @param c the diagonal value; positive and finite
         * @return this builder
         * @throws IllegalArgumentException when {@code c} is not positive and finite
         */
        public Builder<B> initL(double c) {
            this.initL = InitialValue.of(Checks.positive(c, "initL"), "initL");
            return this;
        }

        /**
         * Sets the initial factor to a lower-triangular matrix (for example the Cholesky factor of
         * a Laplace covariance). {@code init} checks that it is {@code (d, d)} for the d
         * parameters, lower triangular, finite and with a non-zero diagonal, then copies it; keep
         * the array open until then.
         *
         * @param l the factor, a square matrix
         * @return this builder
         * @throws NullPointerException when {@code l} is null
         * @throws IllegalStateException when {@code l} is closed
         * @throws IllegalArgumentException when {@code l} is not a square matrix
         */
        public Builder<B> initL(NDArray l) {
            this.initL = InitialValue.of(l, "initL");
            return this;
        }

        /**
         * Builds the transform.
         *
         * @return the transform
         * @throws IllegalArgumentException when the temperature schedule is negative or not finite
         *     at step 0
         */
        public DenseVi<B> build() {
            return new DenseVi<>(logPosterior, optimizer, temperature(), nSamples, stl, initL);
        }
    }

    /**
     * Builds the initial state: q centred at a copy of {@code params} with the configured factor,
     * the optimiser's initial state and a NaN NELBO.
     *
     * @param params the initial mean
     * @return the state at step 0
     * @throws NullPointerException when {@code params} is null
     * @throws IllegalArgumentException when {@code params} has a NaN or infinite entry (the message
     *     names the leaf), the parameters are too many for a dense factor, or the initial factor
     *     matrix is not {@code (d, d)}, not lower triangular, not finite or has a zero on its
     *     diagonal
     */
    @Override
    public DenseViState init(TensorTree params) {
        Checks.openTree(params, "params");
        Checks.finite(params, "params", 0);
        int d = dimensionOf(params);
        if (initL instanceof InitialValue.Matrix m) {
            if (!m.matrix().getShape().equals(new Shape(d, d))) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "initL must have shape (%d, %d) for the %d parameters, got %s",
                                d, d, d, m.matrix().getShape()));
            }
            checkFactor(m.matrix(), "initL");
        }
        NDArray flat =
                Scopes.call(
                        params.manager(),
                        () -> DenseNormal.lowerToFlat(initL.matrix(params, "initL")),
                        List::of);
        TensorTree mean = params.copy();
        return new DenseViState(
                mean, flat, optimizer.init(variational(mean, flat)), ViSupport.nan(params), 0);
    }

    /**
     * Computes the next state by writing into the arrays of {@code state}: draws the noise, takes
     * the NELBO's gradient with respect to mean and flat factor, and applies one optimiser step. On
     * an exception the state is unchanged.
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
    public Step<DenseViState> updateInPlace(DenseViState state, B batch) {
        Checks.open(state);
        double t = TemperedBuilder.temperatureAt(temperature, state.step());
        // theta_s = mu + L eps_s,  eps_s ~ N(0, I_d),  s = 1..nSamples
        // NELBO = -(1/n) sum_s [log p(theta_s) - T log q(theta_s)]
        // (mu, lFactor) <- optimizer step along grad NELBO
        ViSupport.Descent d =
                ViSupport.descend(
                        optimizer,
                        variational(state.params(), state.lFactor()),
                        state.optimState(),
                        state.nelbo(),
                        state.step(),
                        batch,
                        () -> {
                            NDArray eps = noise(state.params(), nSamples);
                            return (v, b) -> {
                                TensorTree mu = ViSupport.unprefixed(ViSupport.MEAN, v);
                                return elbo(logPosterior, b, mu, v.get(L_FACTOR), eps, t, stl);
                            };
                        });
        DenseViState next =
                new DenseViState(
                        state.params(),
                        state.lFactor(),
                        d.optimState(),
                        state.nelbo(),
                        state.step() + 1);
        return new Step<>(next, d.aux());
    }

    /**
     * Estimates the NELBO of the state's q with this transform's temperature (at the state's step)
     * and number of samples.
     *
     * @param state the state
     * @param batch the batch passed to the log posterior
     * @return a new scalar array on the parameters' manager
     * @throws IllegalArgumentException when the temperature is negative at the state's step, or the
     *     state's factor is not finite or has a zero on its diagonal
     */
    public NDArray nelbo(DenseViState state, B batch) {
        Checks.open(state);
        double t = TemperedBuilder.temperatureAt(temperature, state.step());
        return nelbo(logPosterior, state.params(), state.lFactor(), batch, t, nSamples);
    }

    /**
     * Estimates {@code NELBO = -(1/n) sum_s [log p(theta_s) - T log N(theta_s | mean, L L^T)]} with
     * {@code n} reparameterised samples {@code theta_s = mean + L eps_s} from the engine generator:
     * posteriors' {@code vi.dense.nelbo}. With a normalised log posterior it is {@code KL(q || p)}
     * plus Monte Carlo noise, zero exactly when q is the target (and T = 1). The aux of the model
     * calls is discarded.
     *
     * @param logPosterior the log posterior (scalar per batch)
     * @param mean the mean of q
     * @param lFactor the flat lower-triangular factor, {@code d(d+1)/2} entries for the d
     *     parameters, finite, with a non-zero diagonal
     * @param batch the batch passed to the log posterior
     * @param temperature T; non-negative
     * @param nSamples the number of Monte Carlo samples; at least 1
     * @param <B> the batch type
     * @return a new scalar array on the mean's manager
     * @throws IllegalArgumentException when {@code lFactor} has the wrong length, a non-finite
     *     entry or a zero on its diagonal, {@code temperature < 0} or {@code nSamples < 1}
     */
    public static <B> NDArray nelbo(
            LogProbFn<B> logPosterior,
            TensorTree mean,
            NDArray lFactor,
            B batch,
            double temperature,
            int nSamples) {
        Checks.notNull(logPosterior, "logPosterior");
        Checks.openTree(mean, "mean");
        Checks.open(lFactor, "lFactor");
        int d = dimensionOf(mean);
        DenseViState.requireFlatFactor(lFactor, d);
        try (NDArray l = DenseNormal.flatToLower(lFactor, d)) {
            checkFactor(l, "lFactor");
        }
        Checks.nonNegative(temperature, "temperature");
        Checks.atLeast(nSamples, 1, "nSamples");
        return Scopes.call(
                mean.manager(),
                () -> {
                    NDArray eps = noise(mean, nSamples);
                    LogProb lp = elbo(logPosterior, batch, mean, lFactor, eps, temperature, false);
                    return lp.value().neg();
                },
                List::of);
    }

    /** The tree of variational parameters: {@code mean/NAME} leaves then {@code lFactor}. */
    private static TensorTree variational(TensorTree mean, NDArray lFactor) {
        return ViSupport.concat(
                ViSupport.prefixed(ViSupport.MEAN, mean), TensorTree.of(L_FACTOR, lFactor));
    }

    private static NDArray noise(TensorTree params, int n) {
        NDArray like = params.anyLeaf();
        return like.getManager()
                .randomNormal(
                        0, 1, new Shape(n, params.numel()), like.getDataType(), like.getDevice());
    }

    private static int dimensionOf(TensorTree params) {
        long d = params.numel();
        if (d > MAX_DIMENSION) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "params has %d elements; DenseVi keeps a d-by-d factor and allows at"
                                    + " most d = %d: use DiagVi, or DenseVi on a subset of the"
                                    + " parameters",
                            d, MAX_DIMENSION));
        }
        return (int) d;
    }

    /**
     * Checks that a {@code (d, d)} factor is finite, lower triangular, with a non-zero diagonal.
     */
    private static void checkFactor(NDArray l, String name) {
        ViSupport.requireEntries(l, name, false);
        Scopes.run(
                () -> {
                    NDArray x = l.toType(DataType.FLOAT64, false);
                    double upper = x.sub(Linalg.tril(x)).abs().max().getDouble();
                    if (upper != 0) {
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "%s must be lower triangular, got an entry of size %s"
                                                + " above the diagonal",
                                        name, upper));
                    }
                    if (!(x.diagonal().abs().min().getDouble() > 0)) {
                        throw new IllegalArgumentException(
                                name
                                        + " must have a non-zero diagonal (q would be degenerate),"
                                        + " got a zero on it");
                    }
                });
    }

    /**
     * The Monte Carlo ELBO of {@code N(mean, L L^T)}; with {@code stl} both mean and factor are
     * detached inside log q.
     */
    private static <B> LogProb elbo(
            LogProbFn<B> logPosterior,
            B batch,
            TensorTree mean,
            NDArray lFlat,
            NDArray eps,
            double temperature,
            boolean stl) {
        int d = (int) mean.numel();
        int n = (int) eps.getShape().get(0);
        NDArray meanFlat = mean.ravel();
        NDArray l = DenseNormal.flatToLower(lFlat, d);
        NDArray thetas = eps.matMul(l.transpose()).add(meanFlat);
        List<NDArray> rows = new ArrayList<>(n);
        for (int s = 0; s < n; s++) {
            rows.add(thetas.get(s));
        }
        return ViSupport.elbo(
                logPosterior,
                batch,
                n,
                s -> mean.unravel(rows.get(s)),
                ignored -> {
                    NDArray z;
                    NDArray logDet;
                    if (stl) {
                        // gradient only through the samples: solve with the detached factor
                        NDArray l0 = l.stopGradient();
                        z = Linalg.solveLower(l0, thetas.sub(meanFlat.stopGradient()).transpose());
                        logDet = l0.diagonal().abs().log().sum();
                    } else {
                        // L^-1 (theta_s - mu) = eps_s identically, so this has the same value and
                        // the same total derivative as the solve, without differentiating it
                        z = eps;
                        logDet = l.diagonal().abs().log().sum();
                    }
                    return z.square()
                            .sum()
                            .mul(-0.5 / n)
                            .sub(logDet)
                            .sub(ViSupport.HALF_LOG_2PI * d);
                },
                temperature);
    }
}
