package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.posteriors.Checks;
import io.posteriors.Curvature;
import io.posteriors.ForwardFn;
import io.posteriors.InitialValue;
import io.posteriors.OuterFn;
import io.posteriors.Scopes;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
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
 * costs P^2 memory and one reverse pass per output element ({@link Curvature#ggn}): use it on a
 * small model or a subset of the parameters (last layer); the forward function is run once more,
 * out of autograd, to return its aux.
 *
 * <p>Temperature: {@link DenseLaplaceState#sample(int, double)} draws from {@code N(θ*, T
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
 * @param forward the model's forward function, batch-first outputs (e.g. logits)
 * @param outerLogLikelihood the log likelihood of the batch given the outputs, a scalar summed over
 *     the batch
 * @param initPrec the initial precision (the prior precision): a non-negative number times the
 *     identity, or a symmetric {@code (P, P)} matrix with a non-negative diagonal
 * @param <B> the batch type
 */
public record DenseGgn<B>(
        ForwardFn<B> forward, OuterFn<B> outerLogLikelihood, InitialValue initPrec)
        implements Transform<DenseLaplaceState, B> {

    /**
     * Checks the options.
     *
     * @throws NullPointerException when a function or {@code initPrec} is null
     * @throws IllegalArgumentException when the initial precision is negative, not finite or not
     *     symmetric
     */
    public DenseGgn {
        Checks.notNull(forward, "forward");
        Checks.notNull(outerLogLikelihood, "outerLogLikelihood");
        DenseLaplaceState.requireInitPrec(initPrec);
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
        private InitialValue initPrec = new InitialValue.Constant(0);

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
         * Builds the transform.
         *
         * @return the transform
         */
        public DenseGgn<B> build() {
            return new DenseGgn<>(forward, outerLogLikelihood, initPrec);
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
        Checks.open(state);
        TensorTree params = state.params();
        // prec += Jᵀ H J
        try (NDArray ggn =
                Scopes.call(
                        params.manager(),
                        () ->
                                DenseLaplaceState.symmetrize(
                                        Curvature.ggn(
                                                Calls.batchFirst(forward, batch),
                                                Calls.negate(outerLogLikelihood),
                                                params,
                                                batch)),
                        List::of)) {
            NDList aux = Calls.forwardAux(forward, params, batch);
            try {
                return new Step<>(state.add(ggn, "GGN"), aux);
            } catch (RuntimeException e) {
                aux.close();
                throw e;
            }
        }
    }
}
