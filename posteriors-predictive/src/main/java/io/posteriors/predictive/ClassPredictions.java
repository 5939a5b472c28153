package io.posteriors.predictive;

import io.posteriors.Checks;

/**
 * Classification predictions for a whole dataset as Java arrays, one row per input (per position
 * for sequence outputs), ready for the metrics of {@link ClassificationMetrics}, {@link
 * SelectivePrediction} and {@link OodDetection}.
 *
 * @param probs the mean predictive probabilities, {@code (n, C)}
 * @param total the entropy of the mean predictive, per input
 * @param aleatoric the mean per-sample entropy, per input
 * @param epistemic the mutual information, per input
 */
public record ClassPredictions(
        double[][] probs, double[] total, double[] aleatoric, double[] epistemic) {

    /**
     * Checks that the arrays have one entry per input.
     *
     * @throws IllegalArgumentException when the lengths differ
     */
    public ClassPredictions {
        Checks.notNull(probs, "probs");
        if (total.length != probs.length
                || aleatoric.length != probs.length
                || epistemic.length != probs.length) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "every array must have one entry per input (%d), got total %d,"
                                    + " aleatoric %d, epistemic %d",
                            probs.length, total.length, aleatoric.length, epistemic.length));
        }
    }

    /**
     * Returns the number of inputs.
     *
     * @return the count
     */
    public int size() {
        return probs.length;
    }

    /**
     * Returns the predicted class of each input (the first of equal maxima).
     *
     * @return the labels
     */
    public int[] predictedLabels() {
        int[] out = new int[probs.length];
        for (int i = 0; i < probs.length; i++) {
            int best = 0;
            for (int c = 1; c < probs[i].length; c++) {
                if (probs[i][c] > probs[i][best]) {
                    best = c;
                }
            }
            out[i] = best;
        }
        return out;
    }

    /**
     * Returns the largest predictive probability of each input: the softmax-style confidence.
     *
     * @return the confidences
     */
    public double[] maxProbability() {
        double[] out = new double[probs.length];
        for (int i = 0; i < probs.length; i++) {
            double m = Double.NEGATIVE_INFINITY;
            for (double p : probs[i]) {
                m = Math.max(m, p);
            }
            out[i] = m;
        }
        return out;
    }

    /**
     * Returns whether each prediction is right.
     *
     * @param labels the true classes, one per input
     * @return one flag per input
     * @throws IllegalArgumentException when the length differs
     */
    public boolean[] correct(int[] labels) {
        Checks.notNull(labels, "labels");
        if (labels.length != probs.length) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "labels must have one entry per input (%d), got %d",
                            probs.length, labels.length));
        }
        int[] pred = predictedLabels();
        boolean[] out = new boolean[labels.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = pred[i] == labels[i];
        }
        return out;
    }

    /**
     * Returns {@code -x} for each entry: turns an uncertainty into a confidence score for selective
     * prediction (less uncertain = more confident).
     *
     * @param uncertainty an uncertainty per input, e.g. {@link #total()} or {@link #epistemic()}
     * @return the negated values
     */
    public static double[] negate(double[] uncertainty) {
        double[] out = new double[uncertainty.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = -uncertainty[i];
        }
        return out;
    }
}
