package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
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
}
