package io.posteriors.predictive;

import static io.posteriors.Checks.format;

import java.util.List;
import java.util.Objects;

/**
 * Calibration of a classifier's confidence: the expected and maximum calibration errors and the
 * per-bin data of a reliability diagram.
 *
 * <p>Confidence is the largest predicted probability and the prediction its first index. With
 * {@code n} inputs and bins of {@code n_b} inputs, mean confidence {@code conf_b} and accuracy
 * {@code acc_b}, {@code ece = sum_b (n_b / n) |acc_b - conf_b|} and {@code mce = max_b |acc_b -
 * conf_b|} over the non-empty bins.
 *
 * @param ece the expected calibration error, in [0, 1]
 * @param mce the maximum calibration error over non-empty bins, in [0, 1]
 * @param bins the bins in increasing order of confidence, empty ones included
 * @param binning how the bins were formed
 */
public record Calibration(double ece, double mce, List<Bin> bins, Binning binning) {

    /**
     * Checks the components and copies the list of bins.
     *
     * @throws NullPointerException when {@code bins}, one of its entries or {@code binning} is null
     * @throws IllegalArgumentException when {@code ece} or {@code mce} is not in [0, 1] or there
     *     are no bins
     */
    public Calibration {
        Objects.requireNonNull(binning, "binning");
        bins = List.copyOf(Objects.requireNonNull(bins, "bins"));
        if (bins.isEmpty()) {
            throw new IllegalArgumentException("bins must not be empty, got 0 bins");
        }
        unit(ece, "ece");
        unit(mce, "mce");
    }

    private static void unit(double value, String name) {
        if (!(value >= 0 && value <= 1)) {
            throw new IllegalArgumentException(format("%s must be in [0, 1], got %s", name, value));
        }
    }

    /**
     * One bin of a reliability diagram.
     *
     * @param lower the bin's lower bound: for equal-width bins its left edge, for equal-mass bins
     *     its smallest confidence (equal-mass bins are never empty)
     * @param upper the bin's upper bound: for equal-width bins its right edge, for equal-mass bins
     *     its largest confidence
     * @param count the number of inputs in the bin
     * @param meanConfidence the mean confidence of the bin's inputs; NaN when the bin is empty
     * @param accuracy the fraction of the bin's inputs predicted correctly; NaN when the bin is
     *     empty
     */
    public record Bin(
            double lower, double upper, int count, double meanConfidence, double accuracy) {

        /**
         * Checks the components.
         *
         * @throws IllegalArgumentException when {@code count} is negative, or the bin is not empty
         *     and {@code lower > upper}, or {@code meanConfidence} or {@code accuracy} is not in
         *     [0, 1]
         */
        public Bin {
            if (count < 0) {
                throw new IllegalArgumentException(
                        format("count must be non-negative, got %d", count));
            }
            if (count > 0) {
                if (!(lower <= upper)) {
                    throw new IllegalArgumentException(
                            format("lower must be at most upper %s, got %s", upper, lower));
                }
                unit(meanConfidence, "meanConfidence");
                unit(accuracy, "accuracy");
            }
        }

        /**
         * Returns whether the bin holds no input.
         *
         * @return {@code count() == 0}
         */
        public boolean isEmpty() {
            return count == 0;
        }

        /**
         * Returns the bin's calibration gap {@code |accuracy - meanConfidence|}.
         *
         * @return the gap; NaN when the bin is empty
         */
        public double gap() {
            return Math.abs(accuracy - meanConfidence);
        }
    }
}
