package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

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

    /**
     * Returns a 0-d array holding {@code value} in the data type and on the device of {@code like},
     * in memory libtorch owns.
     *
     * <p>Use it for constants inside differentiated functions. DJL's number operands ({@code
     * x.mul(0.5)}) build a float64 scalar, which promotes a 0-d float32 result to float64; casting
     * back with {@code toType} would cut the autograd graph, because DJL's {@code toType} is not
     * differentiable.
     *
     * @param like the array whose data type and device to take
     * @param value the value
     * @return a new 0-d array on {@code like}'s manager
     */
    public static NDArray like(NDArray like, double value) {
        Checks.notNull(like, "like");
        NDArray out = like.getManager().zeros(new Shape(), like.getDataType(), like.getDevice());
        return out.addi(value);
    }
}
