package io.posteriors.ekf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Array conversions at {@code init}. Each step makes a genuinely new array and closes the one
 * before: a state built from an array that {@code toType(sameType, true)} returned inside a closed
 * scope corrupted the native heap in a later update (measured here with DJL 0.36.0, PyTorch 2.7.1).
 */
final class EkfArrays {

    private EkfArrays() {}

    /**
     * Returns a new array with the values of {@code src} and the data type, device and manager of
     * {@code like}.
     *
     * @param src the values
     * @param like the array whose data type, device and manager the copy takes
     * @return the copy
     */
    static NDArray copyLike(NDArray src, NDArray like) {
        NDArray out = src.duplicate();
        if (out.getDataType() != like.getDataType()) {
            NDArray converted = out.toType(like.getDataType(), false);
            out.close();
            out = converted;
        }
        if (!out.getDevice().equals(like.getDevice())) {
            NDArray moved = out.toDevice(like.getDevice(), false);
            out.close();
            out = moved;
        }
        out.attach(like.getManager());
        return out;
    }

    /**
     * Returns a new scalar NaN with the data type, device and manager of {@code like}.
     *
     * @param like the array whose data type, device and manager the scalar takes
     * @return the scalar
     */
    static NDArray nanLike(NDArray like) {
        return like.getManager().full(new Shape(), Float.NaN, like.getDataType(), like.getDevice());
    }
}
