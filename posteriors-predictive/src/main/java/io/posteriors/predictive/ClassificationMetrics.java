package io.posteriors.predictive;

import static io.posteriors.Checks.format;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * Metrics of a classifier's predicted probabilities against integer labels: accuracy, negative log
 * likelihood, Brier score and calibration (ECE, MCE, reliability-diagram bins).
 *
 * <p>Every method takes {@code probs}, one row per input and one column per class, each row
 * non-negative and summing to 1 within {@code 1e-6}, and {@code labels}, one class index in {@code
 * [0, classes)} per row. The prediction for a row is the index of its largest probability, the
 * first one on ties; its confidence is that probability.
 */
public final class ClassificationMetrics {

    private ClassificationMetrics() {}

    /**
     * Returns the fraction of inputs whose prediction (first index of the largest probability)
     * equals the label.
     *
     * @param probs predicted probabilities, one row per input
     * @param labels true classes, one per row of {@code probs}
     * @return the accuracy, in [0, 1]
     * @throws NullPointerException when an argument or a row is null
     * @throws IllegalArgumentException when {@code probs} is empty or not rectangular, an entry is
     *     not in [0, 1], a row does not sum to 1 within {@code 1e-6}, the lengths differ, or a
     *     label is not in {@code [0, classes)}
     */
    public static double accuracy(double[][] probs, int[] labels) {
        check(probs, labels);
        int correct = 0;
        for (int i = 0; i < probs.length; i++) {
            if (ArrayChecks.argmax(probs[i]) == labels[i]) {
                correct++;
            }
        }
        return (double) correct / probs.length;
    }

    /**
     * Returns the mean negative log probability of the true class, {@code -(1/n) sum_i log
     * probs[i][labels[i]]}.
     *
     * <p>A true class with probability exactly 0 makes the result {@code +Infinity}: the
     * probability is not clamped, so a model that rules out what happened is reported as such.
     *
     * @param probs predicted probabilities, one row per input
     * @param labels true classes, one per row of {@code probs}
     * @return the negative log likelihood in nats, non-negative, possibly {@code +Infinity}
     * @throws NullPointerException when an argument or a row is null
     * @throws IllegalArgumentException under the same conditions as {@link #accuracy}
     */
    public static double nll(double[][] probs, int[] labels) {
        check(probs, labels);
        double sum = 0;
        for (int i = 0; i < probs.length; i++) {
            sum -= Math.log(probs[i][labels[i]]);
        }
        return sum / probs.length;
    }

    /**
     * Returns the Brier score, the mean over inputs of the sum over classes of {@code (p_k - 1[k =
     * label])^2}.
     *
     * @param probs predicted probabilities, one row per input
     * @param labels true classes, one per row of {@code probs}
     * @return the Brier score, in [0, 2]
     * @throws NullPointerException when an argument or a row is null
     * @throws IllegalArgumentException under the same conditions as {@link #accuracy}
     */
    public static double brier(double[][] probs, int[] labels) {
        check(probs, labels);
        double sum = 0;
        for (int i = 0; i < probs.length; i++) {
            for (int k = 0; k < probs[i].length; k++) {
                double d = probs[i][k] - (k == labels[i] ? 1 : 0);
                sum += d * d;
            }
        }
        return sum / probs.length;
    }

    /**
     * Returns the expected calibration error with {@code bins} equal-width bins; the same as {@code
     * calibration(probs, labels, bins, Binning.EQUAL_WIDTH).ece()}.
     *
     * @param probs predicted probabilities, one row per input
     * @param labels true classes, one per row of {@code probs}
     * @param bins the number of bins, at least 1
     * @return the ECE, in [0, 1]
     * @throws NullPointerException when an argument or a row is null
     * @throws IllegalArgumentException under the conditions of {@link #calibration}
     */
    public static double ece(double[][] probs, int[] labels, int bins) {
        return calibration(probs, labels, bins, Binning.EQUAL_WIDTH).ece();
    }

