package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Checks;
import io.posteriors.Linalg;
import io.posteriors.Scalars;
import io.posteriors.TensorTree;
import io.posteriors.internal.Scoped;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@link DenseFisher}, {@link DenseGgn} and {@link DenseHessian} share: building the state,
 * accumulating a batch's curvature, sampling and the log density of {@code N(params, T prec^-1)},
 * always through the Cholesky factor of the precision (never its inverse).
 */
final class DenseLaplace {

    private static final Pattern LEADING_MINOR = Pattern.compile("leading minor (\\d+)");

    private DenseLaplace() {}

    /**
     * Checks an initial precision matrix given by the user: square, finite, symmetric (to a
     * relative 1e-5), with a non-negative diagonal.
     */
    static NDArray checkInitMatrix(NDArray m) {
        Checks.open(m, "initPrec");
        Shape s = m.getShape();
        if (s.dimension() != 2 || s.get(0) != s.get(1)) {
            throw new IllegalArgumentException(
                    Checks.format("initPrec must be a square matrix, got shape %s", s));
        }
        Scoped.run(
                () -> {
                    NDArray d = m.toType(DataType.FLOAT64, false);
                    int n = (int) s.get(0);
                    NDArray bad = d.isNaN().logicalOr(d.isInfinite()).flatten();
                    if (bad.any().getBoolean()) {
                        long at = bad.toType(DataType.INT32, false).argMax().getLong();
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "initPrec must be finite, got %s at (%d, %d)",
                                        d.flatten().get(at).getDouble(), at / n, at % n));
                    }
                    Gaussians.requireNonNegativeFinite(
                            d.flatten().get(new NDIndex("::{}", n + 1)), "initPrec's diagonal");
                    double scale = d.abs().max().getDouble();
                    double asym = d.sub(d.transpose()).abs().max().getDouble();
                    if (asym > 1e-5 * scale) {
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "initPrec must be symmetric, got a largest |A - A^T| of %s"
                                                + " against a largest |A| of %s",
                                        asym, scale));
                    }
                });
        return m;
    }

    /**
     * Builds the state at step 0: copies of the parameters and the initial precision, either {@code
     * scalar} times the identity or a copy of {@code matrix} (shape (P, P)).
     */
    static DenseLaplaceState init(TensorTree params, double scalar, NDArray matrix) {
        Checks.notNull(params, "params");
        long p = params.numel();
        if (matrix != null && !matrix.getShape().equals(new Shape(p, p))) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "initPrec must have shape (%d, %d) for the %d parameters of params,"
                                    + " got %s",
                            p, p, p, matrix.getShape()));
        }
        if (p > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "params has %d elements, too many for a dense precision; use a"
                                    + " diagonal method or a subset of the parameters",
                            p));
        }
        TensorTree copy = params.copy();
        NDArray any = copy.anyLeaf();
        NDArray prec =
                Scoped.call(
                        copy.manager(),
                        () -> {
                            if (matrix == null) {
                                return any.getManager()
                                        .eye((int) p)
                                        .toDevice(any.getDevice(), false)
                                        .toType(any.getDataType(), false)
                                        .mul(scalar);
                            }
                            return matrix.toDevice(any.getDevice(), false)
                                    .toType(any.getDataType(), false)
                                    .duplicate();
                        },
                        List::of);
        return new DenseLaplaceState(copy, prec, 0);
    }

    /** Returns a deep copy of a state, for pure updates. */
    static DenseLaplaceState copy(DenseLaplaceState s) {
        Checks.notNull(s, "state");
        return new DenseLaplaceState(s.params().copy(), s.prec().duplicate(), s.step());
    }

    /** Returns {@code (h + h^T) / 2}, so that accumulated precisions are exactly symmetric. */
    static NDArray symmetrize(NDArray h) {
        return h.add(h.transpose()).muli(0.5);
    }

    /**
     * Adds a batch's curvature matrix to the state's precision in place, after checking that it is
     * finite (so a bad batch leaves the state as it was), and returns the state one step on.
     */
    static DenseLaplaceState accumulate(DenseLaplaceState s, NDArray increment, String what) {
        Scoped.run(
                () -> {
                    NDArray bad = increment.isNaN().logicalOr(increment.isInfinite()).flatten();
                    if (bad.any().getBoolean()) {
                        long count = bad.toType(DataType.INT64, false).sum().getLong();
                        long at = bad.toType(DataType.INT32, false).argMax().getLong();
                        long p = increment.getShape().get(0);
                        double v =
                                increment
                                        .flatten()
                                        .get(at)
                                        .toType(DataType.FLOAT64, false)
                                        .getDouble();
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "the %s of this batch is not finite (%d non-finite"
                                                + " entries, the first %s at (%d, %d): %s and"
                                                + " %s); the state was not changed. Check the"
                                                + " log density for overflow or log(0) at these"
                                                + " parameters",
                                        what,
                                        count,
                                        v,
                                        at / p,
                                        at % p,
                                        Gaussians.describe(s.params(), at / p),
                                        Gaussians.describe(s.params(), at % p)));
                    }
                });
        s.prec().addi(increment);
        return new DenseLaplaceState(s.params(), s.prec(), s.step() + 1);
    }

    /** Draws {@code n} samples at a temperature (leading sample dimension). */
    static TensorTree sample(DenseLaplaceState s, int n, double temperature) {
        Checks.notNull(s, "state");
        Checks.atLeast(n, 1, "n");
        Checks.nonNegative(temperature, "temperature");
        if (temperature == 0) {
            return Gaussians.repeat(s.params(), n);
        }
        TensorTree mean = s.params();
        return Scoped.call(
                mean.manager(),
                () -> {
                    NDArray l = cholesky(s, Checks.format("sample at temperature %s", temperature));
                    NDArray any = mean.anyLeaf();
                    long p = mean.numel();
                    NDArray eps =
                            any.getManager()
                                    .randomNormal(
                                            0,
                                            1,
                                            new Shape(p, n),
                                            any.getDataType(),
                                            any.getDevice());
                    // L^T z = eps gives Cov(z) = L^-T L^-1 = (L L^T)^-1 = prec^-1.
                    NDArray z = Linalg.solveUpper(l.transpose(), eps);
                    NDArray rows = z.transpose().mul(Math.sqrt(temperature)).add(mean.ravel());
                    return unravelRows(mean, rows);
                },
                TensorTree::leaves);
    }

    /** Draws one sample at temperature 1, without a sample dimension. */
    static TensorTree sample(DenseLaplaceState s) {
        TensorTree batched = sample(s, 1, 1.0);
        return Scoped.call(
                s.params().manager(),
                () -> batched.map(a -> a.reshape(a.getShape().slice(1))),
                TensorTree::leaves);
    }

    /**
     * Returns the normalised log density of {@code N(params, T prec^-1)} at one point (a scalar) or
     * at m points stacked along a leading dimension (a vector of m).
     */
    static NDArray logProb(DenseLaplaceState s, TensorTree x, double temperature) {
        Checks.notNull(s, "state");
        Checks.positive(temperature, "temperature");
        long m = Gaussians.pointCount(s.params(), x);
        long p = s.params().numel();
        return Scoped.call(
                x.manager(),
                () -> {
                    NDArray l = cholesky(s, "evaluate the log density");
                    // log det prec = 2 sum log L_ii; the diagonal is every (p + 1)-th entry.
                    NDArray logDet = l.flatten().get(new NDIndex("::{}", p + 1)).log().sum();
                    NDArray xf = m < 0 ? x.ravel().reshape(1, p) : x.ravelBatched(m);
                    NDArray d = xf.sub(s.params().ravel());
                    NDArray quad = d.matMul(s.prec()).mul(d).sum(new int[] {1});
                    if (m < 0) {
                        quad = quad.reshape(new Shape());
                    }
                    double constant = -0.5 * p * (Gaussians.LOG_2PI + Math.log(temperature));
                    return quad.mul(Scalars.like(quad, -0.5 / temperature))
                            .add(logDet.toType(quad.getDataType(), false))
                            .add(Scalars.like(quad, constant));
                },
                r -> List.of(r));
    }

    /** Returns the lower Cholesky factor of the precision, or a clear error when it fails. */
    private static NDArray cholesky(DenseLaplaceState s, String action) {
        try {
            return Linalg.cholesky(s.prec());
        } catch (IllegalArgumentException e) {
            Matcher m = LEADING_MINOR.matcher(String.valueOf(e.getMessage()));
            String where =
                    m.find()
                            ? Checks.format(
                                    "its Cholesky factorisation failed at leading minor %s, %s",
                                    m.group(1),
                                    Gaussians.describe(s.params(), Long.parseLong(m.group(1)) - 1))
                            : String.valueOf(e.getMessage());
            throw new IllegalArgumentException(
                    Checks.format(
                            "cannot %s: prec is not positive definite (%s). Add a prior"
                                    + " precision with initPrec(...), add epsilon(...) to a"
                                    + " DenseHessian, or use DenseGgn or DenseFisher, whose"
                                    + " curvature is positive semi-definite",
                            action, where),
                    e);
        }
    }

    /** Splits the rows of an (n, P) matrix into a tree whose leaves have shape (n, *leaf). */
    private static TensorTree unravelRows(TensorTree template, NDArray rows) {
        long n = rows.getShape().get(0);
        Map<String, NDArray> m = new LinkedHashMap<>();
        long offset = 0;
        for (String k : template.names()) {
            Shape shape = template.get(k).getShape();
            long size = shape.size();
            NDArray cols = rows.get(new NDIndex(":, {}:{}", offset, offset + size));
            m.put(k, cols.reshape(new Shape(n).addAll(shape)));
            offset += size;
        }
        return TensorTree.of(m);
    }
}
