package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.posteriors.Checks;
import io.posteriors.Curvature;
import io.posteriors.ForwardFn;
import io.posteriors.InitialValue;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.ModelOutput;
import io.posteriors.OuterFn;
import io.posteriors.Scopes;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
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
 * the gradient, inside one call ({@link Curvature#ggn} with the identity as the model, whose GGN is
 * the Hessian of the outer function). It costs P^2 memory: use it on a small model or a subset of
 * the parameters. The log posterior is run once more, out of autograd, to return its aux.
 *
 * <p>Temperature: {@link DenseLaplaceState#sample(int, double)} draws from {@code N(θ*, T
 * prec^-1)}; T = 1 is the Laplace posterior and T = 0 returns θ* exactly.
 *
 * @param logPosterior the log posterior of a batch (unnormalised), returning a scalar
 * @param initPrec the initial precision: a non-negative number times the identity, or a symmetric
 *     {@code (P, P)} matrix with a non-negative diagonal
 * @param epsilon the value added to the diagonal of each batch's term; non-negative
 * @param rescale the factor the Hessian is multiplied by; positive
 * @param <B> the batch type
 */
public record DenseHessian<B>(
        LogProbFn<B> logPosterior, InitialValue initPrec, double epsilon, double rescale)
        implements Transform<DenseLaplaceState, B> {

    /**
     * Checks the options.
     *
     * @throws NullPointerException when {@code logPosterior} or {@code initPrec} is null
     * @throws IllegalArgumentException when the initial precision is negative, not finite or not
     *     symmetric, {@code epsilon} is negative or not finite, or {@code rescale} is not positive
     *     and finite
     */
    public DenseHessian {
        Checks.notNull(logPosterior, "logPosterior");
        DenseLaplaceState.requireInitPrec(initPrec);
        Checks.nonNegative(epsilon, "epsilon");
        Checks.positive(rescale, "rescale");
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
        private InitialValue initPrec = new InitialValue.Constant(0);
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
            this.initPrec =
                    DenseLaplaceState.requireInitPrec(InitialValue.of(initPrec, "initPrec"));
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
            this.initPrec =
                    DenseLaplaceState.requireInitPrec(InitialValue.of(initPrec, "initPrec"));
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
            return new DenseHessian<>(logPosterior, initPrec, epsilon, rescale);
        }
    }

    /**
     * Returns the state at step 0: a copy of {@code params} as the mean and the initial precision.
     *
     * @param params the parameters to build the approximation around (usually the MAP)
     * @return the state
     * @throws IllegalArgumentException when {@code params} is not finite, or an initial precision
     *     matrix is not (P, P) for its P elements
     */
    @Override
    public DenseLaplaceState init(TensorTree params) {
        return DenseLaplaceState.init(params, initPrec);
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
        Checks.open(state);
        TensorTree params = state.params();
        // prec += rescale · (-∇² log p(θ | batch)) + epsilon · I
        try (NDArray term =
                Scopes.call(
                        params.manager(),
                        () -> {
                            NDArray h =
                                    DenseLaplaceState.symmetrize(
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
                        List::of)) {
            NDList aux = Calls.logProbAux(logPosterior, params, batch);
            try {
                return new Step<>(state.add(term, "Hessian of the log posterior"), aux);
            } catch (RuntimeException e) {
                aux.close();
                throw e;
            }
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
        return Curvature.ggn(identity, negLogPosterior, params, batch);
    }
}
