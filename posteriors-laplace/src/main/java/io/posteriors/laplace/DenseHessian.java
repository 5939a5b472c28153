package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.posteriors.Autodiff;
import io.posteriors.Checks;
import io.posteriors.ForwardFn;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.ModelOutput;
import io.posteriors.OuterFn;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.internal.Scoped;
import java.util.List;

/**
 * Dense Laplace approximation with the Hessian of the log posterior: posteriors' {@code
 * laplace.dense_hessian}, the classical Laplace approximation (MacKay, "A practical Bayesian
 * framework for backpropagation networks", Neural Computation 1992; Daxberger, Kristiadi, Immer,
 * Eschenhagen, Bauer and Hennig, "Laplace Redux – Effortless Bayesian Deep Learning", NeurIPS
 * 2021).
 *
 * <p>The posterior is approximated by {@code N(θ*, prec^-1)} around parameters θ* (the MAP, found
 * beforehand); the parameters are not moved. Each batch adds the Hessian of the negative log
 * posterior over the raveled parameters ({@link TensorTree#ravel()} order), times {@code rescale},
 * plus {@code epsilon} on the diagonal (as in posteriors, epsilon is not rescaled):
 *
 * <pre>
 * prec ← prec + rescale · (-∇²_θ log p(θ | batch)) + epsilon · I   (at θ = θ*)
 * </pre>
 *
 * <p>starting from {@code initPrec} (0 by default as in posteriors, a scalar meaning that multiple
 * of the identity). The updates add, so one pass over the data with a log posterior that sums over
 * its batch (and carries the batch's share of the log prior) gives the full-data Hessian; with a
 * log posterior that averages over its batch, set {@code rescale} to the batch size.
 *
 * <p><b>The result may not be positive definite.</b> Away from an exact mode, or where the
 * network's own curvature is negative, the Hessian of the negative log posterior has negative
 * eigenvalues, and then sampling and the log density fail (the Cholesky factorisation of the
 * precision does, with a message saying so). Remedies: build around a well-converged MAP, add a
 * prior precision ({@code initPrec}), add {@code epsilon} to the diagonal of each batch's term, or
 * use {@link DenseGgn} (or {@link DenseFisher}), which is positive semi-definite by construction
 * and equals the Hessian for models linear in θ with Gaussian likelihoods.
 *
 * <p>The Hessian is computed exactly by double reverse mode: P reverse passes through the graph of
 * the gradient, inside one call ({@link Autodiff#ggn} with the identity as the model, whose GGN is
 * the Hessian of the outer function). It costs P^2 memory: use it on a small model or a subset of
 * the parameters. The log posterior is run once more, out of autograd, to return its aux.
 *
 * <p>Temperature: {@link #sample(DenseLaplaceState, int, double)} draws from {@code N(θ*, T
 * prec^-1)}; T = 1 is the Laplace posterior and T = 0 returns θ* exactly.
 *
 * @param <B> the batch type
 */
public final class DenseHessian<B> implements Transform<DenseLaplaceState, B> {

    private final LogProbFn<B> logPosterior;
    private final double initPrec;
    private final NDArray initPrecMatrix;
    private final double epsilon;
    private final double rescale;

    private DenseHessian(Builder<B> b) {
        this.logPosterior = b.logPosterior;
        this.initPrec = b.initPrec;
        this.initPrecMatrix = b.initPrecMatrix;
        this.epsilon = b.epsilon;
        this.rescale = b.rescale;
    }

    /**
     * Starts a builder.
     *
     * @param logPosterior the log posterior of a batch (unnormalised), returning a scalar
     * @param <B> the batch type
     * @return the builder
     * @throws NullPointerException when {@code logPosterior} is null
     */
    public static <B> Builder<B> builder(LogProbFn<B> logPosterior) {
        return new Builder<>(logPosterior);
    }

