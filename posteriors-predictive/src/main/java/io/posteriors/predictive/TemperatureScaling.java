package io.posteriors.predictive;

import static io.posteriors.Checks.format;

import io.posteriors.Checks;
import org.apache.commons.math3.analysis.solvers.BrentSolver;

/**
 * Temperature scaling (Guo, Pleiss, Sun and Weinberger, "On Calibration of Modern Neural Networks",
 * 2017): one scalar {@code T > 0} divides every logit, fitted on held-out data by minimising the
 * negative log likelihood; predictions (the argmax) do not change, confidence does.
 *
 * <p>Write {@code beta = 1/T} and {@code f(beta) = (1/n) sum_i [logsumexp(beta z_i) - beta
 * z_{i,y_i}]}, the NLL of {@code softmax(beta z)}. Its derivative is {@code f'(beta) = (1/n) sum_i
 * (E_{softmax(beta z_i)}[z_i] - z_{i,y_i})} and its second derivative the mean variance of the
 * logits under {@code softmax(beta z_i)}, which is positive unless every row is constant. So {@code
 * f} is strictly convex in {@code beta}, {@code f'} is strictly increasing, and a finite optimum
 * {@code T > 0} exists, and is then unique, exactly when {@code f'(0) < 0} (the logits do better
 * than a uniform prediction) and {@code f'(infinity) = (1/n) sum_i (max_k z_ik - z_{i,y_i}) > 0}
 * (some label is not a largest logit). {@link #fit} checks both and finds the root of {@code f'}
 * with Brent's method (Commons Math {@link BrentSolver}) after bracketing it by doubling and
 * halving {@code beta}; the search therefore spans every positive temperature a double can hold,
 * with no fixed bracket.
 */
public final class TemperatureScaling {

    private static final int MAX_EVALUATIONS = 500;

    private TemperatureScaling() {}

    /**
     * Returns the temperature {@code T > 0} that minimises the mean negative log likelihood of
     * {@code softmax(logits / T)} on the given labels.
     *
     * @param logits unnormalised log probabilities, one row per input, finite
     * @param labels true classes, one per row of {@code logits}
     * @return the fitted temperature, positive and finite
     * @throws NullPointerException when an argument or a row is null
     * @throws IllegalArgumentException when {@code logits} is empty, not rectangular or not finite,
     *     the lengths differ, a label is not in {@code [0, classes)}, the logits do no better than
     *     a uniform prediction (the NLL falls all the way to {@code T -> infinity}), or every label
     *     is a largest logit of its row (the NLL falls all the way to {@code T -> 0})
     */
    public static double fit(double[][] logits, int[] labels) {
        int classes = ArrayChecks.finite(logits, "logits");
        ArrayChecks.labels(labels, logits.length, classes, "labels", "logits");
        double atZero = 0;
        double atInfinity = 0;
        for (int i = 0; i < logits.length; i++) {
            double mean = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (double z : logits[i]) {
                mean += z;
                max = Math.max(max, z);
            }
            atZero += mean / classes - logits[i][labels[i]];
            atInfinity += max - logits[i][labels[i]];
        }
        if (!(atZero < 0)) {
            throw new IllegalArgumentException(
                    format(
                            "logits must predict the labels better than a uniform distribution"
                                    + " for a finite temperature to exist: the mean label logit"
                                    + " minus the mean logit must be positive, got %s",
                            -atZero / logits.length));
        }
        if (!(atInfinity > 0)) {
            throw new IllegalArgumentException(
                    "labels must not all be a largest logit of their row: the nll then falls as"
                            + " the temperature goes to 0 and no finite temperature minimises it");
        }
        double hi = 1;
        double lo = 1;
        if (derivative(logits, labels, 1) > 0) {
            do {
                lo /= 2;
            } while (derivative(logits, labels, lo) >= 0);
            hi = 2 * lo;
        } else {
            do {
                hi *= 2;
                if (Double.isInfinite(hi)) {
                    throw new IllegalStateException(
                            "the nll derivative did not turn positive before 1/T overflowed");
                }
            } while (derivative(logits, labels, hi) <= 0);
            lo = hi / 2;
        }
        double beta =
                new BrentSolver(1e-15, Double.MIN_NORMAL, 0)
                        .solve(MAX_EVALUATIONS, b -> derivative(logits, labels, b), lo, hi);
        return 1 / beta;
    }

    /**
     * Returns {@code softmax(logits / t)} row by row, computed stably (the largest logit of a row
     * is subtracted before dividing and exponentiating, so no entry overflows).
     *
     * @param logits unnormalised log probabilities, one row per input, finite
     * @param t the temperature, positive and finite
     * @return the probabilities, a new array with one row per input
     * @throws NullPointerException when {@code logits} or a row is null
     * @throws IllegalArgumentException when {@code logits} is empty, not rectangular or not finite,
     *     or {@code t} is not positive and finite
     */
    public static double[][] apply(double[][] logits, double t) {
        ArrayChecks.finite(logits, "logits");
        Checks.positive(t, "t");
        double[][] probs = new double[logits.length][];
        for (int i = 0; i < logits.length; i++) {
            probs[i] = softmax(logits[i], t);
        }
        return probs;
    }

    /**
     * softmax(z / t), subtracting the row maximum first; dividing (rather than multiplying by 1/t)
     * keeps a subnormal t from turning 0 * infinity into NaN.
     */
    private static double[] softmax(double[] z, double t) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double[] p = new double[z.length];
        double sum = 0;
        for (int k = 0; k < z.length; k++) {
            p[k] = Math.exp((z[k] - max) / t);
            sum += p[k];
        }
        for (int k = 0; k < z.length; k++) {
            p[k] /= sum;
        }
        return p;
    }

    /** The derivative of the mean NLL of softmax(beta z) with respect to beta. */
    private static double derivative(double[][] logits, int[] labels, double beta) {
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            double[] p = softmax(logits[i], 1 / beta);
            double expected = 0;
            for (int k = 0; k < p.length; k++) {
                expected += p[k] * logits[i][k];
            }
            sum += expected - logits[i][labels[i]];
        }
        return sum / logits.length;
    }
}
