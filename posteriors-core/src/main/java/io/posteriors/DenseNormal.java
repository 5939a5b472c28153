package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.internal.TorchAutograd;
import java.util.List;

/**
 * Multivariate Normal distributions with a dense covariance {@code L L^T} given by its lower
 * Cholesky factor L, and the flat storage of such factors: posteriors' dense-Gaussian helpers.
 *
 * <p>Flat storage keeps the {@code d(d+1)/2} entries of the lower triangle in row-major order:
 * {@code L[0,0], L[1,0], L[1,1], L[2,0], L[2,1], L[2,2], ...}. All functions are differentiable, so
 * a variational method can optimise a flat factor directly.
 */
public final class DenseNormal {

    private static final double HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

    private DenseNormal() {}

    /**
     * Returns the number of entries of the lower triangle of a {@code d}-by-{@code d} matrix.
     *
     * @param d the dimension
     * @return {@code d(d+1)/2}
     */
    public static long flatSize(long d) {
        return d * (d + 1) / 2;
    }

    /**
     * Returns the dimension {@code d} whose lower triangle has {@code m} entries.
     *
     * @param m the flat length
     * @return d
     * @throws IllegalArgumentException when {@code m} is not a triangular number
     */
    public static int dimensionOf(long m) {
        int d = (int) Math.round((Math.sqrt(8.0 * m + 1) - 1) / 2);
        if (m < 1 || flatSize(d) != m) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "flat factor length must be d(d+1)/2 for some d >= 1, got %d", m));
        }
        return d;
    }

    /**
     * Returns the lower triangle of a square matrix, flattened row by row.
     *
     * @param l a {@code (d, d)} matrix (entries above the diagonal are ignored)
     * @return a vector of {@code d(d+1)/2} entries
     * @throws IllegalArgumentException when {@code l} is not square
     */
    public static NDArray lowerToFlat(NDArray l) {
        Checks.notNull(l, "l");
        Shape s = l.getShape();
        if (s.dimension() != 2 || s.get(0) != s.get(1)) {
            throw new IllegalArgumentException(
                    Checks.format("l must be a square matrix, got shape %s", s));
        }
        int d = (int) s.get(0);
        long[] idx = new long[(int) flatSize(d)];
        int k = 0;
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                idx[k++] = (long) i * d + j;
            }
        }
        try (NDArray index = ownedIndex(l, idx);
                NDArray flat = l.reshape(-1)) {
            return flat.gather(index, 0);
        }
    }

    /**
     * Returns the lower-triangular matrix whose lower triangle is {@code flat} (row by row) and
     * whose upper triangle is zero.
     *
     * @param flat a vector of {@code d(d+1)/2} entries
     * @param d the dimension
     * @return a {@code (d, d)} lower-triangular matrix
     * @throws IllegalArgumentException when the length of {@code flat} is not {@code d(d+1)/2}
     */
    public static NDArray flatToLower(NDArray flat, int d) {
        Checks.notNull(flat, "flat");
        Checks.atLeast(d, 1, "d");
        long m = flatSize(d);
        if (flat.getShape().dimension() != 1 || flat.size() != m) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "flat must be a vector of d(d+1)/2 = %d entries for d = %d, got shape"
                                    + " %s",
                            m, d, flat.getShape()));
        }
        long[] idx = new long[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                // entries above the diagonal read the zero appended at position m
                idx[i * d + j] = j <= i ? (long) i * (i + 1) / 2 + j : m;
            }
        }
        try (NDArray zero =
                        flat.getManager()
                                .zeros(new Shape(1), flat.getDataType(), flat.getDevice());
                NDArray padded = NDArrays.concat(new NDList(flat, zero));
                NDArray index = ownedIndex(flat, idx);
                NDArray picked = padded.gather(index, 0)) {
            return picked.reshape(d, d);
        }
    }

    /**
     * Returns the log density of {@code N(mean, L L^T)}.
     *
     * @param x a point of shape {@code (d)} or points of shape {@code (m, d)}
     * @param mean the mean, shape {@code (d)}
     * @param chol the lower Cholesky factor L of the covariance, shape {@code (d, d)}, with a
     *     positive diagonal
     * @return a scalar for one point, or a vector of m log densities
     * @throws IllegalArgumentException when the shapes do not agree
     */
    public static NDArray logProb(NDArray x, NDArray mean, NDArray chol) {
        Checks.notNull(x, "x");
        int d = requireMeanAndFactor(mean, chol);
        boolean single = x.getShape().dimension() == 1;
        if ((single && x.getShape().get(0) != d)
                || (!single && (x.getShape().dimension() != 2 || x.getShape().get(1) != d))) {
            throw new IllegalArgumentException(
                    Checks.format("x must have shape (%d) or (m, %d), got %s", d, d, x.getShape()));
        }
        // one call into the library's TorchScript module (differentiable like the ops it runs):
        // -|L^-1 (x - mean)|^2 / 2 - log det L - d log(2 pi) / 2
        return TorchAutograd.call("mvn_log_prob", x.getManager(), List.of(x, mean, chol))
                .singletonOrThrow();
    }

    /**
     * Draws {@code n} samples {@code mean + L z}, z standard Normal, from the engine's generator.
     *
     * @param mean the mean, shape {@code (d)}
     * @param chol the lower Cholesky factor of the covariance, shape {@code (d, d)}
     * @param n the number of samples; at least 1
     * @return an {@code (n, d)} array
     */
    public static NDArray sample(NDArray mean, NDArray chol, int n) {
        int d = requireMeanAndFactor(mean, chol);
        Checks.atLeast(n, 1, "n");
        try (NDArray z =
                        mean.getManager()
                                .randomNormal(
                                        0,
                                        1,
                                        new Shape(n, d),
                                        mean.getDataType(),
                                        mean.getDevice());
                NDArray lt = chol.transpose();
                NDArray zl = z.matMul(lt)) {
            return zl.add(mean);
        }
    }

    /**
     * Draws one sample {@code mean + L z}.
     *
     * @param mean the mean, shape {@code (d)}
     * @param chol the lower Cholesky factor of the covariance, shape {@code (d, d)}
     * @return a {@code (d)} array
     */
    public static NDArray sample(NDArray mean, NDArray chol) {
        try (NDArray s = sample(mean, chol, 1)) {
            return s.reshape(mean.getShape());
        }
    }

    /**
     * Returns an int64 index array in memory that libtorch owns. An array made by {@code
     * create(long[])} wraps memory that is freed when its handle is closed, but autograd keeps the
     * index of a gather for the backward pass: closing the wrapper early would leave the graph
     * reading freed memory.
     */
    private static NDArray ownedIndex(NDArray like, long[] idx) {
        try (NDArray wrapped = like.getManager().create(idx)) {
            NDArray onDevice = wrapped.toDevice(like.getDevice(), false);
            NDArray owned = onDevice.duplicate();
            if (onDevice != wrapped) {
                onDevice.close();
            }
            return owned;
        }
    }

    private static int requireMeanAndFactor(NDArray mean, NDArray chol) {
        Checks.notNull(mean, "mean");
        Checks.notNull(chol, "chol");
        if (mean.getShape().dimension() != 1) {
            throw new IllegalArgumentException(
                    Checks.format("mean must be a vector, got shape %s", mean.getShape()));
        }
        long d = mean.getShape().get(0);
        if (!chol.getShape().equals(new Shape(d, d))) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "chol must have shape (%d, %d) to match the mean, got %s",
                            d, d, chol.getShape()));
        }
        if (chol.getDataType() != mean.getDataType() && mean.getDataType() != DataType.UNKNOWN) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "chol and mean must have the same data type, got %s and %s",
                            chol.getDataType(), mean.getDataType()));
        }
        return (int) d;
    }
}
