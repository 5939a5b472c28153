package io.posteriors.predictive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.Arrays;
import java.util.Random;
import java.util.TreeSet;
import org.apache.commons.math3.stat.inference.MannWhitneyUTest;
import org.apache.commons.math3.stat.ranking.NaNStrategy;
import org.apache.commons.math3.stat.ranking.NaturalRanking;
import org.apache.commons.math3.stat.ranking.TiesStrategy;
import org.junit.jupiter.api.Test;

class OodDetectionTest {

    private static final double[] IN = {0.1, 0.4, 0.35, 0.8};
    private static final double[] OUT = {0.9, 0.4, 0.7};

    @Test
    void auroc_handFixtureWithTie_countsTieAsHalf() {
        // Pairs (out, in): 0.9 beats all 4; 0.4 beats 0.1, 0.35, ties 0.4, loses to 0.8 -> 2.5;
        // 0.7 beats 0.1, 0.4, 0.35 -> 3. Total 9.5 of 12.
        assertEquals(9.5 / 12, OodDetection.auroc(IN, OUT), 1e-15);
    }

    @Test
    void aupr_handFixtureWithTie_isAveragePrecisionOverDistinctThresholds() {
        // Descending: 0.9 out | 0.8 in | 0.7 out | 0.4 in+out (tie) | 0.35 in | 0.1 in.
        // Recall steps: at 0.9 P=1/1; at 0.7 P=2/3; at 0.4 P=3/5.
        double expected = (1.0 + 2.0 / 3 + 3.0 / 5) / 3;
        assertEquals(expected, OodDetection.aupr(IN, OUT), 1e-15);
    }

    @Test
    void fprAtTpr_handFixture_takesFirstThresholdReachingTpr() {
        // TPR 1/3 at 0.9 (FPR 0); 2/3 at 0.7 (FPR 1/4); 1 at 0.4 (FPR 2/4).
        assertEquals(0.0, OodDetection.fprAtTpr(IN, OUT, 1.0 / 3), 0);
        assertEquals(0.25, OodDetection.fprAtTpr(IN, OUT, 0.5), 0);
        assertEquals(0.5, OodDetection.fprAtTpr(IN, OUT, 0.95), 0);
        OodScores s = OodDetection.evaluate(IN, OUT);
        assertEquals(new OodScores(9.5 / 12, (1.0 + 2.0 / 3 + 3.0 / 5) / 3, 0.5), s);
    }

    @Test
    void evaluate_perfectSeparation_givesPerfectScores() {
        OodScores s = OodDetection.evaluate(new double[] {0, 1, 2}, new double[] {3, 4});
        assertEquals(new OodScores(1.0, 1.0, 0.0), s);
    }

    @Test
    void auroc_randomScoresWithTies_equalsMannWhitneyUOverPairCount() {
        MannWhitneyUTest mw = new MannWhitneyUTest(NaNStrategy.FAILED, TiesStrategy.AVERAGE);
        NaturalRanking ranking = new NaturalRanking(NaNStrategy.FAILED, TiesStrategy.AVERAGE);
        qt().withFixedSeed(31L)
                .withExamples(300)
                .forAll(longs().all(), integers().between(1, 40), integers().between(1, 40))
                .checkAssert(
                        (seed, nIn, nOut) -> {
                            Random rng = new Random(seed);
                            double[] in = scores(rng, nIn, 0.0);
                            double[] out = scores(rng, nOut, 0.5);
                            double auroc = OodDetection.auroc(in, out);
                            double pairs = (double) nIn * nOut;
                            // Commons Math returns max(U_in, U_out).
                            double u = mw.mannWhitneyU(in, out);
                            assertEquals(u / pairs, Math.max(auroc, 1 - auroc), 1e-12);
                            // U_out from average ranks of the pooled sample.
                            double[] pooled = new double[nIn + nOut];
                            System.arraycopy(in, 0, pooled, 0, nIn);
                            System.arraycopy(out, 0, pooled, nIn, nOut);
                            double[] ranks = ranking.rank(pooled);
                            double rankSum = 0;
                            for (int j = nIn; j < pooled.length; j++) {
                                rankSum += ranks[j];
                            }
                            double uOut = rankSum - nOut * (nOut + 1) / 2.0;
                            assertEquals(uOut / pairs, auroc, 1e-12);
                            assertEquals(bruteAuroc(in, out), auroc, 1e-12);
                        });
    }

