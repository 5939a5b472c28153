package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/** Reading scalars (log posteriors, NELBOs) off the device. */
public final class Scalars {

    private Scalars() {}

    /**
     * Returns the value of a one-element array as a double, whatever its data type. This copies
     * from the device: call it when the number is needed (logging), not every step on a GPU.
     *
     * @param scalar an array with one element
     * @return the value
     * @throws IllegalArgumentException when the array has more than one element
     */
    public static double value(NDArray scalar) {
        Checks.notNull(scalar, "scalar");
        if (scalar.size() != 1) {
            throw new IllegalArgumentException(
                    Checks.format("scalar must have one element, got shape %s", scalar.getShape()));
        }
        DataType t = scalar.getDataType();
        if (t == DataType.FLOAT64) {
            return scalar.toDoubleArray()[0];
        }
        if (t == DataType.FLOAT32) {
            return scalar.toFloatArray()[0];
        }
        try (NDArray d = scalar.toType(DataType.FLOAT64, true)) {
            return d.toDoubleArray()[0];
        }
    }
}
