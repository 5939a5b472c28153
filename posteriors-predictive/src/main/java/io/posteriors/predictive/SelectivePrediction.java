package io.posteriors.predictive;

import java.util.Arrays;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * Selective prediction: answer only when confident. Builds the risk–coverage (and accuracy–
 * coverage) curve of any confidence score, such as the maximum predictive probability, the negative
 * total uncertainty or the negative epistemic uncertainty; larger scores mean more confident.
 *
 * <p>Accuracy should rise as coverage falls; a score that ranks errors last gives a low {@link
 * RiskCoverage#aurc() AURC}.
 */
public final class SelectivePrediction {

    private SelectivePrediction() {}

    /**
     * Returns the risk–coverage curve of a confidence score: the inputs are answered in decreasing
     * order of confidence, inputs of equal confidence together, giving one point per distinct
     * confidence value (see {@link RiskCoverage}).
     *
     * @param confidence the confidence score of each input, larger is more confident; no NaN
     *     (infinities are allowed and order as usual)
     * @param correct whether the prediction for each input is correct
     * @return the curve, from the most confident group to all inputs
     * @throws NullPointerException when an argument is null
     * @throws IllegalArgumentException when {@code confidence} is empty or holds NaN, or the
     *     lengths differ
     */
    public static RiskCoverage curve(double[] confidence, boolean[] correct) {
        ArrayChecks.notNaN(confidence, "confidence");
        Objects.requireNonNull(correct, "correct");
        ArrayChecks.sameLength(correct.length, confidence.length, "correct", "confidence");
        int n = confidence.length;
        int[] order = sortedIndicesDescending(confidence);
        int[] answered = new int[n];
        int[] right = new int[n];
        int points = 0;
        int hits = 0;
        for (int r = 0; r < n; r++) {
            int i = order[r];
            hits += correct[i] ? 1 : 0;
            // == rather than Double.compare: -0.0 and 0.0 are the same confidence.
            boolean groupEnds = r == n - 1 || confidence[order[r + 1]] != confidence[i];
            if (groupEnds) {
                answered[points] = r + 1;
                right[points] = hits;
                points++;
            }
        }
        return new RiskCoverage(Arrays.copyOf(answered, points), Arrays.copyOf(right, points));
    }

    /** Indices of {@code values} in decreasing order of value, ties in increasing index. */
    static int[] sortedIndicesDescending(double[] values) {
        return IntStream.range(0, values.length)
                .boxed()
                .sorted((a, b) -> Double.compare(values[b], values[a]))
                .mapToInt(Integer::intValue)
                .toArray();
    }
}