    @Test
    void auroc_swappingSets_givesOneMinus() {
        qt().withFixedSeed(37L)
                .withExamples(300)
                .forAll(longs().all(), integers().between(1, 30), integers().between(1, 30))
                .checkAssert(
                        (seed, nIn, nOut) -> {
                            Random rng = new Random(seed);
                            double[] in = scores(rng, nIn, 0.0);
                            double[] out = scores(rng, nOut, 0.3);
                            assertEquals(
                                    1 - OodDetection.auroc(out, in),
                                    OodDetection.auroc(in, out),
                                    1e-12);
                        });
    }

    @Test
    void auprAndFprAtTpr_randomScoresWithTies_matchBruteForceOverThresholds() {
        qt().withFixedSeed(41L)
                .withExamples(300)
                .forAll(longs().all(), integers().between(1, 30), integers().between(1, 30))
                .checkAssert(
                        (seed, nIn, nOut) -> {
                            Random rng = new Random(seed);
                            double[] in = scores(rng, nIn, 0.0);
                            double[] out = scores(rng, nOut, 0.4);
                            assertEquals(bruteAupr(in, out), OodDetection.aupr(in, out), 1e-12);
                            for (double tpr : new double[] {0.05, 0.5, 0.9, 0.95, 1.0}) {
                                assertEquals(
                                        bruteFprAtTpr(in, out, tpr),
                                        OodDetection.fprAtTpr(in, out, tpr),
                                        0);
                            }
                        });
    }

    @Test
    void auroc_orderOfInputs_doesNotMatter() {
        double[] in = {0.4, 0.1, 0.8, 0.35};
        double[] out = {0.7, 0.9, 0.4};
        assertEquals(OodDetection.auroc(IN, OUT), OodDetection.auroc(in, out), 0);
        assertEquals(OodDetection.aupr(IN, OUT), OodDetection.aupr(in, out), 0);
    }

    @Test
    void evaluate_emptyOrNaN_isRejected() {
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> OodDetection.evaluate(new double[0], OUT));
        assertEquals("inScores must not be empty, got length 0", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> OodDetection.auroc(IN, new double[] {Double.NaN}));
        assertEquals("outScores[0] must not be NaN, got NaN", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OodDetection.fprAtTpr(IN, OUT, 0));
        assertEquals("tpr must be in (0, 1], got 0.0", e.getMessage());
    }

    /** Scores on a coarse grid so that ties are common. */
    private static double[] scores(Random rng, int n, double shift) {
        double[] s = new double[n];
        for (int i = 0; i < n; i++) {
            s[i] = Math.round(4 * (rng.nextGaussian() + shift)) / 4.0;
        }
        return s;
    }

    private static double bruteAuroc(double[] in, double[] out) {
        double wins = 0;
        for (double o : out) {
            for (double i : in) {
                wins += o > i ? 1 : o == i ? 0.5 : 0;
            }
        }
        return wins / in.length / out.length;
    }

    /** Precision and recall at each distinct threshold t (flag score >= t), t decreasing. */
    private static double bruteAupr(double[] in, double[] out) {
        double ap = 0;
        double previousRecall = 0;
        for (double t : thresholdsDescending(in, out)) {
            int tp = count(out, t);
            int fp = count(in, t);
            double recall = (double) tp / out.length;
            double precision = (double) tp / (tp + fp);
            ap += (recall - previousRecall) * precision;
            previousRecall = recall;
        }
        return ap;
    }

    private static double bruteFprAtTpr(double[] in, double[] out, double tpr) {
        double best = Double.POSITIVE_INFINITY;
        for (double t : thresholdsDescending(in, out)) {
            if ((double) count(out, t) / out.length >= tpr) {
                best = Math.min(best, (double) count(in, t) / in.length);
            }
        }
        return best;
    }

    private static Iterable<Double> thresholdsDescending(double[] in, double[] out) {
        TreeSet<Double> set = new TreeSet<>();
        Arrays.stream(in).forEach(set::add);
        Arrays.stream(out).forEach(set::add);
        return set.descendingSet();
    }

    private static int count(double[] values, double t) {
        return (int) Arrays.stream(values).filter(v -> v >= t).count();
    }
}
