package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.posteriors.Autodiff;
import io.posteriors.Checks;
import io.posteriors.ForwardFn;
import io.posteriors.OuterFn;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.internal.Scoped;
import java.util.List;

/**
 * Dense Laplace approximation with the generalised Gauss-Newton matrix: posteriors' {@code
 * laplace.dense_ggn}.
 *
 * <p>The posterior is approximated by {@code N(θ*, prec^-1)} around parameters θ* (the MAP, found
 * beforehand); the parameters are not moved. With {@code z = f(θ)} the model outputs of a batch
 * (the forward function, batch-first) and {@code L(z) = -log p(y | z)} the loss (the negative of
 * the outer log likelihood), each batch adds the GGN over the raveled parameters ({@link
 * TensorTree#ravel()} order):
 *
 * <pre>
 * prec ← prec + J^T H J,   J = ∂z/∂θ,  H = ∂²L/∂z²   (at θ = θ*)
 * </pre>
 *
 * <p>starting from {@code initPrec} (the prior precision; 0 by default as in posteriors, a scalar
 * meaning that multiple of the identity). The updates add, so one pass over the data gives the
 * full-data GGN. The GGN is the Hessian without the network's second derivatives, positive
 * semi-definite whenever the loss is convex in the outputs, and equal to the Fisher information for
 * an exponential-family likelihood with the outputs as natural parameters (Schraudolph, "Fast
 * curvature matrix-vector products for second-order gradient descent", Neural Computation 2002;
 * Martens, "New insights and perspectives on the natural gradient method", JMLR 2020; Immer,
 * Korzepa and Bauer, "Improving predictions of Bayesian neural nets via local linearization",
 * AISTATS 2021). For a model linear in θ with a Gaussian likelihood it is the exact Hessian. It
 * costs P^2 memory and one reverse pass per output element ({@link Autodiff#ggn}): use it on a
 * small model or a subset of the parameters (last layer); the forward function is run once more,
 * out of autograd, to return its aux.
 *
 * <p>Temperature: {@link #sample(DenseLaplaceState, int, double)} draws from {@code N(θ*, T
 * prec^-1)}; T = 1 is the Laplace posterior and T = 0 returns θ* exactly.
 *
 * <pre>{@code
 * TensorTree head = map.subset(n -> n.startsWith("05Linear"));   // the last layer
 * ForwardFn<Batch> headForward = (p, b) -> forward.apply(map.merge(p), b);
 * Transform<DenseLaplaceState, Batch> t =
 *         DenseGgn.builder(headForward, outerLogLik).initPrec(1.0).build();
 * DenseLaplaceState state = t.init(head);
 * }</pre>
 *
 * @param <B> the batch type
 */
public final class DenseGgn<B> implements Transform<DenseLaplaceState, B> {

    private final ForwardFn<B> forward;
    private final OuterFn<B> loss;
    private final double initPrec;
    private final NDArray initPrecMatrix;

    private DenseGgn(Builder<B> b) {
        this.forward = b.forward;
        this.loss = Calls.negate(b.outerLogLikelihood);
        this.initPrec = b.initPrec;
        this.initPrecMatrix = b.initPrecMatrix;
    }

    /**
     * Starts a builder.
     *
     * @param forward the model's forward function, batch-first outputs (e.g. logits)
     * @param outerLogLikelihood the log likelihood of the batch given the outputs, a scalar summed
     *     over the batch (e.g. {@code LogLikelihoods.categorical(logits, y).sum()})
     * @param <B> the batch type
     * @return the builder
     * @throws NullPointerException when an argument is null
     */
    public static <B> Builder<B> builder(ForwardFn<B> forward, OuterFn<B> outerLogLikelihood) {
        return new Builder<>(forward, outerLogLikelihood);
    }

    /**
     * Options of {@link DenseGgn}.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> {
        private final ForwardFn<B> forward;
        private final OuterFn<B> outerLogLikelihood;
        private double initPrec;
        private NDArray initPrecMatrix;

        private Builder(ForwardFn<B> forward, OuterFn<B> outerLogLikelihood) {
            this.forward = Checks.notNull(forward, "forward");
            this.outerLogLikelihood = Checks.notNull(outerLogLikelihood, "outerLogLikelihood");
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
         * Builds the transform.
         *
         * @return the transform
         */
        public DenseGgn<B> build() {
            return new DenseGgn<>(this);
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
     * Returns a new state whose precision has this batch's GGN added; the input state is untouched.
     *
     * @param state the current state
     * @param batch the batch
     * @return the new state and the aux of the forward function
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
     * Adds this batch's GGN to the state's precision in place.
     *
     * @param state the current state; its precision is written to
     * @param batch the batch
     * @return a state sharing the arrays of {@code state}, one step on, and the aux of the forward
     *     function
     * @throws IllegalArgumentException when the forward output is not batch-first, the outer log
     *     likelihood is not a finite scalar or the GGN is not finite (the state is then unchanged)
     */
    @Override
    public Step<DenseLaplaceState> updateInPlace(DenseLaplaceState state, B batch) {
        Checks.notNull(state, "state");
        NDArray ggn =
                Scoped.call(
                        state.params().manager(),
                        () ->
                                DenseLaplace.symmetrize(
                                        Autodiff.ggn(
                                                Calls.batchFirst(forward, batch),
                                                loss,
                                                state.params(),
                                                batch)),
                        List::of);
        try {
            NDList aux = Calls.forwardAux(forward, state.params(), batch);
            try {
                return new Step<>(DenseLaplace.accumulate(state, ggn, "GGN"), aux);
            } catch (RuntimeException e) {
                aux.close();
                throw e;
            }
        } finally {
            ggn.close();
        }
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
