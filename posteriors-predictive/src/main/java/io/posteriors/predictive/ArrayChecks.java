package io.posteriors.predictive;

import static io.posteriors.Checks.format;

import java.util.Objects;

/**
 * Precondition checks on plain arrays shared by the metrics of this package, with messages that
 * name the parameter, the rule and the value.
 */
final class ArrayChecks {

    /** Tolerance on the sum of a row of probabilities. */
    static final double SUM_TOLERANCE = 1e-6;

    private ArrayChecks() {}

    /** Returns {@code values} when it is not null and not empty. */
    static double[] nonEmpty(double[] values, String name) {
        Objects.requireNonNull(values, name);
        if (values.length == 0) {
            throw new IllegalArgumentException(format("%s must not be empty, got length 0", name));
        }
        return values;
    }

    /** Checks that an array has the length of the first array it goes with. */
    static void sameLength(int length, int expected, String name, String other) {
        if (length != expected) {
            throw new IllegalArgumentException(
                    format(
                            "%s must have the length of %s (%d), got length %d",
                            name, other, expected, length));
        }
    }

    /** Returns {@code values} when it is non-empty and holds no NaN. */
    static double[] notNaN(double[] values, String name) {
        nonEmpty(values, name);
        for (int i = 0; i < values.length; i++) {
            if (Double.isNaN(values[i])) {
                throw new IllegalArgumentException(
                        format("%s[%d] must not be NaN, got NaN", name, i));
            }
        }
        return values;
    }

    /** Returns {@code values} when it is non-empty and every entry is finite. */
    static double[] finite(double[] values, String name) {
        nonEmpty(values, name);
        for (int i = 0; i < values.length; i++) {
            if (!Double.isFinite(values[i])) {
                throw new IllegalArgumentException(
                        format("%s[%d] must be finite, got %s", name, i, values[i]));
            }
        }
        return values;
    }

    /** Returns {@code values} when it is non-empty and every entry is finite and positive. */
    static double[] positive(double[] values, String name) {
        nonEmpty(values, name);
        for (int i = 0; i < values.length; i++) {
            if (!(values[i] > 0) || !Double.isFinite(values[i])) {
                throw new IllegalArgumentException(
                        format("%s[%d] must be positive and finite, got %s", name, i, values[i]));
            }
        }
        return values;
    }

    /**
     * Checks that {@code matrix} is a non-empty rectangular matrix with at least one column and
     * returns its number of columns.
     */
    static int rectangular(double[][] matrix, String name) {
        Objects.requireNonNull(matrix, name);
        if (matrix.length == 0) {
            throw new IllegalArgumentException(format("%s must not be empty, got 0 rows", name));
        }
        Objects.requireNonNull(matrix[0], name + "[0]");
        int columns = matrix[0].length;
        if (columns == 0) {
            throw new IllegalArgumentException(
                    format("%s[0] must have at least one entry, got length 0", name));
        }
        for (int i = 1; i < matrix.length; i++) {
            Objects.requireNonNull(matrix[i], format("%s[%d]", name, i));
            if (matrix[i].length != columns) {
                throw new IllegalArgumentException(
                        format(
                                "%s[%d] must have the length of %s[0] (%d), got length %d",
                                name, i, name, columns, matrix[i].length));
            }
        }
        return columns;
    }

    /**
     * Checks that every row of {@code probs} is a probability vector: entries in [0, 1], summing to
     * 1 within {@link #SUM_TOLERANCE}. Returns the number of classes.
     */
    static int probabilities(double[][] probs, String name) {
        int classes = rectangular(probs, name);
        for (int i = 0; i < probs.length; i++) {
            double sum = 0;
            for (int k = 0; k < classes; k++) {
                double p = probs[i][k];
                if (!(p >= 0 && p <= 1)) {
                    throw new IllegalArgumentException(
                            format("%s[%d][%d] must be in [0, 1], got %s", name, i, k, p));
                }
                sum += p;
            }
            if (!(Math.abs(sum - 1) <= SUM_TOLERANCE)) {
                throw new IllegalArgumentException(
                        format(
                                "%s[%d] must sum to 1 within %s, got sum %s",
                                name, i, SUM_TOLERANCE, sum));
            }
        }
        return classes;
    }

    /** Checks that {@code matrix} is rectangular with finite entries; returns its columns. */
    static int finite(double[][] matrix, String name) {
        int columns = rectangular(matrix, name);
        for (int i = 0; i < matrix.length; i++) {
            for (int k = 0; k < columns; k++) {
                if (!Double.isFinite(matrix[i][k])) {
                    throw new IllegalArgumentException(
                            format("%s[%d][%d] must be finite, got %s", name, i, k, matrix[i][k]));
                }
            }
        }
        return columns;
    }

    /** Checks that there are {@code rows} labels, each in {@code [0, classes)}. */
    static void labels(int[] labels, int rows, int classes, String name, String other) {
        Objects.requireNonNull(labels, name);
        sameLength(labels.length, rows, name, other);
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException(
                        format("%s[%d] must be in [0, %d), got %d", name, i, classes, labels[i]));
            }
        }
    }

    /** Returns the first index of the largest entry of {@code row}. */
    static int argmax(double[] row) {
        int best = 0;
        for (int k = 1; k < row.length; k++) {
            if (row[k] > row[best]) {
                best = k;
            }
        }
        return best;
    }
}
