package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.longs;

import org.junit.jupiter.api.Test;
import org.quicktheories.QuickTheory;

class ScheduleTest {

    private static QuickTheory theory() {
        return qt().withFixedSeed(7L).withExamples(100);
    }

    @Test
    void polynomialDecay_hitsEndpoints_andStaysAtEnd() {
        theory().forAll(
                        doubles().between(-10, 10),
                        doubles().between(-10, 10),
                        doubles().between(0.1, 4),
                        longs().between(1, 10_000))
                .checkAssert(
                        (init, end, power, steps) -> {
                            Schedule s = Schedule.polynomialDecay(init, end, power, steps);
                            assertEquals(init, s.at(0), 1e-12);
                            assertEquals(end, s.at(steps), 1e-12);
                            assertEquals(end, s.at(steps + 1), 1e-12);
                            assertEquals(end, s.at(10 * steps + 3), 1e-12);
                            assertEquals(init, s.at(-5), 1e-12, "negative steps clamp to 0");
                        });
    }

    @Test
    void polynomialDecay_isMonotoneBetweenEndpoints() {
        theory().forAll(
                        doubles().between(-10, 10),
                        doubles().between(-10, 10),
                        doubles().between(0.1, 4),
                        longs().between(1, 200))
                .checkAssert(
                        (init, end, power, steps) -> {
                            Schedule s = Schedule.polynomialDecay(init, end, power, steps);
                            double sign = Math.signum(end - init);
                            double lo = Math.min(init, end);
                            double hi = Math.max(init, end);
                            double prev = s.at(0);
                            for (long t = 1; t <= steps + 2; t++) {
                                double v = s.at(t);
                                assertTrue(
                                        sign * (v - prev) >= -1e-12,
                                        "moves towards end at step " + t);
                                assertTrue(v >= lo - 1e-12 && v <= hi + 1e-12, "stays in range");
                                prev = v;
                            }
                        });
    }

    @Test
    void polynomialDecay_linearPower_isStraightLine() {
        Schedule s = Schedule.polynomialDecay(1.0, 0.0, 1.0, 4);
        assertEquals(1.0, s.at(0));
        assertEquals(0.75, s.at(1), 1e-15);
        assertEquals(0.5, s.at(2), 1e-15);
        assertEquals(0.25, s.at(3), 1e-15);
        assertEquals(0.0, s.at(4), 1e-15);
        Schedule q = Schedule.polynomialDecay(2.0, 1.0, 2.0, 10);
        // halfway: end + (init - end) (1/2)^2
        assertEquals(1.25, q.at(5), 1e-15);
    }

    @Test
    void inverseDecay_startsAtInit_halvesAtTimescale_andDecreases() {
        theory().forAll(
                        doubles().between(1e-6, 10),
                        doubles().between(1, 1000),
                        doubles().between(0.1, 2))
                .checkAssert(
                        (init, timescale, power) -> {
                            Schedule s = Schedule.inverseDecay(init, timescale, power);
                            assertEquals(init, s.at(0), 1e-15 * init);
                            double prev = s.at(0);
                            for (long t = 1; t < 50; t++) {
                                double v = s.at(t);
                                assertTrue(v < prev && v > 0, "strictly decreasing, positive");
                                prev = v;
                            }
                        });
        Schedule s = Schedule.inverseDecay(0.3, 100, 1);
        assertEquals(0.15, s.at(100), 1e-15);
        Schedule r = Schedule.inverseDecay(1, 1, 0.5);
        assertEquals(0.5, r.at(3), 1e-15);
    }

    @Test
    void constant_isConstant() {
        Schedule s = Schedule.constant(0.25);
        assertEquals(0.25, s.at(0));
        assertEquals(0.25, s.at(Long.MAX_VALUE));
    }

    @Test
    void factories_rejectBadArguments_namingThem() {
        var steps =
                assertThrows(
                        IllegalArgumentException.class, () -> Schedule.polynomialDecay(1, 0, 1, 0));
        assertTrue(steps.getMessage().contains("steps"), steps.getMessage());
        assertTrue(steps.getMessage().contains("at least 1"), steps.getMessage());
        assertTrue(steps.getMessage().contains("got 0"), steps.getMessage());
        var power =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Schedule.polynomialDecay(1, 0, 0, 10));
        assertTrue(power.getMessage().contains("power"), power.getMessage());
        var init =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Schedule.polynomialDecay(Double.NaN, 0, 1, 10));
        assertTrue(init.getMessage().contains("init") && init.getMessage().contains("NaN"));
        var c =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Schedule.constant(Double.POSITIVE_INFINITY));
        assertTrue(c.getMessage().contains("value") && c.getMessage().contains("Infinity"));
        var ts =
                assertThrows(IllegalArgumentException.class, () -> Schedule.inverseDecay(1, -1, 1));
        assertTrue(ts.getMessage().contains("timescale") && ts.getMessage().contains("-1.0"));
    }

    @Test
    void checks_atStep_reportValueAndStep() {
        Schedule s = step -> step < 3 ? 0.1 : -0.5;
        assertEquals(0.1, Checks.nonNegativeAt(s, 2, "lr"));
        var e =
                assertThrows(
                        IllegalArgumentException.class, () -> Checks.nonNegativeAt(s, 3, "lr"));
        assertTrue(e.getMessage().contains("lr"), e.getMessage());
        assertTrue(e.getMessage().contains("-0.5"), e.getMessage());
        assertTrue(e.getMessage().contains("step 3"), e.getMessage());
        assertTrue(e.getMessage().contains("non-negative"), e.getMessage());
        Schedule zero = Schedule.constant(0);
        assertEquals(0.0, Checks.nonNegativeAt(zero, 0, "temperature"));
        var p =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Checks.positiveAt(zero, 7, "temperature"));
        assertTrue(p.getMessage().contains("temperature") && p.getMessage().contains("step 7"));
        Schedule nan = step -> Double.NaN;
        var n = assertThrows(IllegalArgumentException.class, () -> Checks.positiveAt(nan, 0, "lr"));
        assertTrue(n.getMessage().contains("NaN"), n.getMessage());
    }
}
