package io.posteriors.predictive;

/** How {@link ClassificationMetrics#calibration} groups inputs by confidence. */
public enum Binning {
    /**
     * Bins of equal width on [0, 1]: with {@code B} bins, bin {@code b} holds the confidences in
     * {@code (b / B, (b + 1) / B]}, and the first bin also holds a confidence of exactly 0. The
     * bounds are the doubles {@code b / (double) B}, compared exactly. Empty bins are reported with
     * count 0.
     */
    EQUAL_WIDTH,

    /**
     * Bins of (near-)equal count: the confidences are sorted (ties in input order) and split by
     * position, bin {@code b} holding sorted positions {@code [floor(b n / B), floor((b + 1) n /
     * B))}, so bin sizes differ by at most one. Equal confidences at a boundary may fall into two
     * neighbouring bins. A bin's bounds are the smallest and the largest confidence in it.
     */
    EQUAL_MASS
}
