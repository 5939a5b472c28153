package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Checks;
import io.posteriors.TensorTree;
import io.posteriors.internal.Scoped;
import java.util.List;

/** Helpers shared by the diagonal and dense Laplace families: checks and tree shapes. */
final class Gaussians {

    static final double LOG_2PI = Math.log(2 * Math.PI);

    private Gaussians() {}

    /**
     * Checks that every entry of an array is finite and not negative.
     *
     * @throws IllegalArgumentException naming {@code what}, the first bad value and its index
     */
    static void requireNonNegativeFinite(NDArray a, String what) {
        Checks.open(a, what);
        Scoped.run(
                () -> {
                    NDArray d = a.toType(DataType.FLOAT64, false).flatten();
                    NDArray bad = d.lt(0).logicalOr(d.isNaN()).logicalOr(d.isInfinite());
                    if (bad.any().getBoolean()) {
                        long at = bad.toType(DataType.INT32, false).argMax().getLong();
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "%s must be non-negative and finite, got %s at flat index"
                                                + " %d",
                                        what, d.get(at).getDouble(), at));
                    }
                });
    }

    /** Returns whether the sum of every leaf is finite (a fast, sufficient test of finiteness). */
    private static boolean sumsAreFinite(TensorTree tree) {
        return Scoped.call(
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
                r -> java.util.List.of());
    }

    /**
     * Checks that every leaf of an increment is finite before it is added to a state.
     *
     * @throws IllegalArgumentException naming {@code what} and the first non-finite leaf
     */
    static void requireFinite(TensorTree increment, String what) {
        if (sumsAreFinite(increment)) {
            // NaN and infinities propagate into a sum: a finite sum of every leaf proves the
            // increment finite with one reduction per leaf and no full-size temporaries
            return;
        }
        Scoped.run(
                () -> {
                    NDList flags = new NDList(increment.size());
                    increment.forEach((k, a) -> flags.add(a.isNaN().logicalOr(a.isInfinite())));
                    NDList any = new NDList(flags.size());
                    flags.forEach(f -> any.add(f.any()));
                    boolean[] bad = NDArrays.stack(any).toBooleanArray();
                    List<String> names = increment.names();
                    for (int i = 0; i < bad.length; i++) {
                        if (bad[i]) {
                            NDArray f = flags.get(i).flatten();
                            long count = f.toType(DataType.INT64, false).sum().getLong();
                            long at = f.toType(DataType.INT32, false).argMax().getLong();
                            double v =
                                    increment
                                            .get(names.get(i))
                                            .flatten()
                                            .get(at)
                                            .toType(DataType.FLOAT64, false)
                                            .getDouble();
                            throw new IllegalArgumentException(
                                    Checks.format(
                                            "the %s of this batch is not finite at leaf '%s' (%d"
                                                    + " non-finite entries, the first %s at flat"
                                                    + " index %d); the state was not changed."
                                                    + " Check the log density for overflow or"
                                                    + " log(0) at these parameters",
                                            what, names.get(i), count, v, at));
                        }
                    }
                });
    }

    /**
     * Returns the number of points in {@code x}: -1 when {@code x} is one point (the structure of
     * {@code params}), m when every leaf has an extra leading dimension m.
     *
     * @throws IllegalArgumentException when {@code x} is neither
     */
    static long pointCount(TensorTree params, TensorTree x) {
        Checks.notNull(x, "x");
        if (x.sameStructure(params)) {
            return -1;
        }
        if (!x.names().equals(params.names())) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "x must have the leaves of the state's params %s, got %s",
                            params.names(), x.names()));
        }
        long m = -1;
        for (String k : params.names()) {
            Shape ps = params.get(k).getShape();
            Shape xs = x.get(k).getShape();
            boolean ok =
                    xs.dimension() == ps.dimension() + 1
                            && xs.slice(1).equals(ps)
                            && (m < 0 || xs.get(0) == m);
            if (!ok) {
                String inner = ps.toString().substring(1, ps.toString().length() - 1);
                throw new IllegalArgumentException(
                        Checks.format(
                                "x leaf '%s' must have shape %s for one point or (m%s) for m"
                                        + " points%s, got %s",
                                k,
                                ps,
                                inner.isEmpty() ? "" : ", " + inner,
                                m < 0 ? "" : Checks.format(" (m = %d here)", m),
                                xs));
            }
            m = xs.get(0);
        }
        return m;
    }

    /** Returns {@code n} copies of every leaf of {@code mean} stacked along a new dimension 0. */
    static TensorTree repeat(TensorTree mean, int n) {
        return Scoped.call(
                mean.manager(),
                () -> mean.map(m -> m.expandDims(0).repeat(0, n)),
                TensorTree::leaves);
    }

    /** Returns where flat index {@code i} of the raveled tree falls: "element j of leaf 'name'". */
    static String describe(TensorTree params, long i) {
        long offset = 0;
        for (String k : params.names()) {
            long size = params.get(k).size();
            if (i < offset + size) {
                return Checks.format("element %d of leaf '%s'", i - offset, k);
            }
            offset += size;
        }
        return Checks.format("flat index %d", i);
    }
}
