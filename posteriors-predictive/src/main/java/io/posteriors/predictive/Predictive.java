package io.posteriors.predictive;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Checks;
import io.posteriors.Curvature;
import io.posteriors.ForwardFn;
import io.posteriors.FunctionalModel;
import io.posteriors.GaussianPosterior;
import io.posteriors.ModelOutput;
import io.posteriors.Posterior;
import io.posteriors.SamplePosterior;
import io.posteriors.Scopes;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * From a posterior over parameters and a model to predictions with uncertainty, in one call:
 *
 * <pre>{@code
 * Predictive p = Predictive.linearised(laplaceState, model).build();   // GLM predictive, probit
 * try (Prediction.Classification y = (Prediction.Classification) p.predict(new NDList(x))) {
 *     y.probs();  y.epistemic();
 * }
 * }</pre>
 *
 * <p><b>Monte Carlo</b> ({@link #monteCarlo}): {@code S} parameter samples from any {@link
 * Posterior} (a Gaussian state at the chosen temperature, the samples of a trace, pooled chains, an
 * ensemble); the predictive is the average of the per-sample predictives. <b>Linearised</b> ({@link
 * #linearised}): the model is replaced by its first-order expansion at the posterior mean, {@code
 * f(x, θ) ≈ f(x, μ) + J(x) (θ - μ)}, so the outputs are Gaussian with covariance {@code T J Σ Jᵀ}
 * (the GLM predictive of Immer, Korzepa and Bauer, "Improving predictions of Bayesian neural nets
 * via local linearization", AISTATS 2021). For classification the mean predictive is the
 * multi-class probit approximation {@code softmax(f / sqrt(1 + π/8 diag(T J Σ Jᵀ)))} (or the Monte
 * Carlo average over output samples with {@code probit(false)}), and the uncertainty split uses
 * {@code S} output samples {@code f + J (θ_s - μ)}; for regression the epistemic variance is exact.
 *
 * <p>Inputs are what a user has at prediction time: an {@link NDList} of model inputs, no labels.
 * {@link #classifyAll} and {@link #regressAll} stream a whole dataset batch by batch and keep only
 * Java arrays of the results, so device memory stays bounded by one batch. The linearised
 * predictive forms a Jacobian with {@code outputs x parameters} entries per input: use it on the
 * last layer or another subnetwork ({@link Builder#fixedParams}), or in small batches.
 *
 * @param posterior the posterior over the parameters it covers
 * @param model the model
 * @param likelihood what the outputs mean
 * @param linearised whether the model is linearised at the mean
 * @param samples the number of Monte Carlo samples {@code S}, or 0 for all of a sample posterior
 * @param temperature the temperature at which a Gaussian posterior is used
 * @param probit whether the linearised classification mean uses the probit approximation
 * @param keepSamples whether predictions keep the per-sample predictives
 * @param fixedParams parameters the posterior does not cover, held at these values (or null)
 */
public record Predictive(
        Posterior posterior,
        FunctionalModel model,
        Likelihood likelihood,
        boolean linearised,
        int samples,
        double temperature,
        boolean probit,
        boolean keepSamples,
        TensorTree fixedParams) {

    /**
     * Checks the options.
     *
     * @throws NullPointerException when the posterior, model or likelihood is null
     * @throws IllegalArgumentException when an option is out of range, or a linearised predictive
     *     is asked of a posterior that is not Gaussian, or a sample posterior is given a
     *     temperature other than 1
     */
    public Predictive {
        Checks.notNull(posterior, "posterior");
        Checks.notNull(model, "model");
        Checks.notNull(likelihood, "likelihood");
        Checks.atLeast(samples, 0, "samples");
        Checks.nonNegative(temperature, "temperature");
        if (linearised && !(posterior instanceof GaussianPosterior)) {
            throw new IllegalArgumentException(
                    "a linearised predictive needs a Gaussian posterior, got "
                            + posterior.getClass().getSimpleName());
        }
        if (!(posterior instanceof GaussianPosterior) && temperature != 1.0) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "temperature must be 1 for a posterior given by samples (%s), got %s;"
                                    + " temper the sampler instead",
                            posterior.getClass().getSimpleName(), temperature));
        }
        if (samples == 0 && !(posterior instanceof SamplePosterior)) {
            throw new IllegalArgumentException(
                    "samples must be at least 1 unless the posterior is a SamplePosterior, got 0");
        }
    }

    /**
     * Starts a Monte Carlo predictive over parameter samples.
     *
     * @param posterior any posterior; a {@link SamplePosterior} uses all its samples unless {@link
     *     Builder#samples} is set
     * @param model the model, evaluated with each sample's parameters
     * @return the builder (defaults: categorical outputs, 32 samples, temperature 1)
     * @throws NullPointerException when an argument is null
     */
    public static Builder monteCarlo(Posterior posterior, FunctionalModel model) {
        return new Builder(posterior, model, false);
    }

    /**
     * Starts a linearised (GLM) predictive.
     *
     * @param posterior a Gaussian posterior
     * @param model the model, linearised at the posterior mean
     * @return the builder (defaults: categorical outputs, probit mean, 32 output samples for the
     *     uncertainty split, temperature 1)
     * @throws NullPointerException when an argument is null
     */
    public static Builder linearised(GaussianPosterior posterior, FunctionalModel model) {
        return new Builder(posterior, model, true);
    }

    /** Options of a {@link Predictive}; every setter returns this builder. */
    public static final class Builder {
        private final Posterior posterior;
        private final FunctionalModel model;
        private final boolean linearised;
        private Likelihood likelihood = Likelihood.categorical();
        private Integer samples;
        private double temperature = 1.0;
        private boolean probit = true;
        private boolean keepSamples;
        private TensorTree fixedParams;

        private Builder(Posterior posterior, FunctionalModel model, boolean linearised) {
            this.posterior = Checks.notNull(posterior, "posterior");
            this.model = Checks.notNull(model, "model");
            this.linearised = linearised;
        }

        /**
         * Sets what the outputs mean (default {@link Likelihood#categorical()}).
         *
         * @param likelihood the likelihood
         * @return this builder
         * @throws NullPointerException when {@code likelihood} is null
         */
        public Builder likelihood(Likelihood likelihood) {
            this.likelihood = Checks.notNull(likelihood, "likelihood");
            return this;
        }

        /**
         * Sets the number of Monte Carlo samples (default 32; a {@link SamplePosterior} in a Monte
         * Carlo predictive uses all of its samples by default).
         *
         * @param samples at least 1
         * @return this builder
         * @throws IllegalArgumentException when {@code samples < 1}
         */
        public Builder samples(int samples) {
            this.samples = Checks.atLeast(samples, 1, "samples");
            return this;
        }

        /**
         * Sets the temperature at which a Gaussian posterior is used: its covariance is scaled by
         * {@code T} (default 1; 0 gives the MAP's prediction).
         *
         * @param temperature non-negative and finite
         * @return this builder
         * @throws IllegalArgumentException when the temperature is negative, NaN or infinite
         */
        public Builder temperature(double temperature) {
            this.temperature = Checks.nonNegative(temperature, "temperature");
            return this;
        }

        /**
         * Sets whether a linearised classification mean uses the probit approximation (default
         * true) or the Monte Carlo average over output samples.
         *
         * @param probit whether to use the probit approximation
         * @return this builder
         */
        public Builder probit(boolean probit) {
            this.probit = probit;
            return this;
        }

        /**
         * Sets whether predictions keep the per-sample predictives (default false).
         *
         * @param keepSamples whether to keep them
         * @return this builder
         */
        public Builder keepSamples(boolean keepSamples) {
            this.keepSamples = keepSamples;
            return this;
        }

        /**
         * Holds the parameters the posterior does not cover at fixed values, for a posterior over a
         * subnetwork (for example the last layer) with the rest of the network at the MAP.
         *
         * @param fixedParams every parameter of the model; the posterior's leaves replace theirs
         * @return this builder
         * @throws NullPointerException when {@code fixedParams} is null
         */
        public Builder fixedParams(TensorTree fixedParams) {
            this.fixedParams = Checks.openTree(fixedParams, "fixedParams");
            return this;
        }

        /**
         * Builds the predictive.
         *
         * @return the predictive
         * @throws IllegalArgumentException when the options do not fit the posterior
         */
        public Predictive build() {
            int s = samples != null ? samples : (posterior instanceof SamplePosterior ? 0 : 32);
            if (linearised && s == 0) {
                s = 32;
            }
            return new Predictive(
                    posterior,
                    model,
                    likelihood,
                    linearised,
                    s,
                    temperature,
                    probit,
                    keepSamples,
                    fixedParams);
        }
    }

    /**
     * Predicts for one batch of inputs.
     *
     * @param inputs the model inputs (no labels)
     * @return a {@link Prediction.Classification} or {@link Prediction.Regression} whose arrays
     *     live on the inputs' manager
     * @throws IllegalArgumentException when the inputs are empty, the posterior's parameters do not
     *     fit the model, or the outputs do not fit the likelihood
     */
    public Prediction predict(NDList inputs) {
        Checks.notNull(inputs, "inputs");
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("inputs must hold at least one array, got none");
        }
        var owner = inputs.head().getManager();
        return Scopes.call(
                owner,
                () -> linearised ? linearisedPrediction(inputs) : monteCarloPrediction(inputs),
                Predictive::arraysOf);
    }

    /**
     * Streams classification predictions over a dataset, batch by batch, keeping Java arrays only.
     *
     * @param batches the input batches
     * @return one row per input (per position for sequence outputs), in order
     * @throws IllegalStateException when the likelihood is not a classification likelihood
     */
    public ClassPredictions classifyAll(Iterable<NDList> batches) {
        return classifyAll(batches, done -> {});
    }

    /**
     * Streams classification predictions, reporting progress after each batch.
     *
     * @param batches the input batches
     * @param progress called with the number of batches done so far
     * @return one row per input (per position for sequence outputs), in order
     * @throws IllegalStateException when the likelihood is not a classification likelihood
     */
    public ClassPredictions classifyAll(Iterable<NDList> batches, IntConsumer progress) {
        if (!likelihood.classification()) {
            throw new IllegalStateException("classifyAll needs a classification likelihood");
        }
        List<double[]> probs = new ArrayList<>();
        List<Double> total = new ArrayList<>();
        List<Double> aleatoric = new ArrayList<>();
        List<Double> epistemic = new ArrayList<>();
        int done = 0;
        for (NDList batch : batches) {
            try (Prediction.Classification p = (Prediction.Classification) predict(batch)) {
                long c = p.probs().getShape().get(p.probs().getShape().dimension() - 1);
                double[] flat = doubles(p.probs());
                for (int i = 0; i < flat.length / c; i++) {
                    double[] row = new double[(int) c];
                    System.arraycopy(flat, (int) (i * c), row, 0, (int) c);
                    probs.add(row);
                }
                addAll(total, p.total());
                addAll(aleatoric, p.aleatoric());
                addAll(epistemic, p.epistemic());
            }
            progress.accept(++done);
        }
        return new ClassPredictions(
                probs.toArray(new double[0][]), unbox(total), unbox(aleatoric), unbox(epistemic));
    }

    /**
     * Streams regression predictions over a dataset, batch by batch, keeping Java arrays only.
     *
     * @param batches the input batches
     * @param progress called with the number of batches done so far
     * @return one row per input, in order
     * @throws IllegalStateException when the likelihood is not a regression likelihood
     */
    public RegressionPredictions regressAll(Iterable<NDList> batches, IntConsumer progress) {
        if (likelihood.classification()) {
            throw new IllegalStateException("regressAll needs a regression likelihood");
        }
        List<double[]> mean = new ArrayList<>();
        List<double[]> aleatoric = new ArrayList<>();
        List<double[]> epistemic = new ArrayList<>();
        int done = 0;
        for (NDList batch : batches) {
            try (Prediction.Regression p = (Prediction.Regression) predict(batch)) {
                rows(mean, p.mean());
                rows(aleatoric, p.aleatoric());
                rows(epistemic, p.epistemic());
            }
            progress.accept(++done);
        }
        return new RegressionPredictions(
                mean.toArray(new double[0][]),
                aleatoric.toArray(new double[0][]),
                epistemic.toArray(new double[0][]));
    }

    private Prediction monteCarloPrediction(NDList inputs) {
        TensorTree draws = draws();
        int s = (int) draws.anyLeaf().getShape().get(0);
        NDList outputs = new NDList(s);
        for (int i = 0; i < s; i++) {
            final int row = i;
            TensorTree p = draws.map(a -> a.get(row));
            outputs.add(forward(p, inputs));
        }
        NDArray stacked = NDArrays.stack(outputs);
        if (likelihood.classification()) {
            return Uncertainty.decompose(likelihood.probabilities(stacked), keepSamples);
        }
        NDArray means = likelihood.mean(stacked);
        NDArray mean = means.mean(new int[] {0});
        NDArray aleatoric = likelihood.noiseVariance(stacked).mean(new int[] {0});
        NDArray epistemic = means.sub(mean).square().mean(new int[] {0});
        return new Prediction.Regression(
                mean, aleatoric, epistemic, keepSamples ? means.duplicate() : null);
    }

    private TensorTree draws() {
        if (posterior instanceof GaussianPosterior g) {
            return g.sample(samples, temperature);
        }
        if (posterior instanceof SamplePosterior sp && samples == 0) {
            return sp.samples();
        }
        return posterior.sample(samples);
    }

    private Prediction linearisedPrediction(NDList inputs) {
        GaussianPosterior g = (GaussianPosterior) posterior;
        TensorTree mean = g.mean();
        ForwardFn<NDList> f = (p, x) -> ModelOutput.of(forward(p, x));
        Curvature.Jacobian jac = Curvature.jacobian(f, mean, inputs);
        NDArray out = jac.output();
        Shape shape = out.getShape();
        NDArray j = jac.jacobian(); // (n, d, P)
        NDArray var =
                temperature == 0
                        ? out.zerosLike()
                        : diagonal(g.projectCovariance(j)).mul(temperature).reshape(shape);
        if (!likelihood.classification()) {
            NDArray epistemic = likelihood.mean(var);
            NDArray meanOut = likelihood.mean(out);
            return new Prediction.Regression(
                    meanOut.duplicate(),
                    likelihood.noiseVariance(out),
                    epistemic.duplicate(),
                    keepSamples ? outputSamples(g, mean, out, j).duplicate() : null);
        }
        NDArray sampleProbs = likelihood.probabilities(outputSamples(g, mean, out, j));
        Prediction.Classification mc = Uncertainty.decompose(sampleProbs, keepSamples);
        if (!probit) {
            return mc;
        }
        // multi-class probit: each logit scaled by 1 / sqrt(1 + π/8 its variance)
        NDArray kappa = var.mul(Math.PI / 8).add(1).sqrt();
        NDArray probs = likelihood.probabilities(out.div(kappa));
        mc.probs().close();
        return new Prediction.Classification(
                probs, mc.total(), mc.aleatoric(), mc.epistemic(), mc.sampleProbs());
    }

    /** Output samples f + J (θ_s - μ), shaped (S, *output shape). */
    private NDArray outputSamples(GaussianPosterior g, TensorTree mean, NDArray out, NDArray j) {
        TensorTree draws = g.sample(samples, temperature);
        NDArray delta = draws.ravelBatched(samples).sub(mean.ravel().expandDims(0)); // (S, P)
        NDArray jd = j.matMul(delta.transpose().toType(j.getDataType(), false)); // (n, d, S)
        Shape shape = out.getShape();
        NDArray perSample = jd.transpose(2, 0, 1).reshape(new Shape(samples).addAll(shape));
        return perSample.add(out.expandDims(0));
    }

    private static NDArray diagonal(NDArray cov) {
        // (n, d, d) -> (n, d)
        long d = cov.getShape().get(1);
        NDArray eye = cov.getManager().eye((int) d).toType(cov.getDataType(), false);
        return cov.mul(eye).sum(new int[] {2});
    }

    private NDArray forward(TensorTree p, NDList inputs) {
        TensorTree params = fixedParams == null ? p : fixedParams.merge(p);
        return model.forward(params, inputs).head();
    }

    private static List<NDArray> arraysOf(Prediction p) {
        List<NDArray> all = new ArrayList<>();
        if (p instanceof Prediction.Classification c) {
            all.addAll(List.of(c.probs(), c.total(), c.aleatoric(), c.epistemic()));
            if (c.sampleProbs() != null) {
                all.add(c.sampleProbs());
            }
        } else if (p instanceof Prediction.Regression r) {
            all.addAll(List.of(r.mean(), r.aleatoric(), r.epistemic()));
            if (r.sampleMeans() != null) {
                all.add(r.sampleMeans());
            }
        }
        return all;
    }

    private static void addAll(List<Double> into, NDArray a) {
        for (double v : doubles(a)) {
            into.add(v);
        }
    }

    private static void rows(List<double[]> into, NDArray a) {
        long w = a.getShape().dimension() < 2 ? 1 : a.getShape().get(a.getShape().dimension() - 1);
        double[] flat = doubles(a);
        for (int i = 0; i < flat.length / w; i++) {
            double[] row = new double[(int) w];
            System.arraycopy(flat, (int) (i * w), row, 0, (int) w);
            into.add(row);
        }
    }

    /** Reads an array as doubles, closing the converted copy when one was made. */
    private static double[] doubles(NDArray a) {
        if (a.getDataType() == DataType.FLOAT64) {
            return a.toDoubleArray();
        }
        try (NDArray d = a.toType(DataType.FLOAT64, true)) {
            return d.toDoubleArray();
        }
    }

    private static double[] unbox(List<Double> l) {
        double[] out = new double[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = l.get(i);
        }
        return out;
    }
}
