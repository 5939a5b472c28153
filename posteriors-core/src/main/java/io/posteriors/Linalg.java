package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.posteriors.internal.TorchAutograd;
import java.util.List;

/**
 * Dense linear algebra that DJL's {@code NDArray} lacks (Cholesky factor, triangular solves,
 * symmetric eigendecomposition, lower triangle), run by libtorch's {@code torch.linalg} through the
 * library's TorchScript module. All functions are differentiable when called inside a log density
 * that is being differentiated, and work on batches of matrices (leading dimensions).
 */
public final class Linalg {

    private Linalg() {}

    /**
     * Returns the lower Cholesky factor L of a symmetric positive-definite matrix A = L L^T.
     *
     * @param a the matrix, shape {@code (..., n, n)}
     * @return L, on {@code a}'s manager
     * @throws IllegalArgumentException when {@code a} is not square or not positive definite
     */
    public static NDArray cholesky(NDArray a) {
        requireSquare(a, "a");
        NDList r = TorchAutograd.call("cholesky_ex", a.getManager(), List.of(a));
        // info is int32 (getLong would throw) and max() is a new array: read it through Scalars
        long bad;
        try (NDArray info = r.get(1);
                NDArray worst = info.max()) {
            bad = (long) Scalars.value(worst);
        }
        if (bad != 0) {
            r.get(0).close();
            throw new IllegalArgumentException(
                    Checks.format(
                            "a must be symmetric positive definite; the Cholesky factorisation"
                                    + " failed at leading minor %d",
                            bad));
        }
        return r.get(0);
    }

    /**
     * Returns the lower triangle of a matrix (zeros above the diagonal).
     *
     * @param a the matrix, shape {@code (..., n, m)}
     * @return the lower triangle
     */
    public static NDArray tril(NDArray a) {
        Checks.notNull(a, "a");
        return TorchAutograd.call("tril", a.getManager(), List.of(a)).get(0);
    }

    /**
     * Returns X solving {@code L X = B} for lower-triangular L.
     *
     * @param l the lower-triangular matrix, shape {@code (..., n, n)}
     * @param b the right-hand side, shape {@code (..., n, k)}
     * @return X
     */
    public static NDArray solveLower(NDArray l, NDArray b) {
        requireSquare(l, "l");
        Checks.notNull(b, "b");
        return TorchAutograd.call("solve_lower", l.getManager(), List.of(l, b)).get(0);
    }

    /**
     * Returns X solving {@code U X = B} for upper-triangular U.
     *
     * @param u the upper-triangular matrix, shape {@code (..., n, n)}
     * @param b the right-hand side, shape {@code (..., n, k)}
     * @return X
     */
    public static NDArray solveUpper(NDArray u, NDArray b) {
        requireSquare(u, "u");
        Checks.notNull(b, "b");
        return TorchAutograd.call("solve_upper", u.getManager(), List.of(u, b)).get(0);
    }

    /**
     * Returns the eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix.
     *
     * @param a the symmetric matrix, shape {@code (n, n)}
     * @return the list (eigenvalues, eigenvectors)
     */
    public static NDList eigh(NDArray a) {
        requireSquare(a, "a");
        return TorchAutograd.call("eigh", a.getManager(), List.of(a));
    }

    /**
     * Returns the row and column indices of the lower triangle (diagonal included) of an n-by-n
     * matrix, row-major: the order in which dense Gaussian methods store a Cholesky factor flat.
     *
     * @param n the matrix size; at least 1
     * @param like an array whose manager and device the indices take
     * @return an {@code (2, n(n+1)/2)} int64 array
     */
    public static NDArray trilIndices(int n, NDArray like) {
        Checks.atLeast(n, 1, "n");
        try (NDArray probe = like.getManager().zeros(new ai.djl.ndarray.types.Shape(n))) {
            return TorchAutograd.call("tril_indices", like.getManager(), List.of(probe)).get(0);
        }
    }

    private static void requireSquare(NDArray a, String name) {
        Checks.notNull(a, name);
        var s = a.getShape();
        if (s.dimension() < 2 || s.get(s.dimension() - 1) != s.get(s.dimension() - 2)) {
            throw new IllegalArgumentException(
                    Checks.format("%s must be a square matrix, got shape %s", name, s));
        }
    }
}
