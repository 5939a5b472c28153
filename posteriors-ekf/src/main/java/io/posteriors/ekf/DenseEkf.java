package io.posteriors.ekf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Checks;
import io.posteriors.ForwardFn;
import io.posteriors.InitialValue;
import io.posteriors.Linalg;
import io.posteriors.LogProbFn;
import io.posteriors.OuterFn;
import io.posteriors.PerSampleBuilder;
import io.posteriors.Scalars;
import io.posteriors.Schedule;
import io.posteriors.Scopes;
import io.posteriors.Step;
import io.posteriors.TemperedBuilder;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import java.util.List;
import java.util.function.Function;

/**
 * An extended Kalman filter with a dense Gaussian over the raveled parameters, for online learning
 * on models with up to a few thousand parameters (or on a subset, such as the last layer):
 * posteriors' {@code ekf.dense_fisher}, with two of its mistakes corrected (see below).
 *
 * <p>The filter tracks {@code N(mu, Sigma)} over parameters that may drift between batches. Each
 * update takes two steps.
 *
 * <p><b>Predict.</b> The parameters follow a random walk with covariance Q per step: {@code Sigma_p
 * = Sigma + Q}, where {@code transitionCov} is Q, and a number c means {@code Q = c I}.
 *
 * <p><b>Update.</b> The log likelihood {@code l} of the batch, weighted by the learning rate {@code
 * lr} (the likelihood's inverse temperature), is replaced by its second-order expansion at the mean
 * {@code l(theta) ~ l(mu) + g^T (theta - mu) - (theta - mu)^T F (theta - mu) / 2}, with {@code g}
 * the gradient at {@code mu} and {@code F} a positive semi-definite curvature. Completing the
 * square of {@code log N(theta | mu, Sigma_p) + lr l(theta)} gives the Gaussian
 *
 * <pre>
 * Sigma'^-1 = Sigma_p^-1 + lr F         (the precision grows with data)
 * mu'       = mu + lr Sigma' g          (a natural-gradient step)
 * </pre>
 *
 * <p>Here {@code l} is the mean of the per-sample log likelihoods {@code l_i} of the n samples of
 * the batch and {@code g = (1/n) sum_i g_i}, {@code g_i} the gradient of {@code l_i}. With {@code
 * perSample(true)} the log likelihood returns the vector of {@code l_i}; with {@code
 * perSample(false)} (the default, as in posteriors) it returns a scalar for a batch and the filter
 * evaluates it on each sample as a batch of one ({@link io.posteriors.PerSample#perSamplify},
 * posteriors' {@code per_samplify}), so both settings give the same update.
 *
 * <p>The curvature is the empirical Fisher by default (posteriors' choice), {@code F = (1/n) sum_i
 * g_i g_i^T}, or, given a forward function and an outer log likelihood ({@link Builder#ggn}), the
 * generalised Gauss-Newton matrix {@code F = J^T H J / n}, H the Hessian of the negative outer log
 * likelihood (summed over the batch) in the outputs. That is the classical EKF: for Gaussian
 * observations {@code y = h(theta) + v}, {@code v ~ N(0, R)}, it gives {@code F = J^T R^-1 J} and
 * {@code g = J^T R^-1 (y - h(mu))}, and the update is the Kalman filter's on the model linearised
 * at the mean. For a linear-Gaussian model with {@code lr = n} (the batch weighed as its summed log
 * likelihood; {@code lr = 1} when each batch is a single observation) it is exactly the Kalman
 * filter (Kalman, "A new approach to linear filtering and prediction problems", 1960): by the
 * Woodbury identity {@code Sigma' = (I - K J) Sigma_p} and {@code mu' = mu + K (y - J mu)} with the
 * gain {@code K = Sigma_p J^T (J Sigma_p J^T + R)^-1}.
 *
 * <p><b>Computation.</b> Both curvatures come as a factor {@code F = U^T U} with r rows (n
 * per-sample gradients over {@code sqrt(n)}, or {@code diag(sqrt(w / n)) V^T J} from the
 * eigendecomposition {@code H = V diag(w) V^T}), and the update uses the Woodbury identity
 *
 * <pre>
 * Sigma' = Sigma_p - W^T W,   W = diag(s)^-1/2 V^T U Sigma_p,   V diag(s) V^T = I / lr + U Sigma_p U^T
 * </pre>
 *
 * which needs one r-by-r symmetric eigendecomposition (its eigenvalues are at least 1/lr) and O(P^2
 * r) work, never inverts {@code Sigma_p} (so a singular prediction is fine) and is then
 * symmetrised. When r exceeds P the factor is first compressed to P rows. For the quick start's MLP
 * (P = 1251, batches of 64) a step costs a few times a per-sample gradient pass, where forming and
 * inverting P-by-P precisions would cost about P^3.
 *
 * <p><b>Where posteriors differs.</b> Its {@code dense_fisher.update} subtracts {@code lr F} from
 * the precision, so the covariance grows with data (its diagonal filter adds, as here); and it adds
 * a scalar transition covariance to every entry of the matrix, where here a number c means {@code c
 * I}.
 *
 * <p><b>Temperature.</b> {@code lr} is the inverse temperature of the likelihood; {@code lr = n}
 * weighs a batch of n samples as its summed log likelihood. As {@code lr} grows (temperature to 0)
 * the update tends to the Gauss-Newton (natural-gradient) step {@code mu' = mu + F^+ g} on the
 * directions the data inform and the covariance collapses there: optimisation.
 *
 * <p>References: Y. Ollivier, "Online natural gradient as a Kalman filter", Electronic Journal of
 * Statistics, 2018 (arXiv:1703.00209); S. Singhal and L. Wu, "Training multilayer perceptrons with
 * the extended Kalman algorithm", NeurIPS 1988.
 *
 * <pre>{@code
 * Transform<DenseEkfState, Batch> t =
 *         DenseEkf.builder(perSampleLogLik, 1.0).perSample(true).transitionCov(1e-4).build();
 * DenseEkfState state = t.init(params);
 * for (Batch b : stream) {
 *     state = t.updateInPlace(state, b).state();
 * }
 * TensorTree draws = state.sample(100);
 * }</pre>
 *
 * @param logLikelihood the log likelihood of a batch: a scalar, or with {@code perSample} a vector
 *     with one entry per sample
 * @param lr the learning rate by step, the likelihood's inverse temperature; positive at every step
 * @param initCov the initial covariance: a number c for {@code c I} (default 1) or a symmetric
 *     positive-definite P-by-P matrix over the raveled parameters, read by {@code init}
 * @param transitionCov the covariance Q of the random-walk transition noise added before each
 *     update: a number c for {@code c I} (default 0: static parameters) or a symmetric positive
 *     semi-definite P-by-P matrix, read at every update
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
public record DenseEkf<B>(
        LogProbFn<B> logLikelihood,
        Schedule lr,
        InitialValue initCov,
        InitialValue transitionCov,
        ForwardFn<B> forward,
        OuterFn<B> outerLogLikelihood,
        boolean perSample,
        Function<B, List<B>> batchSplitter)
        implements Transform<DenseEkfState, B>, EkfCurvature.Options<B> {

    /** Relative tolerance of the symmetry and semi-definiteness checks of given matrices. */
    private static final double MATRIX_TOL = 1e-5;

    /**
     * Checks the options.
     *
     * @throws NullPointerException when {@code logLikelihood}, {@code lr}, {@code initCov}, {@code
     *     transitionCov} or {@code batchSplitter} is null
     * @throws IllegalArgumentException when {@code lr} is not positive and finite at step 0, {@code
     *     initCov} is not a positive number or a symmetric positive-definite matrix, {@code
     *     transitionCov} is not a non-negative number or a symmetric positive semi-definite matrix
     *     (relative tolerance 1e-5), or only one of {@code forward} and {@code outerLogLikelihood}
     *     is given
     */
    public DenseEkf {
        EkfCurvature.checkOptions(logLikelihood, lr, forward, outerLogLikelihood, batchSplitter);
        checkCovariance(initCov, "initCov", true);
        checkCovariance(transitionCov, "transitionCov", false);
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
     * Options of {@link DenseEkf}, with posteriors' defaults; {@code perSample} and {@code
     * batchSplitter} come from {@link PerSampleBuilder}, {@code ggn} from a base shared with the
     * other filter.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> extends EkfBuilder<B, Builder<B>> {
        private InitialValue initCov = InitialValue.of(1.0, "initCov");
        private InitialValue transitionCov = InitialValue.of(0.0, "transitionCov");

        private Builder(LogProbFn<B> logLikelihood, Schedule lr) {
            super(logLikelihood, lr);
        }

        @Override
        protected Builder<B> self() {
            return this;
        }

        /**
         * Sets the transition covariance to {@code c I}: independent random-walk noise of variance
         * c on every parameter per step (default 0: static parameters).
         *
         * @param c the variance; non-negative
         * @return this builder
         * @throws IllegalArgumentException when it is negative, NaN or infinite
         */
        public Builder<B> transitionCov(double c) {
            this.transitionCov =
                    InitialValue.of(Checks.nonNegative(c, "transitionCov"), "transitionCov");
            return this;
        }

        /**
         * Sets a full transition covariance over the raveled parameters. The builder keeps a
         * symmetrised copy on the matrix's manager, which must stay open while the transform is
         * used; {@code init} and {@code update} check its size.
         *
         * @param q a symmetric positive semi-definite P-by-P matrix
         * @return this builder
         * @throws IllegalArgumentException when {@code q} is not square, not finite, not symmetric
         *     or has a negative eigenvalue (relative tolerance 1e-5)
         */
        public Builder<B> transitionCov(NDArray q) {
            this.transitionCov = symmetrised(q, "transitionCov", false);
            return this;
        }

        /**
         * Sets the initial covariance to {@code c I} (default 1).
         *
         * @param c the variance; positive
         * @return this builder
         * @throws IllegalArgumentException when it is not positive and finite
         */
        public Builder<B> initCov(double c) {
            this.initCov = InitialValue.of(Checks.positive(c, "initCov"), "initCov");
            return this;
        }

        /**
         * Sets a full initial covariance over the raveled parameters. The builder keeps a
         * symmetrised copy on the matrix's manager, which must stay open until {@code init}.
         *
         * @param cov a symmetric positive-definite P-by-P matrix
         * @return this builder
         * @throws IllegalArgumentException when {@code cov} is not square, not finite, not
         *     symmetric or not positive definite
         */
        public Builder<B> initCov(NDArray cov) {
            this.initCov = symmetrised(cov, "initCov", true);
            return this;
        }

        /**
         * Builds the transform.
         *
         * @return the transform
         */
        public DenseEkf<B> build() {
            return new DenseEkf<>(
                    logLikelihood,
                    lr,
                    initCov,
                    transitionCov,
                    forward,
                    outerLogLikelihood,
                    perSample(),
                    batchSplitter());
        }
    }

    /**
     * Builds the initial state: mean {@code params} (copied), covariance {@code initCov}, log
     * likelihood NaN, step 0.
     *
     * @param params the initial mean
     * @return the state
     * @throws IllegalArgumentException when {@code params} has a non-finite entry (naming the leaf)
     *     or a given initial or transition covariance is not P-by-P for the P parameters
     * @throws IllegalStateException when {@code params} or a given matrix has been closed
     */
    @Override
    public DenseEkfState init(TensorTree params) {
        Checks.openTree(params, "params");
        Checks.finite(params, "params", 0);
        requireSize(transitionCov, params.numel());
        NDArray cov = initCov.matrix(params, "initCov");
        TensorTree mean = params.copy();
        NDArray nan = mean.manager().full(new Shape(), Float.NaN, mean.dataType(), mean.device());
        return new DenseEkfState(mean, cov, nan, 0);
    }

    /**
     * Computes the next state by writing into the arrays of {@code state}. When it throws, the
     * state is unchanged.
     *
     * @param state the current state; its arrays are overwritten
     * @param batch the batch
     * @return a state sharing the arrays of {@code state}, with the step advanced, and the aux
     * @throws IllegalArgumentException when the learning rate at this step is not positive, the log
     *     likelihood (or forward or outer function) returns a value of the wrong shape, the value,
     *     gradient or curvature is not finite, or the covariance has lost positive
     *     semi-definiteness; the message names the step
     * @throws IllegalStateException when an array of the state or the transition matrix has been
     *     closed
     */
    @Override
    public Step<DenseEkfState> updateInPlace(DenseEkfState state, B batch) {
        Checks.open(state);
        long step = state.step();
        double lrNow = TemperedBuilder.lrAt(lr, step);
        TensorTree params = state.params();
        long p = params.numel();
        requireSize(transitionCov, p);
        NDArray cov = state.cov();
        NDArray logLik = state.logLikelihood();
        NDList aux =
                EkfCurvature.update(
                        this,
                        params,
                        logLik,
                        batch,
                        step,
                        lin -> {
                            // predict: Sigma_p = Sigma + Q
                            NDArray predict = predict(cov, p);
                            // update by Woodbury, with F = U^T U:
                            // Sigma' = Sigma_p - A^T S^-1 A,  A = U Sigma_p,  S = I / lr + A U^T
                            NDArray u = compress(lin.factor(), p);
                            NDArray a = u.matMul(predict);
                            long r = u.getShape().get(0);
                            NDArray s = a.matMul(u.transpose()).add(eye(r, cov).divi(lrNow));
                            NDList eig = Linalg.eigh(s.add(s.transpose()).muli(0.5));
                            if (Scalars.value(eig.get(0).min()) <= 0) {
                                throw new IllegalArgumentException(
                                        Checks.format(
                                                "ekf update failed at step %d: the predicted"
                                                        + " covariance is not positive"
                                                        + " semi-definite",
                                                step));
                            }
                            // A^T S^-1 A = W^T W with W = diag(w)^-1/2 V^T A
                            NDArray w = eig.get(1).div(eig.get(0).sqrt()).transpose().matMul(a);
                            NDArray updated = predict.sub(w.transpose().matMul(w));
                            NDArray newCov = updated.add(updated.transpose()).muli(0.5);
                            // mu' = mu + lr Sigma' g
                            NDArray newMean =
                                    params.ravel()
                                            .add(
                                                    newCov.matMul(lin.grad().reshape(p, 1))
                                                            .reshape(p)
                                                            .muli(lrNow));
                            // everything is computed: only now write into the state
                            params.setFrom(params.unravel(newMean));
                            cov.set(new NDIndex("..."), newCov);
                        });
        return new Step<>(new DenseEkfState(params, cov, logLik, step + 1), aux);
    }

    /** The predicted covariance Sigma + Q. */
    private NDArray predict(NDArray cov, long p) {
        if (transitionCov instanceof InitialValue.Matrix m) {
            NDArray q = Checks.open(m.matrix(), "transitionCov");
            return cov.add(q.toType(cov.getDataType(), false).toDevice(cov.getDevice(), false));
        }
        double c = ((InitialValue.Constant) transitionCov).value();
        return c == 0 ? cov : cov.add(eye(p, cov).muli(c));
    }

    /** A factor of U^T U with at most P rows: the eigen square root of U^T U when r > P. */
    private static NDArray compress(NDArray u, long p) {
        if (u.getShape().get(0) <= p) {
            return u;
        }
        NDArray f = u.transpose().matMul(u);
        NDList eig = Linalg.eigh(f.add(f.transpose()).muli(0.5));
        return eig.get(1).mul(eig.get(0).maximum(0).sqrt()).transpose();
    }

    private static NDArray eye(long n, NDArray like) {
        return like.getManager()
                .eye((int) n, (int) n, 0, like.getDataType())
                .toDevice(like.getDevice(), false);
    }

    /** Checks that a transition matrix, if one was given, is P-by-P. */
    private static void requireSize(InitialValue transitionCov, long p) {
        if (transitionCov instanceof InitialValue.Matrix m) {
            NDArray q = Checks.open(m.matrix(), "transitionCov");
            if (!q.getShape().equals(new Shape(p, p))) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "transitionCov must have shape (%d, %d) for %d parameters, got %s",
                                p, p, p, q.getShape()));
            }
        }
    }

    /** Checks a covariance option: a number (positive or non-negative) or a checked matrix. */
    private static void checkCovariance(InitialValue value, String name, boolean definite) {
        Checks.notNull(value, name);
        if (value instanceof InitialValue.Constant c) {
            if (definite) {
                Checks.positive(c.value(), name);
            } else {
                Checks.nonNegative(c.value(), name);
            }
        } else if (value instanceof InitialValue.Matrix m) {
            checkMatrix(m.matrix(), name, definite);
        } else {
            throw new IllegalArgumentException(
                    Checks.format("%s must be a number or a (P, P) matrix", name));
        }
    }

    /** Checks a covariance matrix and returns a symmetrised copy on its manager. */
    private static InitialValue symmetrised(NDArray m, String name, boolean definite) {
        checkMatrix(m, name, definite);
        return InitialValue.of(
                Scopes.call(m.getManager(), () -> m.add(m.transpose()).muli(0.5), List::of), name);
    }

    /** Checks that a matrix is square, finite, symmetric and positive (semi-)definite. */
    private static void checkMatrix(NDArray m, String name, boolean definite) {
        Checks.open(m, name);
        Shape s = m.getShape();
        if (s.dimension() != 2 || s.get(0) != s.get(1) || s.get(0) < 1) {
            throw new IllegalArgumentException(
                    Checks.format("%s must be a square matrix, got shape %s", name, s));
        }
        Scopes.run(
                () -> {
                    NDArray d = m.toType(DataType.FLOAT64, false);
                    double scale = 0;
                    for (double v : d.toDoubleArray()) {
                        if (!Double.isFinite(v)) {
                            throw new IllegalArgumentException(
                                    Checks.format("%s must be finite, got %s", name, v));
                        }
                        scale = Math.max(scale, Math.abs(v));
                    }
                    double asym = d.sub(d.transpose()).abs().max().getDouble();
                    if (asym > MATRIX_TOL * scale) {
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "%s must be symmetric, got entries differing from their"
                                                + " transpose by %s",
                                        name, asym));
                    }
                    NDArray sym = m.add(m.transpose()).muli(0.5).toType(DataType.FLOAT64, false);
                    double minEig = Linalg.eigh(sym).get(0).min().getDouble();
                    if (definite ? !(minEig > 0) : minEig < -MATRIX_TOL * scale) {
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "%s must be positive %s, got smallest eigenvalue %s",
                                        name, definite ? "definite" : "semi-definite", minEig));
                    }
                });
    }
}
