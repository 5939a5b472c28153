package io.posteriors.predictive;

import static io.posteriors.Checks.format;

import java.util.Arrays;

/**
 * Scores of out-of-distribution detection between two sets of scores, one computed on
 * in-distribution inputs and one on out-of-distribution (OOD) inputs. OOD is the positive class and
 * a larger score means more likely OOD (for example the epistemic uncertainty, or the negative
 * maximum probability).
 *
 * <p>A threshold {@code t} flags the inputs with score {@code >= t}. Only thresholds at the
 * distinct observed scores are considered, so inputs of equal score are always flagged together:
 * ties are handled exactly and the results do not depend on input order.
 *
 * <p>Scores must be non-empty and hold no NaN; infinities are allowed.
 */
public final class OodDetection {

    private OodDetection() {}

    /**
     * Returns the area under the ROC curve, the probability that an OOD input scores higher than an
     * in-distribution input, ties counting one half: {@code (#{out > in} + #{out == in} / 2) /
     * (n_in n_out)} over all pairs. This is the Mann–Whitney {@code U} statistic of the OOD scores
     * divided by {@code n_in n_out}, and the trapezoidal area under the ROC curve through the
     * thresholds above. Computed in {@code O(n log n)} with exact integer pair counts.
     *
     * @param inScores scores of in-distribution inputs
     * @param outScores scores of out-of-distribution inputs
     * @return the AUROC, in [0, 1]
     * @throws NullPointerException when an argument is null
     * @throws IllegalArgumentException when an array is empty or holds NaN
     */
    public static double auroc(double[] inScores, double[] outScores) {
        check(inScores, outScores);
        double[] in = inScores.clone();
        double[] out = outScores.clone();
        Arrays.sort(in);
        Arrays.sort(out);
        long twiceU = 0;
        int below = 0; // in-scores < s
        int atOrBelow = 0; // in-scores <= s
        for (double s : out) {
            while (below < in.length && in[below] < s) {
                below++;
            }
            atOrBelow = Math.max(atOrBelow, below);
            while (atOrBelow < in.length && in[atOrBelow] <= s) {
                atOrBelow++;
            }
            twiceU += (long) below + atOrBelow;
        }
        return twiceU / (2.0 * in.length * out.length);
    }

    /**
     * Returns the average precision with OOD as the positive class: over the distinct scores {@code
     * t} in decreasing order, {@code AP = sum_t (R_t - R_prev) P_t}, where {@code P_t} and {@code
     * R_t} are the precision and recall of flagging every score {@code >= t} (so a tie group enters
     * at once, as in scikit-learn's {@code average_precision_score}).
     *
     * @param inScores scores of in-distribution inputs
     * @param outScores scores of out-of-distribution inputs
     * @return the average precision, in (0, 1]; a random detector gives about {@code n_out / (n_in
     *     + n_out)}
     * @throws NullPointerException when an argument is null
     * @throws IllegalArgumentException when an array is empty or holds NaN
     */
    public static double aupr(double[] inScores, double[] outScores) {
        check(inScores, outScores);
        Ranked r = rank(inScores, outScores);
        double sum = 0;
        int previousTp = 0;
        for (int g = 0; g < r.tp.length; g++) {
            int tp = r.tp[g];
            int flagged = tp + r.fp[g];
            sum += (double) (tp - previousTp) * tp / flagged;
            previousTp = tp;
        }
        return sum / outScores.length;
    }

    /**
     * Returns the smallest false positive rate over the thresholds whose true positive rate is at
     * least {@code tpr}: with {@code t} running over the distinct scores, the fraction of
     * in-distribution scores {@code >= t} at the largest {@code t} for which the fraction of OOD
     * scores {@code >= t} reaches {@code tpr} (both rates only grow as {@code t} falls).
     *
     * @param inScores scores of in-distribution inputs
     * @param outScores scores of out-of-distribution inputs
     * @param tpr the true positive rate to reach, in (0, 1]
     * @return the false positive rate, in [0, 1]
     * @throws NullPointerException when an argument is null
     * @throws IllegalArgumentException when an array is empty or holds NaN, or {@code tpr} is not
     *     in (0, 1]
     */
    public static double fprAtTpr(double[] inScores, double[] outScores, double tpr) {
        check(inScores, outScores);
        if (!(tpr > 0 && tpr <= 1)) {
            throw new IllegalArgumentException(format("tpr must be in (0, 1], got %s", tpr));
        }
        Ranked r = rank(inScores, outScores);
        for (int g = 0; g < r.tp.length; g++) {
            if ((double) r.tp[g] / outScores.length >= tpr) {
                return (double) r.fp[g] / inScores.length;
            }
        }
        throw new AssertionError("unreachable: the lowest threshold flags every input");
    }

    /**
     * Returns AUROC, AUPR and the FPR at 95% TPR.
     *
     * @param inScores scores of in-distribution inputs
     * @param outScores scores of out-of-distribution inputs
     * @return the three scores
     * @throws NullPointerException when an argument is null
     * @throws IllegalArgumentException when an array is empty or holds NaN
     */
    public static OodScores evaluate(double[] inScores, double[] outScores) {
        return new OodScores(
                auroc(inScores, outScores),
                aupr(inScores, outScores),
                fprAtTpr(inScores, outScores, 0.95));
    }

    /** Cumulative true and false positives at each distinct score, from the largest down. */
    private record Ranked(int[] tp, int[] fp) {}

    private static Ranked rank(double[] inScores, double[] outScores) {
        int n = inScores.length + outScores.length;
        double[] scores = new double[n];
        System.arraycopy(inScores, 0, scores, 0, inScores.length);
        System.arraycopy(outScores, 0, scores, inScores.length, outScores.length);
        int[] order = SelectivePrediction.sortedIndicesDescending(scores);
        int[] tp = new int[n];
        int[] fp = new int[n];
        int groups = 0;
        int positives = 0;
        int negatives = 0;
        for (int r = 0; r < n; r++) {
            int i = order[r];
            if (i >= inScores.length) {
                positives++;
            } else {
                negatives++;
            }
            // == rather than Double.compare: -0.0 and 0.0 are the same score.
            if (r == n - 1 || scores[order[r + 1]] != scores[i]) {
                tp[groups] = positives;
                fp[groups] = negatives;
                groups++;
            }
        }
        return new Ranked(Arrays.copyOf(tp, groups), Arrays.copyOf(fp, groups));
    }

    private static void check(double[] inScores, double[] outScores) {
        ArrayChecks.notNaN(inScores, "inScores");
        ArrayChecks.notNaN(outScores, "outScores");
    }
}
