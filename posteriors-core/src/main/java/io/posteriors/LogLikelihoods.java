package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;
import io.posteriors.internal.Scoped;

/**
 * Per-sample log likelihoods of common output layers. Each returns a vector with one entry per
 * sample (dimension 0 of the outputs); average it over the batch for a scalar log posterior, or
 * pass it as is to per-sample methods.
 */
public final class LogLikelihoods {

    private static final double LOG_2PI = Math.log(2 * Math.PI);

    private LogLikelihoods() {}

    /**
     * Returns {@code log softmax(logits)[i, labels[i]]} for each sample i: the negative cross
     * entropy.
     *
     * @param logits unnormalised log probabilities, shape {@code (n, classes)}
     * @param labels class indices in {@code [0, classes)}, shape {@code (n)}
     * @return a vector of n log likelihoods
     * @throws IllegalArgumentException when the shapes do not match
     */
    public static NDArray categorical(NDArray logits, NDArray labels) {
        Checks.notNull(logits, "logits");
        Checks.notNull(labels, "labels");
        if (logits.getShape().dimension() != 2
                || labels.getShape().dimension() != 1
                || labels.getShape().get(0) != logits.getShape().get(0)) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "logits must have shape (n, classes) and labels shape (n), got %s and"
                                    + " %s",
                            logits.getShape(), labels.getShape()));
        }
        int classes = (int) logits.getShape().get(1);
        return Scoped.one(
                () -> {
                    NDArray oneHot =
                            labels.toType(DataType.INT64, false)
                                    .oneHot(classes)
                                    .toType(logits.getDataType(), false);
                    return logits.logSoftmax(1).mul(oneHot).sum(new int[] {1});
                });
    }

    /**
     * Returns the Normal log density of the targets given the outputs as means and a common
     * standard deviation, summed over all but the first dimension.
     *
     * @param outputs the predicted means, shape {@code (n, ...)}
     * @param targets the observations, same shape
     * @param sd the observation noise standard deviation; positive
     * @return a vector of n log likelihoods
     * @throws IllegalArgumentException when the shapes differ or {@code sd <= 0}
     */
    public static NDArray normal(NDArray outputs, NDArray targets, double sd) {
        Checks.notNull(outputs, "outputs");
        Checks.notNull(targets, "targets");
        Checks.positive(sd, "sd");
        if (!outputs.getShape().equals(targets.getShape()) || outputs.getShape().dimension() < 1) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "outputs and targets must have the same batch-first shape, got %s and"
                                    + " %s",
                            outputs.getShape(), targets.getShape()));
        }
        long n = outputs.getShape().get(0);
        long d = outputs.size() / n;
        return Scoped.one(
                () ->
                        outputs.sub(targets)
                                .div(sd)
                                .square()
                                .reshape(n, d)
                                .sum(new int[] {1})
                                .mul(-0.5)
                                .sub(d * (Math.log(sd) + 0.5 * LOG_2PI)));
    }

    /**
     * Returns the Bernoulli log likelihood {@code y z - softplus(z)} of binary targets given logits
     * {@code z}, summed over all but the first dimension.
     *
     * <p>It is written with the engine's {@code softplus}, whose derivatives are the logistic
     * function and its derivative at every logit. The common "stable" form {@code max(z, 0) + log(1
     * + exp(-|z|))} has the right value but zero autograd curvature at {@code z = 0}, where the
     * true second derivative is {@code 1/4}; that silently breaks GGN and Hessian Laplace.
     *
     * @param logits the logits, shape {@code (n, ...)}
     * @param targets the targets, 0 or 1 (or probabilities in [0, 1]), same shape
     * @return a vector of n log likelihoods
     * @throws IllegalArgumentException when the shapes differ
     */
    public static NDArray bernoulli(NDArray logits, NDArray targets) {
        Checks.notNull(logits, "logits");
        Checks.notNull(targets, "targets");
        requireSameBatchFirstShape(logits, targets, "logits");
        long n = logits.getShape().get(0);
        long d = logits.size() / n;
        return Scoped.one(
                () -> {
                    NDArray y = targets.toType(logits.getDataType(), false);
                    return logits.mul(y)
                            .sub(Activation.softPlus(logits))
                            .reshape(n, d)
                            .sum(new int[] {1});
                });
    }

    /**
     * Returns the Normal log density of the targets when the model predicts both the mean and the
     * log variance of every output (a heteroscedastic regression head), summed over all but the
     * first dimension: {@code -1/2 [(y - mu)^2 exp(-s) + s + log 2 pi]}.
     *
     * <p>The outputs hold the means in the first half of dimension 1 and the log variances in the
     * second: shape {@code (n, 2 d)} for {@code d} targets per sample.
     *
     * @param outputs the means and log variances, shape {@code (n, 2 d)}
     * @param targets the observations, shape {@code (n, d)}
     * @return a vector of n log likelihoods
     * @throws IllegalArgumentException when the shapes do not fit
     */
    public static NDArray heteroscedasticNormal(NDArray outputs, NDArray targets) {
        Checks.notNull(outputs, "outputs");
        Checks.notNull(targets, "targets");
        if (outputs.getShape().dimension() != 2
                || targets.getShape().dimension() != 2
                || outputs.getShape().get(0) != targets.getShape().get(0)
                || outputs.getShape().get(1) != 2 * targets.getShape().get(1)) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "outputs must have shape (n, 2 d) (means, then log variances) for"
                                    + " targets of shape (n, d), got %s and %s",
                            outputs.getShape(), targets.getShape()));
        }
        long d = targets.getShape().get(1);
        return Scoped.one(
                () -> {
                    NDArray mu = outputs.get(new ai.djl.ndarray.index.NDIndex(":, :{}", d));
                    NDArray s = outputs.get(new ai.djl.ndarray.index.NDIndex(":, {}:", d));
                    NDArray r = targets.toType(outputs.getDataType(), false).sub(mu);
                    return r.square()
                            .mul(s.neg().exp())
                            .add(s)
                            .sum(new int[] {1})
                            .add(d * LOG_2PI)
                            .mul(-0.5);
                });
    }

    private static void requireSameBatchFirstShape(NDArray a, NDArray b, String name) {
        if (!a.getShape().equals(b.getShape()) || a.getShape().dimension() < 1) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "%s and targets must have the same batch-first shape, got %s and %s",
                            name, a.getShape(), b.getShape()));
        }
    }
}
