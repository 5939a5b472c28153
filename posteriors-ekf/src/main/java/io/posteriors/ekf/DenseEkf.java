package io.posteriors.ekf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Checks;
import io.posteriors.ForwardFn;
import io.posteriors.Linalg;
import io.posteriors.LogProbFn;
import io.posteriors.OuterFn;
import io.posteriors.PerSample;
import io.posteriors.Scalars;
import io.posteriors.Schedule;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.internal.Scoped;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * TensorTree draws = DenseEkf.sample(state, 100);
 * }</pre>
 *
 * @param <B> the batch type
 */
public final class DenseEkf<B> implements Transform<DenseEkfState, B> {

    /** Relative tolerance of the symmetry and semi-definiteness checks of given matrices. */
    private static final double MATRIX_TOL = 1e-5;

    private final LogProbFn<B> logLikelihood;
    private final Schedule lr;
    private final double transitionCov;
    private final NDArray transitionCovMatrix;
    private final double initCov;
    private final NDArray initCovMatrix;
    private final ForwardFn<B> forward;
    private final OuterFn<B> outerLogLikelihood;

    private DenseEkf(Builder<B> b) {
        this.logLikelihood = PerSample.perSampleForm(b.logLikelihood, b.perSample, b.batchSplitter);
        this.lr = b.lr;
        this.transitionCov = b.transitionCov;
        this.transitionCovMatrix = b.transitionCovMatrix;
        this.initCov = b.initCov;
        this.initCovMatrix = b.initCovMatrix;
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
     * Options of {@link DenseEkf}, with posteriors' defaults.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> {
        private final LogProbFn<B> logLikelihood;
        private final Schedule lr;
        private double transitionCov = 0;
        private NDArray transitionCovMatrix;
        private boolean perSample = false;
        private Function<B, List<B>> batchSplitter;
        private double initCov = 1;
        private NDArray initCovMatrix;
        private ForwardFn<B> forward;
        private OuterFn<B> outerLogLikelihood;

        private Builder(LogProbFn<B> logLikelihood, Schedule lr) {
            this.logLikelihood = Checks.notNull(logLikelihood, "logLikelihood");
            this.lr = lr;
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
            this.transitionCov = Checks.nonNegative(c, "transitionCov");
            this.transitionCovMatrix = null;
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
            this.transitionCovMatrix = checkedMatrix(q, "transitionCov", false);
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
         * Sets the initial covariance to {@code c I} (default 1).
         *
         * @param c the variance; positive
         * @return this builder
         * @throws IllegalArgumentException when it is not positive and finite
         */
        public Builder<B> initCov(double c) {
            this.initCov = Checks.positive(c, "initCov");
            this.initCovMatrix = null;
            return this;
        }

        /**
         * Sets a full initial covariance over the raveled parameters. The builder keeps a
         * symmetrised copy on the matrix's manager.
         *
         * @param cov a symmetric positive-definite P-by-P matrix
         * @return this builder
         * @throws IllegalArgumentException when {@code cov} is not square, not finite, not
         *     symmetric or not positive definite
         */
        public Builder<B> initCov(NDArray cov) {
            this.initCovMatrix = checkedMatrix(cov, "initCov", true);
            return this;
        }

        /**
         * Uses the generalised Gauss-Newton matrix as the curvature instead of the empirical
         * Fisher. {@code outerLogLikelihood(forward(params, batch).output(), batch)} must equal the
         * log likelihood summed over the samples of the batch, {@code sum_i l_i}, whatever {@code
         * perSample} says (the convention of {@code ModelLogPosterior.outerLogLikelihood()} and of
         * the Laplace GGN transforms). The filter takes the Hessian of its negative divided by the
         * number of samples n, to match the mean {@code (1/n) sum_i l_i} it uses as the log
         * likelihood; the log likelihood itself gives the gradient. With a Gaussian observation
         * model and {@code lr = n} (1 for one observation per batch) this is the classical extended
         * Kalman filter.
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
        public DenseEkf<B> build() {
            return new DenseEkf<>(this);
        }
    }

    /**
     * Builds the initial state: mean {@code params} (copied), covariance {@code initCov}, log
     * likelihood NaN, step 0.
     *
     * @param params the initial mean
     * @return the state
     * @throws IllegalArgumentException when a given initial or transition covariance is not P-by-P
     *     for the P parameters
     * @throws IllegalStateException when {@code params} or a given matrix has been closed
     */
    @Override
    public DenseEkfState init(TensorTree params) {
        Checks.notNull(params, "params");
        params.forEach((k, a) -> Checks.open(a, "params leaf '" + k + "'"));
        long p = params.numel();
        requireSize(initCovMatrix, p, "initCov");
        requireSize(transitionCovMatrix, p, "transitionCov");
        TensorTree mean = params.copy();
        NDManager manager = mean.manager();
        NDArray cov;
        if (initCovMatrix == null) {
            cov = manager.eye((int) p, (int) p, 0, mean.dataType()).muli(initCov);
        } else {
            cov = EkfArrays.copyLike(initCovMatrix, mean.anyLeaf());
        }
        NDArray nan = EkfArrays.nanLike(mean.anyLeaf());
        return new DenseEkfState(mean, cov, nan, 0);
    }

    /**
     * Computes the next state without touching {@code state}.
     *
     * @param state the current state
     * @param batch the batch
     * @return the new state (new arrays) and the aux of the log likelihood
     * @throws IllegalArgumentException when the learning rate at this step is not positive, the log
     *     likelihood (or forward or outer function) returns a value of the wrong shape or a
     *     non-finite value, or the covariance has lost positive semi-definiteness; the message
     *     names the step
     */
    @Override
    public Step<DenseEkfState> update(DenseEkfState state, B batch) {
        Checks.notNull(state, "state");
        DenseEkfState copy =
                new DenseEkfState(
                        state.params().copy(),
                        state.cov().duplicate(),
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
    public Step<DenseEkfState> updateInPlace(DenseEkfState state, B batch) {
        Checks.notNull(state, "state");
        long step = state.step();
        double lrNow = Checks.positiveAt(lr, step, "lr");
        TensorTree params = state.params();
        params.forEach((k, a) -> Checks.open(a, "params leaf '" + k + "'"));
        long p = params.numel();
        requireSize(transitionCovMatrix, p, "transitionCov");
        NDArray cov = state.cov();
        NDList aux =
                Scoped.call(
                        params.manager(),
                        () -> {
                            EkfCurvature.Linearisation lin =
                                    EkfCurvature.compute(
                                            logLikelihood,
                                            forward,
                                            outerLogLikelihood,
                                            params,
                                            batch,
                                            step);
                            NDArray u = compress(lin.factor(), p);
                            NDArray predict = predict(cov, p);
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
                            // W^T W = A^T S^-1 A with W = diag(w)^-1/2 V^T A
                            NDArray w = eig.get(1).div(eig.get(0).sqrt()).transpose().matMul(a);
                            NDArray updated = predict.sub(w.transpose().matMul(w));
                            NDArray newCov = updated.add(updated.transpose()).muli(0.5);
                            NDArray newMean =
                                    params.ravel()
                                            .add(
                                                    newCov.matMul(lin.grad().reshape(p, 1))
                                                            .reshape(p)
                                                            .muli(lrNow));
                            // everything is computed: only now write into the state
                            params.setFrom(params.unravel(newMean));
                            cov.set(new NDIndex("..."), newCov);
                            state.logLikelihood()
                                    .set(
                                            new NDIndex("..."),
                                            lin.value()
                                                    .toType(
                                                            state.logLikelihood().getDataType(),
                                                            false));
                            return lin.aux();
                        },
                        x -> x);
        DenseEkfState next = new DenseEkfState(params, cov, state.logLikelihood(), step + 1);
        return new Step<>(next, aux);
    }

    /** The predicted covariance Sigma + Q. */
    private NDArray predict(NDArray cov, long p) {
        if (transitionCovMatrix != null) {
            Checks.open(transitionCovMatrix, "transitionCov");
            return cov.add(
                    transitionCovMatrix
                            .toType(cov.getDataType(), false)
                            .toDevice(cov.getDevice(), false));
        }
        if (transitionCov == 0) {
            return cov;
        }
        return cov.add(eye(p, cov).muli(transitionCov));
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

    /**
     * Draws one sample from the state's Normal, {@code mean + L z} with {@code L L^T = cov} and z
     * standard Normal from the engine's generator.
     *
     * @param state the state
     * @return a new tree with the parameters' structure
     * @throws IllegalArgumentException when the covariance is not positive definite
     */
    public static TensorTree sample(DenseEkfState state) {
        Checks.notNull(state, "state");
        TensorTree params = state.params();
        return Scoped.call(
                params.manager(),
                () -> {
                    NDArray flat = draw(state, 1).reshape(params.numel());
                    return params.unravel(flat).map(NDArray::duplicate);
                },
                TensorTree::leaves);
    }

    /**
     * Draws {@code n} samples from the state's Normal, stacked along a new leading dimension.
     *
     * @param state the state
     * @param n the number of samples; at least 1
     * @return a tree whose leaves have shape {@code (n, *leaf shape)}
     * @throws IllegalArgumentException when {@code n < 1} or the covariance is not positive
     *     definite
     */
    public static TensorTree sample(DenseEkfState state, int n) {
        Checks.notNull(state, "state");
        Checks.atLeast(n, 1, "n");
        TensorTree params = state.params();
        return Scoped.call(
                params.manager(),
                () -> {
                    NDArray rows = draw(state, n);
                    Map<String, NDArray> leaves = new LinkedHashMap<>();
                    long offset = 0;
                    for (String name : params.names()) {
                        Shape shape = params.get(name).getShape();
                        long size = shape.size();
                        NDArray cols = rows.get(new NDIndex(":, {}:{}", offset, offset + size));
                        leaves.put(name, cols.reshape(new Shape(n).addAll(shape)).duplicate());
                        offset += size;
                    }
                    return TensorTree.of(leaves);
                },
                TensorTree::leaves);
    }

    /**
     * Draws an (n, P) matrix of samples {@code mean + z R^T} with the symmetric square root {@code
     * R = V diag(sqrt(w))} of {@code cov = V diag(w) V^T}, which, unlike a Cholesky factor, also
     * serves a covariance that is singular (a parameter the data pinned down exactly).
     */
    private static NDArray draw(DenseEkfState state, int n) {
        NDArray cov = state.cov();
        Checks.open(cov, "cov");
        NDList eig = Linalg.eigh(cov.add(cov.transpose()).muli(0.5));
        double min = Scalars.value(eig.get(0).min());
        double max = Scalars.value(eig.get(0).max());
        // rounding leaves eigenvalues of a semi-definite matrix at about -eps * max
        double eps = cov.getDataType() == DataType.FLOAT64 ? 1e-12 : 1e-5;
        if (!(min >= -eps * Math.abs(max))) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "cannot sample: cov must be positive semi-definite, got smallest"
                                    + " eigenvalue %s (largest %s)",
                            min, max));
        }
        NDArray root = eig.get(1).mul(eig.get(0).maximum(0).sqrt());
        long p = cov.getShape().get(0);
        NDArray z =
                cov.getManager()
                        .randomNormal(0, 1, new Shape(n, p), cov.getDataType(), cov.getDevice());
        return z.matMul(root.transpose()).add(state.params().ravel());
    }

    private static void requireSize(NDArray matrix, long p, String name) {
        if (matrix == null) {
            return;
        }
        Checks.open(matrix, name);
        if (!matrix.getShape().equals(new Shape(p, p))) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "%s must have shape (%d, %d) for %d parameters, got %s",
                            name, p, p, p, matrix.getShape()));
        }
    }

    /** Checks a covariance matrix and returns a symmetrised copy on its manager. */
    private static NDArray checkedMatrix(NDArray m, String name, boolean definite) {
        Checks.open(m, name);
        Shape s = m.getShape();
        if (s.dimension() != 2 || s.get(0) != s.get(1) || s.get(0) < 1) {
            throw new IllegalArgumentException(
                    Checks.format("%s must be a square matrix, got shape %s", name, s));
        }
        NDArray copy =
                Scoped.call(
                        m.getManager(),
                        () -> {
                            NDArray d = m.toType(DataType.FLOAT64, false);
                            double[] values = d.toDoubleArray();
                            double scale = 0;
                            for (double v : values) {
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
                                                "%s must be symmetric, got entries differing from"
                                                        + " their transpose by %s",
                                                name, asym));
                            }
                            NDArray sym = m.add(m.transpose()).muli(0.5);
                            double minEig =
                                    Linalg.eigh(sym.toType(DataType.FLOAT64, false))
                                            .get(0)
                                            .min()
                                            .getDouble();
                            if (definite ? !(minEig > 0) : minEig < -MATRIX_TOL * scale) {
                                throw new IllegalArgumentException(
                                        Checks.format(
                                                "%s must be positive %s, got smallest eigenvalue"
                                                        + " %s",
                                                name,
                                                definite ? "definite" : "semi-definite",
                                                minEig));
                            }
                            return sym;
                        },
                        List::of);
        return copy;
    }
}
