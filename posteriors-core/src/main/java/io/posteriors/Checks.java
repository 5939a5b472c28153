package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Locale;
import java.util.Objects;

/**
 * Precondition checks shared by every module, with messages that name the parameter, the rule and
 * the value.
 *
 * <p>Messages are lower case and formatted with {@link Locale#ROOT}, for example {@code "lr must be
 * positive and finite, got -0.1"}.
 */
public final class Checks {

    private Checks() {}

    /**
     * Returns {@code value} when it is not null.
     *
     * @param value the value to check
     * @param name the parameter name used in the message
     * @param <T> the value's type
     * @return {@code value}
     * @throws NullPointerException when {@code value} is null
     */
    public static <T> T notNull(T value, String name) {
        return Objects.requireNonNull(value, name);
    }

    /**
     * Returns {@code value} when it is finite and strictly positive.
     *
     * @param value the value to check
     * @param name the parameter name used in the message
     * @return {@code value}
     * @throws IllegalArgumentException when {@code value} is NaN, infinite, zero or negative
     */
    public static double positive(double value, String name) {
        if (!(value > 0) || !Double.isFinite(value)) {
            throw new IllegalArgumentException(
                    format("%s must be positive and finite, got %s", name, value));
        }
        return value;
    }

    /**
     * Returns {@code value} when it is finite and not negative.
     *
     * @param value the value to check
     * @param name the parameter name used in the message
     * @return {@code value}
     * @throws IllegalArgumentException when {@code value} is NaN, infinite or negative
     */
    public static double nonNegative(double value, String name) {
        if (!(value >= 0) || !Double.isFinite(value)) {
            throw new IllegalArgumentException(
                    format("%s must be non-negative and finite, got %s", name, value));
        }
        return value;
    }

    /**
     * Returns {@code value} when it is finite.
     *
     * @param value the value to check
     * @param name the parameter name used in the message
     * @return {@code value}
     * @throws IllegalArgumentException when {@code value} is NaN or infinite
     */
    public static double finite(double value, String name) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException(format("%s must be finite, got %s", name, value));
        }
        return value;
    }

    /**
     * Returns {@code value} when it is at least {@code min}.
     *
     * @param value the value to check
     * @param min the smallest allowed value
     * @param name the parameter name used in the message
     * @return {@code value}
     * @throws IllegalArgumentException when {@code value < min}
     */
    public static int atLeast(int value, int min, String name) {
        if (value < min) {
            throw new IllegalArgumentException(
                    format("%s must be at least %d, got %d", name, min, value));
        }
        return value;
    }

    /**
     * Returns {@code value} when it is at least {@code min}.
     *
     * @param value the value to check
     * @param min the smallest allowed value
     * @param name the parameter name used in the message
     * @return {@code value}
     * @throws IllegalArgumentException when {@code value < min}
     */
    public static long atLeast(long value, long min, String name) {
        if (value < min) {
            throw new IllegalArgumentException(
                    format("%s must be at least %d, got %d", name, min, value));
        }
        return value;
    }

    /**
     * Evaluates a schedule at a step and checks the value is finite and not negative.
     *
     * @param schedule the schedule
     * @param step the step at which it is evaluated
     * @param name the parameter name used in the message
     * @return the schedule's value
     * @throws IllegalArgumentException when the value is NaN, infinite or negative
     */
    public static double nonNegativeAt(Schedule schedule, long step, String name) {
        double value = schedule.at(step);
        if (!(value >= 0) || !Double.isFinite(value)) {
            throw new IllegalArgumentException(
                    format(
                            "%s must be non-negative and finite, got %s at step %d",
                            name, value, step));
        }
        return value;
    }

    /**
     * Evaluates a schedule at a step and checks the value is finite and strictly positive.
     *
     * @param schedule the schedule
     * @param step the step at which it is evaluated
     * @param name the parameter name used in the message
     * @return the schedule's value
     * @throws IllegalArgumentException when the value is NaN, infinite, zero or negative
     */
    public static double positiveAt(Schedule schedule, long step, String name) {
        double value = schedule.at(step);
        if (!(value > 0) || !Double.isFinite(value)) {
            throw new IllegalArgumentException(
                    format("%s must be positive and finite, got %s at step %d", name, value, step));
        }
        return value;
    }

    /**
     * Checks that an array is open, so that a closed manager is reported by name rather than by a
     * native crash.
     *
     * @param array the array
     * @param name the parameter name used in the message
     * @return {@code array}
     * @throws IllegalStateException when the array or its manager has been closed
     */
    public static NDArray open(NDArray array, String name) {
        notNull(array, name);
        if (array.isReleased()) {
            throw new IllegalStateException(format("%s has been closed", name));
        }
        NDManager manager = array.getManager();
        if (manager != null && !manager.isOpen()) {
            throw new IllegalStateException(format("the manager of %s has been closed", name));
        }
        return array;
    }

    /**
     * Formats a message with {@link Locale#ROOT}.
     *
     * @param template the format string
     * @param args the arguments
     * @return the message
     */
    public static String format(String template, Object... args) {
        return String.format(Locale.ROOT, template, args);
    }
}
