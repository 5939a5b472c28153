package io.posteriors.predictive;

import static io.posteriors.Checks.format;

import java.util.Objects;

/**
 * The risk–coverage curve of selective prediction: the model answers the inputs it is most
 * confident about and abstains on the rest; as fewer are answered, the error rate among the
 * answered (the selective risk) should fall.
 *
 * <p>The curve has one point per distinct confidence value, in decreasing order of confidence:
 * point {@code j} answers every input whose confidence is at least the {@code j}-th largest
 * distinct value, so inputs of equal confidence are admitted together. It is stored as exact
 * counts, {@link #answered()} and {@link #correct()}; {@link #coverage()}, {@link #risk()} and
 * {@link #accuracy()} are derived from them. Build it with {@link SelectivePrediction#curve}.
 *
 * <p>Inside a group of tied confidences no order is preferable, so {@link #aurc()} and {@link
 * #accuracyAtCoverage(double)} average over the orders of the tied inputs (equivalently, break ties
 * uniformly at random and take the expectation). For a partial group this means its inputs count in
 * proportion: answering {@code k} inputs of which {@code t} come from a group of {@code s} inputs
 * with {@code c} correct counts {@code t c / s} correct answers from it.
 *
 * @param answered for each point, the number of inputs answered; strictly increasing, the last
 *     equal to the number of inputs {@code n}
 * @param correct for each point, how many of the answered inputs are correct
 */
public record RiskCoverage(int[] answered, int[] correct) {

    /**
     * Checks the counts and copies the arrays.
     *
     * @throws NullPointerException when an array is null
     * @throws IllegalArgumentException when the arrays are empty or differ in length, {@code
     *     answered} is not strictly increasing from a positive value, or a point adds more correct
     *     inputs than inputs (or a negative number of them)
     */
    public RiskCoverage {
        answered = Objects.requireNonNull(answered, "answered").clone();
        correct = Objects.requireNonNull(correct, "correct").clone();
        if (answered.length == 0) {
            throw new IllegalArgumentException("answered must not be empty, got length 0");
        }
        ArrayChecks.sameLength(correct.length, answered.length, "correct", "answered");
        int previousAnswered = 0;
        int previousCorrect = 0;
        for (int j = 0; j < answered.length; j++) {
            if (answered[j] <= previousAnswered) {
                throw new IllegalArgumentException(
                        format(
                                "answered[%d] must be greater than %d, got %d",
                                j, previousAnswered, answered[j]));
            }
            int added = correct[j] - previousCorrect;
            if (added < 0 || added > answered[j] - previousAnswered) {
                throw new IllegalArgumentException(
                        format(
                                "correct[%d] must be in [%d, %d], got %d",
                                j,
                                previousCorrect,
                                previousCorrect + answered[j] - previousAnswered,
                                correct[j]));
            }
            previousAnswered = answered[j];
            previousCorrect = correct[j];
        }
    }

    /**
     * Returns, for each point, the number of inputs answered (a copy).
     *
     * @return the counts, strictly increasing, the last equal to {@link #size()}
     */
    @Override
    public int[] answered() {
        return answered.clone();
    }

    /**
     * Returns, for each point, the number of answered inputs that are correct (a copy).
     *
     * @return the counts
     */
    @Override
    public int[] correct() {
        return correct.clone();
    }

    /**
     * Returns the number of inputs {@code n}.
     *
     * @return the number answered at the last point
     */
    public int size() {
        return answered[answered.length - 1];
    }

    /**
     * Returns the coverage of each point, {@code answered[j] / n}.
     *
     * @return the coverages, increasing, the last equal to 1
     */
    public double[] coverage() {
        double n = size();
        double[] out = new double[answered.length];
        for (int j = 0; j < out.length; j++) {
            out[j] = answered[j] / n;
        }
        return out;
    }

    /**
     * Returns the selective risk of each point, the fraction of answered inputs that are wrong,
     * {@code (answered[j] - correct[j]) / answered[j]}.
     *
     * @return the risks, in [0, 1]
     */
    public double[] risk() {
        double[] out = new double[answered.length];
        for (int j = 0; j < out.length; j++) {
            out[j] = (double) (answered[j] - correct[j]) / answered[j];
        }
        return out;
    }

    /**
     * Returns the selective accuracy of each point, {@code correct[j] / answered[j]}.
     *
     * @return the accuracies, in [0, 1]; the last is the overall accuracy
     */
    public double[] accuracy() {
        double[] out = new double[answered.length];
        for (int j = 0; j < out.length; j++) {
            out[j] = (double) correct[j] / answered[j];
        }
        return out;
    }

    /**
     * Returns the area under the risk–coverage curve, defined as the mean selective risk over the
     * {@code n} coverage levels {@code k / n}, {@code k = 1..n}: {@code AURC = (1/n) sum_k E_k /
     * k}, where {@code E_k} is the expected number of errors among the {@code k} most confident
     * inputs when ties are broken uniformly at random (see the class comment). This equals the
     * average, over all orders of the tied inputs, of the AURC of a curve without ties. Lower is
     * better; 0 means every input is correct.
     *
     * @return the AURC, in [0, 1]
     */
    public double aurc() {
        double sum = 0;
        int previousAnswered = 0;
        int previousErrors = 0;
        for (int j = 0; j < answered.length; j++) {
            int size = answered[j] - previousAnswered;
            int errors = answered[j] - correct[j];
            double errorRate = (double) (errors - previousErrors) / size;
            for (int t = 1; t <= size; t++) {
                sum += (previousErrors + t * errorRate) / (previousAnswered + t);
            }
            previousAnswered = answered[j];
            previousErrors = errors;
        }
        return sum / size();
    }

    /**
     * Returns the accuracy on the most confident fraction {@code coverage} of the inputs.
     *
     * <p>The model answers {@code k = coverage * n} inputs, a real number. When {@code k} falls
     * inside a group of tied confidences, that group is admitted in proportion: the result is
     * {@code (C + (k - m) c / s) / k}, where {@code m} inputs of {@code C} correct rank above the
     * group, which has {@code s} inputs of which {@code c} are correct. For integer {@code k} this
     * is the expected accuracy of the {@code k} most confident inputs under random tie-breaking; at
     * coverage 1 it is the overall accuracy.
     *
     * @param coverage the fraction of inputs answered, in (0, 1]
     * @return the selective accuracy, in [0, 1]
     * @throws IllegalArgumentException when {@code coverage} is not in (0, 1]
     */
    public double accuracyAtCoverage(double coverage) {
        if (!(coverage > 0 && coverage <= 1)) {
            throw new IllegalArgumentException(
                    format("coverage must be in (0, 1], got %s", coverage));
        }
        double k = coverage * size();
        int previousAnswered = 0;
        int previousCorrect = 0;
        for (int j = 0; j < answered.length; j++) {
            if (k <= answered[j] || j == answered.length - 1) {
                double rate =
                        (double) (correct[j] - previousCorrect) / (answered[j] - previousAnswered);
                // The exact value is at most 1; min only guards the last bit of rounding.
                return Math.min(1.0, (previousCorrect + (k - previousAnswered) * rate) / k);
            }
            previousAnswered = answered[j];
            previousCorrect = correct[j];
        }
        throw new AssertionError("unreachable: the last point covers every input");
    }
}
