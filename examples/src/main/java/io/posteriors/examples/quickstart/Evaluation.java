package io.posteriors.examples.quickstart;

import io.posteriors.predictive.Binning;
import io.posteriors.predictive.Calibration;
import io.posteriors.predictive.ClassPredictions;
import io.posteriors.predictive.ClassificationMetrics;
import io.posteriors.predictive.OodDetection;
import java.util.Arrays;
import java.util.Locale;

/**
 * The figures of one row of the quick start's table: test accuracy, NLL, ECE and Brier score in
 * distribution, and how well epistemic uncertainty and max-probability confidence separate the test
 * inputs from the shifted ones (AUROC, shifted = positive).
 *
 * @param method the method's menu name
 * @param predictive {@code map}, {@code mc} or {@code linearised}
 * @param temperature the temperature of the posterior used
 * @param accuracy the test accuracy
 * @param nll the test negative log likelihood per input
 * @param ece the expected calibration error (15 equal-width bins)
 * @param brier the Brier score
 * @param oodAurocEpistemic the AUROC of epistemic uncertainty, test against shifted inputs
 * @param oodAurocMaxprob the AUROC of 1 - max probability, test against shifted inputs
 * @param epistemicIn the mean epistemic uncertainty on the test inputs (nats)
 * @param epistemicOut the mean epistemic uncertainty on the shifted inputs (nats)
 * @param calibration the reliability-diagram data
 * @param test the test predictions
 * @param shifted the predictions on the shifted inputs
 */
public record Evaluation(
        String method,
        String predictive,
        double temperature,
        double accuracy,
        double nll,
        double ece,
        double brier,
        double oodAurocEpistemic,
        double oodAurocMaxprob,
        double epistemicIn,
        double epistemicOut,
        Calibration calibration,
        ClassPredictions test,
        ClassPredictions shifted) {

    /** Number of calibration bins. */
    public static final int BINS = 15;

    /**
     * Computes the figures of a row from its predictions.
     *
     * @param row the row
     * @param test predictions on the test inputs
     * @param labels the test labels
     * @param shifted predictions on the shifted inputs
     * @return the evaluation
     */
    public static Evaluation of(
            Row row, ClassPredictions test, int[] labels, ClassPredictions shifted) {
        double[] maxIn = ClassPredictions.negate(test.maxProbability());
        double[] maxOut = ClassPredictions.negate(shifted.maxProbability());
        return new Evaluation(
                row.method(),
                row.predictive(),
                row.temperature(),
                ClassificationMetrics.accuracy(test.probs(), labels),
                ClassificationMetrics.nll(test.probs(), labels),
                ClassificationMetrics.ece(test.probs(), labels, BINS),
                ClassificationMetrics.brier(test.probs(), labels),
                OodDetection.auroc(test.epistemic(), shifted.epistemic()),
                OodDetection.auroc(maxIn, maxOut),
                mean(test.epistemic()),
                mean(shifted.epistemic()),
                ClassificationMetrics.calibration(test.probs(), labels, BINS, Binning.EQUAL_WIDTH),
                test,
                shifted);
    }

    /**
     * Returns the row as one JSON object (the keys scripts rely on, in snake case).
     *
     * @return a JSON line
     */
    public String json() {
        return String.format(
                Locale.ROOT,
                "{\"method\":\"%s\",\"predictive\":\"%s\",\"temperature\":%s,\"accuracy\":%s,"
                        + "\"nll\":%s,\"ece\":%s,\"brier\":%s,\"ood_auroc_epistemic\":%s,"
                        + "\"ood_auroc_maxprob\":%s,\"epistemic_in\":%s,\"epistemic_out\":%s}",
                method,
                predictive,
                number(temperature),
                number(accuracy),
                number(nll),
                number(ece),
                number(brier),
                number(oodAurocEpistemic),
                number(oodAurocMaxprob),
                number(epistemicIn),
                number(epistemicOut));
    }

    /**
     * Returns the row as a line of the printed table.
     *
     * @return the line
     */
    public String tableLine() {
        return String.format(
                Locale.ROOT,
                "%-22s %-13s %5.2f %8.3f %8.4f %7.4f %7.4f %9.3f %9.3f",
                method,
                predictive,
                temperature,
                accuracy,
                nll,
                ece,
                brier,
                oodAurocEpistemic,
                oodAurocMaxprob);
    }

    /**
     * Returns the header of the printed table.
     *
     * @return the header line
     */
    public static String tableHeader() {
        return String.format(
                Locale.ROOT,
                "%-22s %-13s %5s %8s %8s %7s %7s %9s %9s",
                "method",
                "predictive",
                "T",
                "accuracy",
                "nll",
                "ece",
                "brier",
                "auroc-epi",
                "auroc-max");
    }

    private static String number(double v) {
        // JSON has no NaN or infinity: an undefined figure is written as null
        return Double.isFinite(v) ? Double.toString(v) : "null";
    }

    private static double mean(double[] x) {
        return Arrays.stream(x).average().orElse(Double.NaN);
    }
}
