package io.posteriors.predictive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SelectivePredictionTest {

    @Test
    void curve_distinctConfidences_answersMostConfidentFirst() {
        double[] confidence = {0.9, 0.2, 0.6, 0.8};
        boolean[] correct = {true, false, false, true};
        RiskCoverage rc = SelectivePrediction.curve(confidence, correct);
        // Order: 0.9 T, 0.8 T, 0.6 F, 0.2 F.
        assertArrayEquals(new int[] {1, 2, 3, 4}, rc.answered());
        assertArrayEquals(new int[] {1, 2, 2, 2}, rc.correct());
        assertArrayEquals(new double[] {0.25, 0.5, 0.75, 1.0}, rc.coverage(), 0);
        assertArrayEquals(new double[] {1, 1, 2.0 / 3, 0.5}, rc.accuracy(), 1e-15);
        assertArrayEquals(new double[] {0, 0, 1.0 / 3, 0.5}, rc.risk(), 1e-15);
        // No ties: AURC = (0/1 + 0/2 + 1/3 + 2/4) / 4.
        assertEquals((1.0 / 3 + 0.5) / 4, rc.aurc(), 1e-15);
    }

    @Test
    void curve_tiedConfidences_admitsTieGroupTogether() {
        double[] confidence = {0.5, 0.9, 0.5, 0.5, 0.1};
        boolean[] correct = {true, true, false, false, true};
        RiskCoverage rc = SelectivePrediction.curve(confidence, correct);
        assertArrayEquals(new int[] {1, 4, 5}, rc.answered());
        assertArrayEquals(new int[] {1, 2, 3}, rc.correct());
        assertArrayEquals(new double[] {0.2, 0.8, 1.0}, rc.coverage(), 1e-15);
        assertEquals(3, rc.answered().length);
        assertEquals(5, rc.size());
    }

    @Test
    void accuracyAtCoverage_insideTieGroup_admitsGroupInProportion() {
        double[] confidence = {0.5, 0.9, 0.5, 0.5, 0.1};
        boolean[] correct = {true, true, false, false, true};
        RiskCoverage rc = SelectivePrediction.curve(confidence, correct);
        // k = 2: the 0.9 input (correct) plus 1 of the tie group of 3 with 1 correct: (1 + 1/3) /
        // 2.
        assertEquals((1 + 1.0 / 3) / 2, rc.accuracyAtCoverage(0.4), 1e-15);
        // k = 1: just the 0.9 input.
        assertEquals(1.0, rc.accuracyAtCoverage(0.2), 1e-15);
        // Half an input: still the first group's accuracy.
        assertEquals(1.0, rc.accuracyAtCoverage(0.1), 1e-15);
        assertEquals(0.6, rc.accuracyAtCoverage(1.0), 1e-15);
    }

    @Test
    void aurc_withTies_equalsAverageOverAllTieOrders() {
        Random rng = new Random(17);
        for (int trial = 0; trial < 40; trial++) {
            int n = 1 + rng.nextInt(7);
            double[] confidence = new double[n];
            boolean[] correct = new boolean[n];
            for (int i = 0; i < n; i++) {
                confidence[i] = rng.nextInt(3) / 2.0; // values 0, 0.5, 1: many ties
                correct[i] = rng.nextBoolean();
            }
            RiskCoverage rc = SelectivePrediction.curve(confidence, correct);
            List<int[]> orders = confidenceOrders(confidence);
            double aurc = 0;
            double[] accAt = new double[n + 1];
            for (int[] order : orders) {
                int errors = 0;
                int hits = 0;
                double sum = 0;
                for (int k = 1; k <= n; k++) {
                    boolean ok = correct[order[k - 1]];
                    errors += ok ? 0 : 1;
                    hits += ok ? 1 : 0;
                    sum += (double) errors / k;
                    accAt[k] += (double) hits / k / orders.size();
                }
                aurc += sum / n / orders.size();
            }
            assertEquals(aurc, rc.aurc(), 1e-12, "trial " + trial);
            for (int k = 1; k <= n; k++) {
                assertEquals(accAt[k], rc.accuracyAtCoverage((double) k / n), 1e-12);
            }
        }
    }

    @Test
    void accuracyAtCoverage_fullCoverage_equalsOverallAccuracy() {
        qt().withFixedSeed(23L)
                .withExamples(300)
                .forAll(longs().all(), integers().between(1, 50))
                .checkAssert(
                        (seed, n) -> {
                            Random rng = new Random(seed);
                            double[] confidence = new double[n];
                            boolean[] correct = new boolean[n];
                            int hits = 0;
                            for (int i = 0; i < n; i++) {
                                confidence[i] = rng.nextInt(1 + rng.nextInt(n)) / (double) n;
                                correct[i] = rng.nextBoolean();
                                hits += correct[i] ? 1 : 0;
                            }
                            RiskCoverage rc = SelectivePrediction.curve(confidence, correct);
                            assertEquals((double) hits / n, rc.accuracyAtCoverage(1.0), 1e-15);
                            double[] acc = rc.accuracy();
                            assertEquals((double) hits / n, acc[acc.length - 1], 1e-15);
                            assertEquals(1.0, rc.coverage()[acc.length - 1], 0);
                            double aurc = rc.aurc();
                            assertEquals(true, aurc >= 0 && aurc <= 1 + 1e-15, "aurc " + aurc);
                        });
    }

    @Test
    void curve_badInput_isRejected() {
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                SelectivePrediction.curve(
                                        new double[] {0.1, Double.NaN}, new boolean[2]));
        assertEquals("confidence[1] must not be NaN, got NaN", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> SelectivePrediction.curve(new double[] {0.1}, new boolean[2]));
        assertEquals(
                "correct must have the length of confidence (1), got length 2", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> SelectivePrediction.curve(new double[0], new boolean[0]));
        assertEquals("confidence must not be empty, got length 0", e.getMessage());
    }

    @Test
    void accuracyAtCoverage_outsideHalfOpenUnitInterval_isRejected() {
        RiskCoverage rc = SelectivePrediction.curve(new double[] {1}, new boolean[] {true});
        var e = assertThrows(IllegalArgumentException.class, () -> rc.accuracyAtCoverage(0));
        assertEquals("coverage must be in (0, 1], got 0.0", e.getMessage());
    }

    @Test
    void riskCoverage_inconsistentCounts_isRejected() {
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> new RiskCoverage(new int[] {2, 2}, new int[] {1, 1}));
        assertEquals("answered[1] must be greater than 2, got 2", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> new RiskCoverage(new int[] {2, 3}, new int[] {1, 3}));
        assertEquals("correct[1] must be in [1, 2], got 3", e.getMessage());
    }

    /** Every order of the indices with non-increasing confidence (permutations within ties). */
    private static List<int[]> confidenceOrders(double[] confidence) {
        List<int[]> out = new ArrayList<>();
        permute(confidence, new int[confidence.length], new boolean[confidence.length], 0, out);
        return out;
    }

    private static void permute(
            double[] confidence, int[] prefix, boolean[] used, int depth, List<int[]> out) {
        if (depth == confidence.length) {
            out.add(prefix.clone());
            return;
        }
        for (int i = 0; i < confidence.length; i++) {
            if (used[i] || (depth > 0 && confidence[i] > confidence[prefix[depth - 1]])) {
                continue;
            }
            // Only extend with a maximal remaining confidence, so the order is non-increasing.
            boolean maximal = true;
            for (int j = 0; j < confidence.length; j++) {
                if (!used[j] && confidence[j] > confidence[i]) {
                    maximal = false;
                }
            }
            if (!maximal) {
                continue;
            }
            used[i] = true;
            prefix[depth] = i;
            permute(confidence, prefix, used, depth + 1, out);
            used[i] = false;
        }
    }
}
