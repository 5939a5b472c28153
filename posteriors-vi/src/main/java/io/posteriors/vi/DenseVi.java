package io.posteriors.vi;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Autodiff;
import io.posteriors.Checks;
import io.posteriors.DenseNormal;
import io.posteriors.Linalg;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.Schedule;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.internal.Scoped;
import io.posteriors.optim.GradientOptimizer;
import io.posteriors.optim.OptimState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
 * <pre>{@code
 * Transform<DenseViState, Batch> t =
 *         DenseVi.builder(logPost, Adam.of(1e-2)).temperature(1.0 / n).build();
 * DenseViState state = t.init(params);
 * state = t.updateInPlace(state, batch).state();
 * NDArray cov = state.covariance();      // L L^T over params.ravel()
 * }</pre>
 *
 * @param <B> the batch type
 */
public final class DenseVi<B> implements Transform<DenseViState, B> {

    /** Name of the flat factor in the tree of variational parameters. */
    static final String L_FACTOR = "lFactor";

    /** The largest d for which a d-by-d factor can be indexed. */
    static final int MAX_DIMENSION = 46_340;

    private final LogProbFn<B> logPosterior;
    private final GradientOptimizer optimizer;
    private final Schedule temperature;
    private final int nSamples;
    private final boolean stl;
    private final double initL;
    private final NDArray initLMatrix;

