package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * A log posterior with a known structure: a per-sample log likelihood of a DJL model's outputs,
 * averaged over the batch, plus a log prior divided by the data-set size N, the form posteriors
 * recommends (see {@code docs/log-posteriors.md}):
 *
 * <pre>
 * f(params, batch) = (1/b) sum_i logLik(model(params, x_i), batch)_i + logPrior(params) / N
 * </pre>
 *
 * <p>It is an ordinary {@link LogProbFn} (value as above, aux the model outputs), so every method
 * accepts it. Knowing the structure lets the library compute per-sample gradients, the diagonal
 * empirical Fisher and their sums from one reverse pass and per-layer outer products when the model
 * is a {@code SequentialBlock} of {@code Linear} layers and parameter-free blocks (see {@link
 * Autodiff#perSampleGradMoments}, {@link Curvature#diagGgn(ModelLogPosterior, TensorTree, Object)}
 * and {@link Curvature#linearizedForwardDiag(ModelLogPosterior, TensorTree, Object, TensorTree)});
 * the library finds the structure through {@link #structure()}, so a wrapper that hides it takes
 * the generic exact path, as other models and hand-written lambdas do.
 *
 * <pre>{@code
 * ModelLogPosterior<Batch> logPost =
 *         ModelLogPosterior.builder(model, Batch::inputs, (o, b) -> LogLikelihoods.categorical(o, b.y()))
 *                 .prior(GaussianPrior.isotropic(0, 1), n)
 *                 .build();
 * var laplace = DiagFisher.builder(logPost).build();
 * }</pre>
 *
 * @param <B> the batch type
 */
public final class ModelLogPosterior<B> implements LogProbFn<B> {

    private final FunctionalModel model;
    private final Function<B, NDList> inputs;
    private final OutputLogLikelihood<B> logLikelihood;
    private final Function<TensorTree, NDArray> logPrior;
    // the same prior with a known gradient, or null
    private final GaussianPrior gaussianPrior;
    private final double dataSize;
    private final boolean perSample;
    // the fast paths, shared by the batch and per-sample forms (they need the same parts)
    private final LinearProbing<B> probing;

    private ModelLogPosterior(
            FunctionalModel model,
            Function<B, NDList> inputs,
            OutputLogLikelihood<B> logLikelihood,
            Function<TensorTree, NDArray> logPrior,
            GaussianPrior gaussianPrior,
            double dataSize,
            boolean perSample,
            LinearProbing<B> probing) {
        this.model = model;
        this.inputs = inputs;
        this.logLikelihood = logLikelihood;
        this.logPrior = logPrior;
        this.gaussianPrior = gaussianPrior;
        this.dataSize = dataSize;
        this.perSample = perSample;
        this.probing = probing == null ? new LinearProbing<>(this) : probing;
    }

    /**
     * Starts a builder.
     *
     * @param model the model
     * @param inputs extracts the model inputs from a batch
     * @param logLikelihood the per-sample log likelihood of the outputs
     * @param <B> the batch type
     * @return the builder
     */
    public static <B> Builder<B> builder(
            FunctionalModel model,
            Function<B, NDList> inputs,
            OutputLogLikelihood<B> logLikelihood) {
        return new Builder<>(model, inputs, logLikelihood);
    }

    /**
     * Options of {@link ModelLogPosterior}.
     *
     * @param <B> the batch type
     */
    public static final class Builder<B> {
        private final FunctionalModel model;
        private final Function<B, NDList> inputs;
        private final OutputLogLikelihood<B> logLikelihood;
        private Function<TensorTree, NDArray> logPrior;
        private GaussianPrior gaussianPrior;
        private double dataSize = 1;

        private Builder(
                FunctionalModel model,
                Function<B, NDList> inputs,
                OutputLogLikelihood<B> logLikelihood) {
            this.model = Checks.notNull(model, "model");
            this.inputs = Checks.notNull(inputs, "inputs");
            this.logLikelihood = Checks.notNull(logLikelihood, "logLikelihood");
        }

        /**
         * Adds a log prior, divided by the data-set size in the log posterior.
         *
         * @param logPrior the log prior density of the parameters (a scalar)
         * @param dataSize the number of training samples N; positive
         * @return this builder
         * @throws IllegalArgumentException when {@code dataSize} is not positive
         */
        public Builder<B> prior(Function<TensorTree, NDArray> logPrior, double dataSize) {
            this.logPrior = Checks.notNull(logPrior, "logPrior");
            this.gaussianPrior = null;
            this.dataSize = Checks.positive(dataSize, "dataSize");
            return this;
        }

        /**
         * Adds a Gaussian log prior (normalised), divided by the data-set size in the log
         * posterior. The value is that of {@code prior.logProb}; gradients of the log posterior
         * ({@link Autodiff#valueAndGrad}, so every sampler, VI and optimiser step) and the
         * per-sample fast paths add its gradient analytically instead of differentiating it.
         *
         * @param prior the prior
         * @param dataSize the number of training samples N; positive
         * @return this builder
         * @throws IllegalArgumentException when {@code dataSize} is not positive
         */
        public Builder<B> prior(GaussianPrior prior, double dataSize) {
            Checks.notNull(prior, "prior");
            this.logPrior = prior::logProb;
            this.gaussianPrior = prior;
            this.dataSize = Checks.positive(dataSize, "dataSize");
            return this;
        }

        /**
         * Builds the log posterior (a scalar per batch).
         *
         * @return the function
         */
        public ModelLogPosterior<B> build() {
            return new ModelLogPosterior<>(
                    model, inputs, logLikelihood, logPrior, gaussianPrior, dataSize, false, null);
        }
    }

    /**
     * Returns the same log posterior evaluated per sample: entry i is {@code logLik_i + logPrior /
     * N}, the value posteriors' {@code per_samplify} gives for a batch of one. The entries sum to b
     * times this function's value.
     *
     * @return the per-sample function
     */
    public ModelLogPosterior<B> perSample() {
        return perSample
                ? this
                : new ModelLogPosterior<>(
                        model,
                        inputs,
                        logLikelihood,
                        logPrior,
                        gaussianPrior,
                        dataSize,
                        true,
                        probing);
    }

    /**
     * Returns whether this function returns one value per sample.
     *
     * @return true for the per-sample form
     */
    public boolean isPerSample() {
        return perSample;
    }

    /**
     * Returns the model.
     *
     * @return the functional model
     */
    public FunctionalModel model() {
        return model;
    }

    /**
     * Returns the forward function (the model outputs for the batch's inputs).
     *
     * @return the forward function
     */
    public ForwardFn<B> forward() {
        return (p, b) -> ModelOutput.of(model.forward(p, inputsOf(b)).singletonOrThrow());
    }

    /**
     * Returns the summed log likelihood of the outputs, the outer function of GGN methods.
     *
     * @return the outer log likelihood
     */
    public OuterFn<B> outerLogLikelihood() {
        return (o, b) -> logLikelihood.apply(o, b).sum();
    }

    /**
     * Returns this function: its structure is known.
     *
     * @return this log posterior
     */
    @Override
    public Optional<ModelLogPosterior<B>> structure() {
        return Optional.of(this);
    }

    @Override
    public LogProb apply(TensorTree params, B batch) {
        NDArray outputs = model.forward(params, inputsOf(batch)).singletonOrThrow();
        return new LogProb(combine(outputs, params, batch), new NDList(outputs));
    }

    /**
     * Returns the prior with an analytic gradient, or null when the prior is absent or a function.
     */
    GaussianPrior gaussianPrior() {
        return gaussianPrior;
    }

    double dataSize() {
        return dataSize;
    }

    /**
     * Evaluates the log likelihood part alone (mean or per sample, as this function is), with the
     * model outputs as aux: the part a gradient step differentiates when the prior's gradient is
     * analytic.
     */
    LogProb applyLikelihood(TensorTree params, B batch) {
        NDArray outputs = model.forward(params, inputsOf(batch)).singletonOrThrow();
        return new LogProb(likelihoodValue(outputs, batch), new NDList(outputs));
    }

    private NDArray likelihoodValue(NDArray outputs, B batch) {
        NDArray ll = logLikelihood.apply(outputs, batch);
        if (ll == null || ll.getShape().dimension() != 1) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "logLikelihood must return one value per sample, got %s",
                            ll == null ? "null" : "shape " + ll.getShape()));
        }
        return perSample ? ll : ll.mean();
    }

    /** Evaluates from outputs already computed (the fast path's probed forward). */
    NDArray combine(NDArray outputs, TensorTree params, B batch) {
        NDArray value = likelihoodValue(outputs, batch);
        if (logPrior != null) {
            NDArray prior = Objects.requireNonNull(logPrior.apply(params), "logPrior result");
            value = value.add(prior.div(Scalars.like(prior, dataSize)));
        }
        return value;
    }

    NDList inputsOf(B batch) {
        return Checks.notNull(inputs.apply(batch), "inputs of the batch");
    }

    /**
     * Returns the log prior divided by N at the parameters, or null without a prior.
     *
     * @param params the parameters
     * @return the scaled log prior
     */
    NDArray scaledPrior(TensorTree params) {
        if (logPrior == null) {
            return null;
        }
        NDArray prior = logPrior.apply(params);
        return prior.div(Scalars.like(prior, dataSize));
    }

    LinearProbing<B> probing() {
        return probing;
    }

    OutputLogLikelihood<B> logLikelihood() {
        return logLikelihood;
    }
}
