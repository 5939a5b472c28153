package io.posteriors.predictive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ClassificationMetricsTest {

    // Three classes, five inputs. Predictions: 0, 1, 0 (tie 0/1 -> first), 2, 1.
    private static final double[][] PROBS = {
        {0.7, 0.2, 0.1},
        {0.1, 0.6, 0.3},
        {0.4, 0.4, 0.2},
        {0.05, 0.05, 0.9},
        {0.3, 0.5, 0.2},
    };
    private static final int[] LABELS = {0, 2, 1, 2, 1};

    @Test
    void accuracy_handFixture_countsFirstIndexOnTies() {
        // correct: input 0 (0=0), 1 no (1!=2), 2 no (tie -> 0 != 1), 3 yes, 4 yes.
        assertEquals(3.0 / 5, ClassificationMetrics.accuracy(PROBS, LABELS), 0);
    }

    @Test
    void nll_handFixture_isMeanNegativeLogOfTrueClass() {
        double expected =
                -(Math.log(0.7) + Math.log(0.3) + Math.log(0.4) + Math.log(0.9) + Math.log(0.5))
                        / 5;
        assertEquals(expected, ClassificationMetrics.nll(PROBS, LABELS), 1e-15);
    }

    @Test
    void nll_zeroProbabilityOnTrueClass_isPositiveInfinity() {
        double[][] probs = {{1.0, 0.0}, {0.5, 0.5}};
        assertEquals(
                Double.POSITIVE_INFINITY, ClassificationMetrics.nll(probs, new int[] {1, 0}), 0);
    }

    @Test
    void brier_handFixture_isMeanSquaredDistanceToOneHot() {
        double b0 = 0.3 * 0.3 + 0.2 * 0.2 + 0.1 * 0.1;
        double b1 = 0.1 * 0.1 + 0.6 * 0.6 + 0.7 * 0.7;
        double b2 = 0.4 * 0.4 + 0.6 * 0.6 + 0.2 * 0.2;
        double b3 = 0.05 * 0.05 + 0.05 * 0.05 + 0.1 * 0.1;
        double b4 = 0.3 * 0.3 + 0.5 * 0.5 + 0.2 * 0.2;
        assertEquals(
                (b0 + b1 + b2 + b3 + b4) / 5, ClassificationMetrics.brier(PROBS, LABELS), 1e-15);
    }

    @Test
    void calibration_equalWidthHandFixture_matchesDirectComputation() {
        // Confidences 0.7, 0.6, 0.4, 0.9, 0.5; correct T, F, F, T, T. Two bins: [0, 0.5], (0.5, 1].
        Calibration c = ClassificationMetrics.calibration(PROBS, LABELS, 2, Binning.EQUAL_WIDTH);
        // Bin 0: {0.4 F, 0.5 T}: conf 0.45, acc 0.5. Bin 1: {0.7 T, 0.6 F, 0.9 T}: conf 2.2/3, acc
        // 2/3.
        double gap0 = Math.abs(0.5 - 0.45);
        double gap1 = Math.abs(2.0 / 3 - 2.2 / 3);
        assertEquals(2.0 / 5 * gap0 + 3.0 / 5 * gap1, c.ece(), 1e-15);
        assertEquals(Math.max(gap0, gap1), c.mce(), 1e-15);
        assertEquals(Binning.EQUAL_WIDTH, c.binning());
        List<Calibration.Bin> bins = c.bins();
        assertEquals(2, bins.size());
        assertBin(bins.get(0), 0.0, 0.5, 2, 0.45, 0.5);
        assertBin(bins.get(1), 0.5, 1.0, 3, 2.2 / 3, 2.0 / 3);
    }

    @Test
    void calibration_equalWidthManyBins_listsEmptyBinsWithNaNAndSkipsThemInMce() {
        // Ten bins: 0.4 -> (0.3, 0.4], 0.5 -> (0.4, 0.5], 0.6 -> (0.5, 0.6], 0.7, 0.9.
        Calibration c = ClassificationMetrics.calibration(PROBS, LABELS, 10, Binning.EQUAL_WIDTH);
        assertEquals(10, c.bins().size());
        int[] counts = c.bins().stream().mapToInt(Calibration.Bin::count).toArray();
        assertEquals(List.of(0, 0, 0, 1, 1, 1, 1, 0, 1, 0), boxed(counts));
        Calibration.Bin empty = c.bins().get(0);
        assertTrue(empty.isEmpty());
        assertTrue(Double.isNaN(empty.meanConfidence()) && Double.isNaN(empty.accuracy()));
        // Singletons: gaps |1 - 0.7|, |0 - 0.6|, |0 - 0.4|, |1 - 0.9|, |1 - 0.5|.
        double ece = (0.3 + 0.6 + 0.4 + 0.1 + 0.5) / 5;
        assertEquals(ece, c.ece(), 1e-15);
        assertEquals(0.6, c.mce(), 1e-15);
    }

    @Test
    void calibration_confidenceOnBinEdge_goesToLowerBin() {
        // Confidence exactly 0.5 with two bins lies in [0, 0.5]; 1.0 in (0.5, 1].
        double[][] probs = {{0.5, 0.5}, {1.0, 0.0}};
        Calibration c =
                ClassificationMetrics.calibration(probs, new int[] {0, 0}, 2, Binning.EQUAL_WIDTH);
        assertEquals(1, c.bins().get(0).count());
        assertEquals(1, c.bins().get(1).count());
    }

    @Test
    void calibration_equalMassHandFixture_matchesDirectComputation() {
        // Sorted confidences: 0.4 F, 0.5 T, 0.6 F, 0.7 T, 0.9 T. Two bins by position: floor(5/2)=2
        // -> {0.4, 0.5} and {0.6, 0.7, 0.9}.
        Calibration c = ClassificationMetrics.calibration(PROBS, LABELS, 2, Binning.EQUAL_MASS);
        assertBin(c.bins().get(0), 0.4, 0.5, 2, 0.45, 0.5);
        assertBin(c.bins().get(1), 0.6, 0.9, 3, 2.2 / 3, 2.0 / 3);
        double gap0 = 0.05;
        double gap1 = Math.abs(2.0 / 3 - 2.2 / 3);
        assertEquals(0.4 * gap0 + 0.6 * gap1, c.ece(), 1e-15);
        assertEquals(Math.max(gap0, gap1), c.mce(), 1e-15);
    }

    @Test
    void calibration_equalMassBinsEqualToInputs_givesOneInputPerBin() {
        Calibration c = ClassificationMetrics.calibration(PROBS, LABELS, 5, Binning.EQUAL_MASS);
        assertTrue(c.bins().stream().allMatch(b -> b.count() == 1));
        assertEquals((0.3 + 0.6 + 0.4 + 0.1 + 0.5) / 5, c.ece(), 1e-15);
    }

    @Test
    void ece_default_equalsEqualWidthCalibration() {
        assertEquals(
                ClassificationMetrics.calibration(PROBS, LABELS, 4, Binning.EQUAL_WIDTH).ece(),
                ClassificationMetrics.ece(PROBS, LABELS, 4),
                0);
    }

    @Test
    void calibration_randomInputs_eceMatchesDirectLoopAndLiesInUnitInterval() {
        qt().withFixedSeed(11L)
                .withExamples(200)
                .forAll(longs().all(), integers().between(1, 60), integers().between(1, 15))
                .checkAssert(
                        (seed, n, bins) -> {
                            Random rng = new Random(seed);
                            double[][] probs = randomProbs(rng, n, 1 + rng.nextInt(5));
                            int[] labels = new int[n];
                            for (int i = 0; i < n; i++) {
                                labels[i] = rng.nextInt(probs[0].length);
                            }
                            for (Binning binning : Binning.values()) {
                                if (binning == Binning.EQUAL_MASS && bins > n) {
                                    continue;
                                }
                                Calibration c =
                                        ClassificationMetrics.calibration(
                                                probs, labels, bins, binning);
                                assertTrue(c.ece() >= 0 && c.ece() <= 1, "ece " + c.ece());
                                assertTrue(c.mce() >= c.ece() - 1e-12, "mce >= ece");
                                assertEquals(
                                        n,
                                        c.bins().stream().mapToInt(Calibration.Bin::count).sum());
                                if (binning == Binning.EQUAL_WIDTH) {
                                    assertEquals(
                                            directEqualWidthEce(probs, labels, bins),
                                            c.ece(),
                                            1e-12);
                                }
                            }
                        });
    }

    @Test
    void accuracy_labelOutOfRange_namesIndexRangeAndValue() {
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ClassificationMetrics.accuracy(PROBS, new int[] {0, 2, 1, 7, 1}));
        assertEquals("labels[3] must be in [0, 3), got 7", e.getMessage());
    }

    @Test
    void nll_rowNotSummingToOne_isRejected() {
        double[][] probs = {{0.5, 0.4}};
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ClassificationMetrics.nll(probs, new int[] {0}));
        assertTrue(e.getMessage().startsWith("probs[0] must sum to 1 within 1.0E-6, got sum 0.9"));
    }

    @Test
    void brier_negativeProbability_isRejected() {
        double[][] probs = {{1.1, -0.1}};
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ClassificationMetrics.brier(probs, new int[] {0}));
        assertEquals("probs[0][0] must be in [0, 1], got 1.1", e.getMessage());
    }

    @Test
    void accuracy_lengthMismatchOrEmpty_isRejected() {
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ClassificationMetrics.accuracy(PROBS, new int[] {0}));
        assertEquals("labels must have the length of probs (5), got length 1", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ClassificationMetrics.accuracy(new double[0][], new int[0]));
        assertEquals("probs must not be empty, got 0 rows", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                ClassificationMetrics.accuracy(
                                        new double[][] {{1.0}, {0.5, 0.5}}, new int[] {0, 0}));
        assertEquals("probs[1] must have the length of probs[0] (1), got length 2", e.getMessage());
    }

    @Test
    void calibration_badBins_isRejected() {
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                ClassificationMetrics.calibration(
                                        PROBS, LABELS, 0, Binning.EQUAL_WIDTH));
        assertEquals("bins must be at least 1, got 0", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                ClassificationMetrics.calibration(
                                        PROBS, LABELS, 6, Binning.EQUAL_MASS));
        assertEquals(
                "bins must be at most the number of inputs (5) for EQUAL_MASS, got 6",
                e.getMessage());
    }

    /** ECE by the textbook loop: for each bin, scan all inputs whose confidence falls in it. */
    private static double directEqualWidthEce(double[][] probs, int[] labels, int bins) {
        int n = probs.length;
        double ece = 0;
        for (int b = 0; b < bins; b++) {
            double lo = (double) b / bins;
            double hi = (double) (b + 1) / bins;
            int count = 0;
            double conf = 0;
            int hits = 0;
            for (int i = 0; i < n; i++) {
                int pred = 0;
                for (int k = 1; k < probs[i].length; k++) {
                    if (probs[i][k] > probs[i][pred]) {
                        pred = k;
                    }
                }
                double c = probs[i][pred];
                boolean inBin = (c > lo || (b == 0 && c >= lo)) && c <= hi;
                if (inBin) {
                    count++;
                    conf += c;
                    hits += pred == labels[i] ? 1 : 0;
                }
            }
            if (count > 0) {
                ece += (double) count / n * Math.abs((double) hits / count - conf / count);
            }
        }
        return ece;
    }

    static double[][] randomProbs(Random rng, int n, int classes) {
        double[][] probs = new double[n][classes];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int k = 0; k < classes; k++) {
                probs[i][k] = -Math.log(1 - rng.nextDouble());
                sum += probs[i][k];
            }
            for (int k = 0; k < classes; k++) {
                probs[i][k] /= sum;
            }
        }
        return probs;
    }

    private static void assertBin(
            Calibration.Bin bin, double lower, double upper, int count, double conf, double acc) {
        assertEquals(lower, bin.lower(), 1e-15);
        assertEquals(upper, bin.upper(), 1e-15);
        assertEquals(count, bin.count());
        assertEquals(conf, bin.meanConfidence(), 1e-15);
        assertEquals(acc, bin.accuracy(), 1e-15);
    }

    private static List<Integer> boxed(int[] values) {
        return java.util.Arrays.stream(values).boxed().toList();
    }
}