    private DenseVi(Builder<B> b) {
        this.logPosterior = b.logPosterior;
        this.optimizer = b.optimizer;
        this.temperature = b.temperature;
        this.nSamples = b.nSamples;
        this.stl = b.stl;
        this.initL = b.initL;
        this.initLMatrix = b.initLMatrix;
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
     * Options of {@link DenseVi}, each validated when set.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> {
        private final LogProbFn<B> logPosterior;
        private final GradientOptimizer optimizer;
        private Schedule temperature = Schedule.constant(1.0);
        private int nSamples = 1;
        private boolean stl = true;
        private double initL = 1.0;
        private NDArray initLMatrix;

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
         * @param stl true to detach mean and factor inside {@code log q}
         * @return this builder
         */
        public Builder<B> stl(boolean stl) {
            this.stl = stl;
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
            this.initL = Checks.positive(c, "initL");
            this.initLMatrix = null;
            return this;
        }

        /**
         * Sets the initial factor to a lower-triangular matrix (for example the Cholesky factor of
         * a Laplace covariance). {@code init} checks that it is {@code (d, d)} for the d
         * parameters, lower triangular, finite and with a non-zero diagonal, then copies it; keep
         * the array open until then.
         *
         * @param l the factor, shape {@code (d, d)}
         * @return this builder
         * @throws NullPointerException when {@code l} is null
         */
        public Builder<B> initL(NDArray l) {
            this.initLMatrix = Checks.notNull(l, "initL");
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
            Checks.nonNegativeAt(temperature, 0, "temperature");
            return new DenseVi<>(this);
        }
    }

    /**
     * Builds the initial state: q centred at a copy of {@code params} with the configured factor,
     * the optimiser's initial state and a NaN NELBO.
     *
     * @param params the initial mean
     * @return the state at step 0
     * @throws NullPointerException when {@code params} is null
     * @throws IllegalArgumentException when the parameters are too many for a dense factor, or the
     *     initial factor matrix is not {@code (d, d)}, not lower triangular, not finite or has a
     *     zero on its diagonal
     */
    @Override
    public DenseViState init(TensorTree params) {
        Checks.notNull(params, "params");
        int d = dimensionOf(params);
        if (initLMatrix != null) {
            checkInitL(initLMatrix, d);
        }
        NDManager manager = params.manager();
        DataType type = params.dataType();
        NDArray flat =
                Scoped.call(
                        manager,
                        () -> {
                            NDArray l =
                                    initLMatrix != null
                                            ? initLMatrix
                                                    .toDevice(params.device(), true)
                                                    .toType(type, false)
                                            : manager.eye(d, d, 0, type).muli(initL);
                            return DenseNormal.lowerToFlat(l);
                        },
                        List::of);
        TensorTree mean = params.copy();
        OptimState opt = optimizer.init(variational(mean, flat));
        NDArray nelbo = manager.full(new Shape(), Float.NaN, type);
        return new DenseViState(mean, flat, opt, nelbo, 0);
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
    public Step<DenseViState> update(DenseViState state, B batch) {
        Checks.notNull(state, "state");
        Checks.nonNegativeAt(temperature, state.step(), "temperature");
        DenseViState copy =
                new DenseViState(
                        state.params().copy(),
                        state.lFactor().duplicate(),
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
     * the NELBO's gradient with respect to mean and flat factor, and applies one optimiser step. On
     * an exception the state is unchanged.
     *
     * @param state the current state; its arrays are overwritten
     * @param batch the batch passed to the log posterior
     * @return a state sharing the arrays of {@code state} with the step advanced, and the aux
     * @throws IllegalArgumentException when the temperature is negative at this step, or the log
     *     posterior returns a non-scalar or the NELBO is not finite
     */
    @Override
    public Step<DenseViState> updateInPlace(DenseViState state, B batch) {
        Checks.notNull(state, "state");
        double t = Checks.nonNegativeAt(temperature, state.step(), "temperature");
        TensorTree vars = variational(state.params(), state.lFactor());
        OptimState[] next = new OptimState[1];
        NDList aux =
                Scoped.call(
                        state.params().manager(),
                        () -> {
                            NDArray eps = noise(state.params(), nSamples);
                            Autodiff.ValueAndGrad vg =
                                    Autodiff.valueAndGrad(
                                            (v, b) ->
                                                    elbo(
                                                            logPosterior,
                                                            b,
                                                            ViSupport.unprefixed(ViSupport.MEAN, v),
                                                            v.get(L_FACTOR),
                                                            eps,
                                                            t,
                                                            stl),
                                            vars,
                                            batch);
                            vg.grad().forEach((k, g) -> g.negi());
                            next[0] = optimizer.stepInPlace(vars, vg.grad(), state.optimState());
                            state.nelbo().set(new NDIndex("..."), vg.value().neg());
                            return vg.aux();
                        },
                        a -> a);
        DenseViState s =
                new DenseViState(
                        state.params(), state.lFactor(), next[0], state.nelbo(), state.step() + 1);
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
    public NDArray nelbo(DenseViState state, B batch) {
        Checks.notNull(state, "state");
        double t = Checks.nonNegativeAt(temperature, state.step(), "temperature");
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
     *     parameters, with a non-zero diagonal
     * @param batch the batch passed to the log posterior
     * @param temperature T; non-negative
     * @param nSamples the number of Monte Carlo samples; at least 1
     * @param <B> the batch type
     * @return a new scalar array on the mean's manager
     * @throws IllegalArgumentException when {@code lFactor} has the wrong length, {@code
     *     temperature < 0} or {@code nSamples < 1}
     */
    public static <B> NDArray nelbo(
            LogProbFn<B> logPosterior,
            TensorTree mean,
            NDArray lFactor,
            B batch,
            double temperature,
            int nSamples) {
        Checks.notNull(logPosterior, "logPosterior");
        Checks.notNull(mean, "mean");
        Checks.notNull(lFactor, "lFactor");
        int d = dimensionOf(mean);
        if (lFactor.getShape().dimension() != 1 || lFactor.size() != DenseNormal.flatSize(d)) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "lFactor must be a vector of d(d+1)/2 = %d entries for d = %d"
                                    + " parameters, got shape %s",
                            DenseNormal.flatSize(d), d, lFactor.getShape()));
        }
        Checks.nonNegative(temperature, "temperature");
        Checks.atLeast(nSamples, 1, "nSamples");
        return Scoped.call(
                mean.manager(),
                () -> {
                    NDArray eps = noise(mean, nSamples);
                    LogProb lp = elbo(logPosterior, batch, mean, lFactor, eps, temperature, false);
                    return lp.value().neg();
                },
                List::of);
    }

    /**
     * Draws one sample from the state's q: posteriors' {@code vi.dense.sample}.
     *
     * @param state the state
     * @return a new tree with the parameters' structure
     */
    public static TensorTree sample(DenseViState state) {
        Checks.notNull(state, "state");
        TensorTree params = state.params();
        return Scoped.call(
                params.manager(),
                () -> {
                    NDArray x =
                            DenseNormal.sample(params.ravel(), state.lower(), 1)
                                    .reshape(params.numel());
                    return params.unravel(x).map(NDArray::duplicate);
                },
                TensorTree::leaves);
    }

    /**
     * Draws {@code n} samples from the state's q, stacked along a new leading dimension.
     *
     * @param state the state
     * @param n the number of samples; at least 1
     * @return a new tree whose leaves have shape {@code (n, *leaf shape)}
     * @throws IllegalArgumentException when {@code n < 1}
     */
    public static TensorTree sample(DenseViState state, int n) {
        Checks.notNull(state, "state");
        Checks.atLeast(n, 1, "n");
        TensorTree params = state.params();
        return Scoped.call(
                params.manager(),
                () -> {
                    NDArray x = DenseNormal.sample(params.ravel(), state.lower(), n);
                    Map<String, NDArray> m = new LinkedHashMap<>();
                    long offset = 0;
                    for (Map.Entry<String, Shape> e : params.shapes().entrySet()) {
                        long size = e.getValue().size();
                        NDArray cols = x.get(new NDIndex(":, {}:{}", offset, offset + size));
                        m.put(e.getKey(), cols.reshape(new Shape(n).addAll(e.getValue())));
                        offset += size;
                    }
                    return TensorTree.of(m).map(NDArray::duplicate);
                },
                TensorTree::leaves);
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

    private static void checkInitL(NDArray l, int d) {
        Checks.open(l, "initL");
        if (!l.getShape().equals(new Shape(d, d))) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "initL must have shape (%d, %d) for the %d parameters, got %s",
                            d, d, d, l.getShape()));
        }
        Scoped.run(
                () -> {
                    NDArray x = l.toType(DataType.FLOAT64, false);
                    ViSupport.requireFinite(x, "initL");
                    double upper = x.sub(Linalg.tril(x)).abs().max().getDouble();
                    if (upper != 0) {
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "initL must be lower triangular, got an entry of size %s"
                                                + " above the diagonal",
                                        upper));
                    }
                    double minDiag = x.diagonal().abs().min().getDouble();
                    if (!(minDiag > 0)) {
                        throw new IllegalArgumentException(
                                "initL must have a non-zero diagonal (q would be degenerate),"
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