    /**
     * Options of {@link DenseHessian}.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> {
        private final LogProbFn<B> logPosterior;
        private double initPrec;
        private NDArray initPrecMatrix;
        private double epsilon;
        private double rescale = 1.0;

        private Builder(LogProbFn<B> logPosterior) {
            this.logPosterior = Checks.notNull(logPosterior, "logPosterior");
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
         * Sets the value added to the diagonal of each batch's term, for numerical stability and to
         * push an indefinite Hessian towards positive definiteness (default 0).
         *
         * @param epsilon the diagonal jitter; finite and non-negative
         * @return this builder
         * @throws IllegalArgumentException when the value is negative, NaN or infinite
         */
        public Builder<B> epsilon(double epsilon) {
            this.epsilon = Checks.nonNegative(epsilon, "epsilon");
            return this;
        }

        /**
         * Sets the factor the Hessian is multiplied by, e.g. the batch size when the log posterior
         * averages over its batch (default 1).
         *
         * @param rescale the factor; finite and positive
         * @return this builder
         * @throws IllegalArgumentException when the value is not positive or not finite
         */
        public Builder<B> rescale(double rescale) {
            this.rescale = Checks.positive(rescale, "rescale");
            return this;
        }

        /**
         * Builds the transform.
         *
         * @return the transform
         */
        public DenseHessian<B> build() {
            return new DenseHessian<>(this);
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
     * Returns a new state whose precision has this batch's rescaled negative Hessian (plus epsilon)
     * added; the input state is untouched.
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
     * Adds this batch's rescaled negative Hessian (plus epsilon) to the state's precision in place.
     *
     * @param state the current state; its precision is written to
     * @param batch the batch
     * @return a state sharing the arrays of {@code state}, one step on, and the aux of the log
     *     posterior
     * @throws IllegalArgumentException when the log posterior is not a finite scalar or its Hessian
     *     is not finite (the state is then unchanged)
     */
    @Override
    public Step<DenseLaplaceState> updateInPlace(DenseLaplaceState state, B batch) {
        Checks.notNull(state, "state");
        TensorTree params = state.params();
        NDArray term =
                Scoped.call(
                        params.manager(),
                        () -> {
                            NDArray h =
                                    DenseLaplace.symmetrize(
                                            negativeHessian(logPosterior, params, batch));
                            if (rescale != 1.0) {
                                h = h.mul(rescale);
                            }
                            if (epsilon != 0.0) {
                                h =
                                        h.add(
                                                h.getManager()
                                                        .eye((int) h.getShape().get(0))
                                                        .toType(h.getDataType(), false)
                                                        .mul(epsilon));
                            }
                            return h;
                        },
                        List::of);
        try {
            NDList aux = Calls.logProbAux(logPosterior, params, batch);
            try {
                return new Step<>(
                        DenseLaplace.accumulate(state, term, "Hessian of the log posterior"), aux);
            } catch (RuntimeException e) {
                aux.close();
                throw e;
            }
        } finally {
            term.close();
        }
    }

    /**
     * Returns the Hessian of {@code -f} over the raveled parameters, as the GGN of the identity
     * model {@code z = θ} under the loss {@code -f}: J = I, so J^T H J is that Hessian, computed by
     * one reverse pass per parameter through the graph of the gradient.
     */
    private static <B> NDArray negativeHessian(LogProbFn<B> f, TensorTree params, B batch) {
        long p = params.numel();
        ForwardFn<B> identity = (x, b) -> ModelOutput.of(x.ravel().reshape(1, p));
        OuterFn<B> negLogPosterior =
                (z, b) -> {
                    LogProb lp = f.apply(params.unravel(z.reshape(p)), b);
                    if (lp == null) {
                        throw new IllegalArgumentException(
                                "log probability function returned null");
                    }
                    if (lp.value().getShape().dimension() != 0) {
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "log posterior must return a scalar, got shape %s; sum or"
                                                + " average over the batch",
                                        lp.value().getShape()));
                    }
                    return lp.value().neg();
                };
        return Autodiff.ggn(identity, negLogPosterior, params, batch);
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
