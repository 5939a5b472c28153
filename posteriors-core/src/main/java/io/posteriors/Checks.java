package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
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
     * Returns {@code tree} when it is not null and none of its arrays or their managers is closed.
     *
     * @param tree the tree to check
     * @param name the parameter name used in the message, e.g. {@code "params"}
     * @return {@code tree}
     * @throws NullPointerException when {@code tree} is null
     * @throws IllegalStateException naming the leaf when an array or its manager is closed
     */
    public static TensorTree openTree(TensorTree tree, String name) {
        notNull(tree, name);
        tree.forEach((k, a) -> open(a, name + " leaf '" + k + "'"));
        return tree;
    }

    /**
     * Returns {@code state} when it is not null and none of its arrays is closed.
     *
     * @param state the state to check
     * @param <S> the state type
     * @return {@code state}
     * @throws NullPointerException when {@code state} is null
     * @throws IllegalStateException when one of its arrays or their managers is closed
     */
    public static <S extends State> S open(S state) {
        notNull(state, "state");
        for (NDArray a : state.arrays()) {
            open(a, "state array");
        }
        return state;
    }

    /**
     * Checks that {@code value} is a finite scalar array, naming the step when it is not.
     *
     * @param value the value, a 0-d array
     * @param what what the value is, e.g. {@code "log posterior"} or {@code "nelbo"}
     * @param step the step at which it was computed
     * @throws IllegalArgumentException when {@code value} is not 0-d or not finite
     */
    public static void finiteScalar(NDArray value, String what, long step) {
        notNull(value, what);
        if (value.getShape().dimension() != 0) {
            throw new IllegalArgumentException(
                    format(
                            "%s must be a scalar (shape ()), got shape %s at step %d; average or"
                                    + " sum over the batch, or use a per-sample method",
                            what, value.getShape(), step));
        }
        double d = Scalars.value(value);
        if (!Double.isFinite(d)) {
            throw new IllegalArgumentException(
                    format(
                            "%s must be finite, got %s at step %d; check the data of this batch"
                                    + " and the parameters for overflow or log(0)",
                            what, d, step));
        }
    }

    /**
     * Checks that every entry of every leaf of {@code tree} is finite. A finite sum of each leaf
     * proves it with one reduction per leaf; only a failing tree is searched for its first bad
     * entry.
     *
     * @param tree the tree
     * @param what what the tree is, e.g. {@code "params"} or {@code "gradient"}
     * @param step the step at which it was computed (use 0 for initial values)
     * @throws IllegalArgumentException naming the first non-finite leaf, the step, the number of
     *     non-finite entries and the first of them
     */
    public static void finite(TensorTree tree, String what, long step) {
        notNull(tree, what);
        if (sumsAreFinite(tree)) {
            return;
        }
        Scopes.run(
                () -> {
                    List<String> names = tree.names();
                    for (String k : names) {
                        NDArray f = tree.get(k).isNaN().logicalOr(tree.get(k).isInfinite());
                        if (!f.any().getBoolean()) {
                            continue;
                        }
                        NDArray flat = f.flatten();
                        long count = flat.toType(DataType.INT64, false).sum().getLong();
                        long at = flat.toType(DataType.INT32, false).argMax().getLong();
                        double v =
                                tree.get(k)
                                        .flatten()
                                        .get(at)
                                        .toType(DataType.FLOAT64, false)
                                        .getDouble();
                        throw new IllegalArgumentException(
                                format(
                                        "%s must be finite, got %s at leaf '%s' flat index %d at"
                                                + " step %d (%d non-finite entries)",
                                        what, v, k, at, step, count));
                    }
                });
    }

    private static boolean sumsAreFinite(TensorTree tree) {
        return Scopes.call(
                null,
                () -> {
                    NDList sums = new NDList(tree.size());
                    tree.forEach((k, a) -> sums.add(a.sum().toType(DataType.FLOAT64, false)));
                    for (double v : NDArrays.stack(sums).toDoubleArray()) {
                        if (!Double.isFinite(v)) {
                            return false;
                        }
                    }
                    return true;
                },
                r -> List.of());
    }

    /**
     * Checks that {@code params} fits {@code expected}: the same leaf names and, leaf by leaf, the
     * same shape. Use it before the first model call, so a mismatch is reported by name rather than
     * by the engine.
     *
     * @param params the parameters given
     * @param expected the shapes the model needs, by leaf name
     * @param name the parameter name used in the message
     * @throws IllegalArgumentException naming the first leaf that is missing, extra or of another
     *     shape, with both shapes
     */
    public static void shapes(
            TensorTree params, java.util.Map<String, Shape> expected, String name) {
        notNull(params, name);
        for (var e : expected.entrySet()) {
            if (!params.contains(e.getKey())) {
                throw new IllegalArgumentException(
                        format(
                                "%s has no leaf '%s' (shape %s) that the model needs; it has %s",
                                name, e.getKey(), e.getValue(), params.names()));
            }
            Shape got = params.get(e.getKey()).getShape();
            if (!got.equals(e.getValue())) {
                throw new IllegalArgumentException(
                        format(
                                "%s leaf '%s' must have shape %s for the model, got %s",
                                name, e.getKey(), e.getValue(), got));
            }
        }
        for (String k : params.names()) {
            if (!expected.containsKey(k)) {
                throw new IllegalArgumentException(
                        format(
                                "%s leaf '%s' is not a parameter of the model, which has %s",
                                name, k, expected.keySet()));
            }
        }
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
