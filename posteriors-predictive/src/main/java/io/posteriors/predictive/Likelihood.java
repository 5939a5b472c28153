package io.posteriors.predictive;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Activation;
import io.posteriors.Checks;

/**
 * What a model's outputs mean, so that a predictive can turn them into a predictive distribution:
 * class logits (softmax over the last dimension), one Bernoulli logit, or a Normal mean with a
 * known or a predicted variance. The same choices as {@link io.posteriors.LogLikelihoods}.
 */
public sealed interface Likelihood
        permits Likelihood.Categorical,
                Likelihood.Bernoulli,
                Likelihood.Normal,
                Likelihood.HeteroscedasticNormal {

    /** Class logits in the last dimension; probabilities are their softmax. */
    record Categorical() implements Likelihood {}

    /**
     * One logit per input (shape {@code (n)} or {@code (n, 1)}); the predictive reports the two
     * class probabilities {@code (1 - p, p)} with {@code p = sigmoid(z)}.
     */
    record Bernoulli() implements Likelihood {}

    /**
     * A Normal mean with a fixed observation standard deviation.
     *
     * @param sd the observation noise standard deviation; positive and finite
     */
    record Normal(double sd) implements Likelihood {
        /**
         * Checks the standard deviation.
         *
         * @throws IllegalArgumentException when {@code sd} is not positive and finite
         */
        public Normal {
            Checks.positive(sd, "sd");
        }
    }

    /**
     * Means in the first half of the last dimension, log variances in the second ({@link
     * io.posteriors.LogLikelihoods#heteroscedasticNormal}).
     */
    record HeteroscedasticNormal() implements Likelihood {}

    /**
     * Returns the categorical likelihood.
     *
     * @return the likelihood
     */
    static Likelihood categorical() {
        return new Categorical();
    }

    /**
     * Returns the Bernoulli likelihood.
     *
     * @return the likelihood
     */
    static Likelihood bernoulli() {
        return new Bernoulli();
    }

    /**
     * Returns a Normal likelihood with a known noise level.
     *
     * @param sd the observation noise standard deviation; positive and finite
     * @return the likelihood
     * @throws IllegalArgumentException when {@code sd} is not positive and finite
     */
    static Likelihood normal(double sd) {
        return new Normal(sd);
    }

    /**
     * Returns the heteroscedastic Normal likelihood.
     *
     * @return the likelihood
     */
    static Likelihood heteroscedasticNormal() {
        return new HeteroscedasticNormal();
    }

    /**
     * Returns whether the outputs are classes (categorical or Bernoulli).
     *
     * @return whether this is a classification likelihood
     */
    default boolean classification() {
        return this instanceof Categorical || this instanceof Bernoulli;
    }

    /**
     * Returns the class probabilities of classification outputs, classes in the last dimension. A
     * Bernoulli output {@code (n)} or {@code (n, 1)} becomes {@code (n, 2)}.
     *
     * @param outputs the model's outputs
     * @return new probabilities
     * @throws IllegalStateException when this is a regression likelihood
     */
    default NDArray probabilities(NDArray outputs) {
        if (this instanceof Categorical) {
            return outputs.softmax(-1);
        }
        if (this instanceof Bernoulli) {
            NDArray z = bernoulliLogits(outputs);
            NDArray p = Activation.sigmoid(z).expandDims(-1);
            return NDArrays.concat(new NDList(p.onesLike().sub(p), p), -1);
        }
        throw new IllegalStateException("probabilities need a classification likelihood");
    }

    /**
     * Returns the predicted means of regression outputs.
     *
     * @param outputs the model's outputs
     * @return the means (a view or a new array)
     * @throws IllegalStateException when this is a classification likelihood
     */
    default NDArray mean(NDArray outputs) {
        if (this instanceof Normal) {
            return outputs;
        }
        if (this instanceof HeteroscedasticNormal) {
            return outputs.get(new NDIndex("..., :{}", halfWidth(outputs)));
        }
        throw new IllegalStateException("a mean needs a regression likelihood");
    }

    /**
     * Returns the aleatoric (observation) variance of regression outputs, shaped like {@link
     * #mean}.
     *
     * @param outputs the model's outputs
     * @return a new array
     * @throws IllegalStateException when this is a classification likelihood
     */
    default NDArray noiseVariance(NDArray outputs) {
        if (this instanceof Normal n) {
            return outputs.zerosLike().add(n.sd() * n.sd());
        }
        if (this instanceof HeteroscedasticNormal) {
            return outputs.get(new NDIndex("..., {}:", halfWidth(outputs))).exp();
        }
        throw new IllegalStateException("a noise variance needs a regression likelihood");
    }

    private static long halfWidth(NDArray outputs) {
        long w = outputs.getShape().get(outputs.getShape().dimension() - 1);
        if (w % 2 != 0) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "heteroscedastic outputs need an even last dimension (means, then log"
                                    + " variances), got shape %s",
                            outputs.getShape()));
        }
        return w / 2;
    }

    private static NDArray bernoulliLogits(NDArray outputs) {
        var s = outputs.getShape();
        if (s.dimension() >= 2 && s.get(s.dimension() - 1) == 1) {
            return outputs.squeeze(-1);
        }
        if (s.dimension() == 1) {
            return outputs;
        }
        throw new IllegalArgumentException(
                Checks.format(
                        "Bernoulli outputs must have shape (n) or (n, 1), got %s",
                        outputs.getShape()));
    }
}