    /**
     * Bins the inputs by confidence and returns the expected and maximum calibration errors with
     * the bins of a reliability diagram.
     *
     * <p>With {@code n_b} inputs in bin {@code b}, of mean confidence {@code conf_b} and accuracy
     * {@code acc_b}: {@code ece = sum_b (n_b / n) |acc_b - conf_b|}, {@code mce = max |acc_b -
     * conf_b|} over non-empty bins. See {@link Binning} for how each scheme forms its bins;
     * equal-width bins may be empty and are then listed with count 0 and NaN mean confidence and
     * accuracy.
     *
     * @param probs predicted probabilities, one row per input
     * @param labels true classes, one per row of {@code probs}
     * @param bins the number of bins, at least 1 (and at most the number of inputs for {@link
     *     Binning#EQUAL_MASS}, whose bins are never empty)
     * @param binning how to form the bins
     * @return the calibration errors and bins
     * @throws NullPointerException when an argument or a row is null
     * @throws IllegalArgumentException under the conditions of {@link #accuracy}, when {@code bins
     *     < 1}, or when {@code binning} is {@code EQUAL_MASS} and {@code bins} exceeds the number
     *     of inputs
     */
    public static Calibration calibration(
            double[][] probs, int[] labels, int bins, Binning binning) {
        check(probs, labels);
        Objects.requireNonNull(binning, "binning");
        int n = probs.length;
        if (bins < 1) {
            throw new IllegalArgumentException(format("bins must be at least 1, got %d", bins));
        }
        if (binning == Binning.EQUAL_MASS && bins > n) {
            throw new IllegalArgumentException(
                    format(
                            "bins must be at most the number of inputs (%d) for EQUAL_MASS, got %d",
                            n, bins));
        }
        double[] confidence = new double[n];
        boolean[] correct = new boolean[n];
        for (int i = 0; i < n; i++) {
            int predicted = ArrayChecks.argmax(probs[i]);
            confidence[i] = probs[i][predicted];
            correct[i] = predicted == labels[i];
        }
        int[][] members =
                binning == Binning.EQUAL_WIDTH
                        ? equalWidth(confidence, bins)
                        : equalMass(confidence, bins);
        List<Calibration.Bin> result = new ArrayList<>(bins);
        double weightedGaps = 0;
        double mce = 0;
        for (int b = 0; b < bins; b++) {
            int[] in = members[b];
            double lower;
            double upper;
            if (binning == Binning.EQUAL_WIDTH) {
                lower = (double) b / bins;
                upper = (double) (b + 1) / bins;
            } else {
                lower = Double.POSITIVE_INFINITY;
                upper = Double.NEGATIVE_INFINITY;
                for (int i : in) {
                    lower = Math.min(lower, confidence[i]);
                    upper = Math.max(upper, confidence[i]);
                }
            }
            if (in.length == 0) {
                result.add(new Calibration.Bin(lower, upper, 0, Double.NaN, Double.NaN));
                continue;
            }
            double confSum = 0;
            int hits = 0;
            for (int i : in) {
                confSum += confidence[i];
                hits += correct[i] ? 1 : 0;
            }
            double meanConf = confSum / in.length;
            double acc = (double) hits / in.length;
            double gap = Math.abs(acc - meanConf);
            // n_b * gap summed, then divided once: each term is at most n_b, so ece stays <= 1.
            weightedGaps += in.length * gap;
            mce = Math.max(mce, gap);
            result.add(new Calibration.Bin(lower, upper, in.length, meanConf, acc));
        }
        return new Calibration(weightedGaps / n, mce, result, binning);
    }

    /** Bin b holds confidences in (b / B, (b + 1) / B]; the first also holds 0. */
    private static int[][] equalWidth(double[] confidence, int bins) {
        int[] bucket = new int[confidence.length];
        int[] sizes = new int[bins];
        for (int i = 0; i < confidence.length; i++) {
            double c = confidence[i];
            int b = (int) Math.ceil(c * bins) - 1;
            b = Math.max(0, Math.min(bins - 1, b));
            // c * bins rounds; settle the edge cases against the exact bounds b / (double) bins.
            while (b > 0 && c <= (double) b / bins) {
                b--;
            }
            while (b < bins - 1 && c > (double) (b + 1) / bins) {
                b++;
            }
            bucket[i] = b;
            sizes[b]++;
        }
        int[][] members = new int[bins][];
        for (int b = 0; b < bins; b++) {
            members[b] = new int[sizes[b]];
        }
        int[] fill = new int[bins];
        for (int i = 0; i < confidence.length; i++) {
            members[bucket[i]][fill[bucket[i]]++] = i;
        }
        return members;
    }

    /** Sorted positions [floor(b n / B), floor((b + 1) n / B)) form bin b; ties in input order. */
    private static int[][] equalMass(double[] confidence, int bins) {
        int n = confidence.length;
        Integer[] order =
                IntStream.range(0, n)
                        .boxed()
                        .sorted(Comparator.comparingDouble(i -> confidence[i]))
                        .toArray(Integer[]::new);
        int[][] members = new int[bins][];
        for (int b = 0; b < bins; b++) {
            int from = (int) ((long) b * n / bins);
            int to = (int) ((long) (b + 1) * n / bins);
            members[b] = Arrays.stream(order, from, to).mapToInt(Integer::intValue).toArray();
        }
        return members;
    }

    private static void check(double[][] probs, int[] labels) {
        int classes = ArrayChecks.probabilities(probs, "probs");
        ArrayChecks.labels(labels, probs.length, classes, "labels", "probs");
    }
}
