package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.posteriors.Checks;
import io.posteriors.DiagNormal;
import io.posteriors.Scalars;
import io.posteriors.TensorTree;
import io.posteriors.internal.Scoped;

/**
 * What {@link DiagFisher} and {@link DiagGgn} share: building the state, accumulating a batch's
 * curvature, sampling and the log density of {@code N(params, T diag(1 / precDiag))}.
 */
final class DiagLaplace {

    private DiagLaplace() {}

    /** Checks an initial diagonal precision given as a tree: every entry finite and >= 0. */
    static TensorTree checkInitTree(TensorTree tree) {
        Checks.notNull(tree, "initPrecDiag");
        tree.forEach(
                (k, a) -> Gaussians.requireNonNegativeFinite(a, "initPrecDiag leaf '" + k + "'"));
        return tree;
    }

    /**
     * Builds the state at step 0: copies of the parameters and the initial precision, either the
     * scalar on every element or copies of {@code tree}'s leaves (same structure as params).
     */
    static DiagLaplaceState init(TensorTree params, double scalar, TensorTree tree) {
        Checks.notNull(params, "params");
        if (tree != null) {
            params.requireSameStructure(tree, "initPrecDiag");
        }
        TensorTree p = params.copy();
        TensorTree prec;
        if (tree == null) {
            prec = p.fullLike(scalar);
        } else {
            prec =
                    Scoped.call(
                            p.manager(),
                            () ->
                                    p.zip(
                                            tree,
                                            (leaf, t) -> {
                                                NDArray c =
                                                        t.toDevice(leaf.getDevice(), false)
                                                                .toType(leaf.getDataType(), false)
                                                                .duplicate();
                                                c.attach(leaf.getManager());
                                                return c;
                                            }),
                            TensorTree::leaves);
        }
        return new DiagLaplaceState(p, prec, 0);
    }

    /** Returns a deep copy of a state, for pure updates. */
    static DiagLaplaceState copy(DiagLaplaceState s) {
        Checks.notNull(s, "state");
        return new DiagLaplaceState(s.params().copy(), s.precDiag().copy(), s.step());
    }

    /**
     * Adds a batch's diagonal curvature to the state's precision in place, after checking that it
     * is finite (so a bad batch leaves the state as it was), and returns the state one step on.
     */
    static DiagLaplaceState accumulate(DiagLaplaceState s, TensorTree increment, String what) {
        Gaussians.requireFinite(increment, what);
        s.precDiag().forEachZip(increment, NDArray::addi);
        return new DiagLaplaceState(s.params(), s.precDiag(), s.step() + 1);
    }

    /** Draws {@code n} samples at a temperature (leading sample dimension). */
    static TensorTree sample(DiagLaplaceState s, int n, double temperature) {
        Checks.notNull(s, "state");
        Checks.atLeast(n, 1, "n");
        Checks.nonNegative(temperature, "temperature");
        if (temperature == 0) {
            return Gaussians.repeat(s.params(), n);
        }
        requirePositive(s.precDiag(), Checks.format("sample at temperature %s", temperature));
        return Scoped.call(
                s.params().manager(),
                () -> DiagNormal.sample(s.params(), sd(s, temperature), n),
                TensorTree::leaves);
    }

    /** Draws one sample at temperature 1, without a sample dimension. */
    static TensorTree sample(DiagLaplaceState s) {
        Checks.notNull(s, "state");
        requirePositive(s.precDiag(), "sample at temperature 1.0");
        return Scoped.call(
                s.params().manager(),
                () -> DiagNormal.sample(s.params(), sd(s, 1.0)),
                TensorTree::leaves);
    }

    private static TensorTree sd(DiagLaplaceState s, double temperature) {
        return s.precDiag().map(p -> p.pow(-0.5).mul(Math.sqrt(temperature)));
    }

    /**
     * Returns the normalised log density of {@code N(params, T / precDiag)} at one point (a scalar)
     * or at m points stacked along a leading dimension (a vector of m).
     */
    static NDArray logProb(DiagLaplaceState s, TensorTree x, double temperature) {
        Checks.notNull(s, "state");
        Checks.positive(temperature, "temperature");
        long m = Gaussians.pointCount(s.params(), x);
        requirePositive(s.precDiag(), "evaluate the log density");
        return Scoped.call(
                x.manager(),
                () -> {
                    NDArray quad = null;
                    NDArray logDet = null;
                    for (String k : s.params().names()) {
                        NDArray prec = s.precDiag().get(k);
                        NDArray q = x.get(k).sub(s.params().get(k)).square().mul(prec);
                        q = m < 0 ? q.sum() : q.reshape(m, -1).sum(new int[] {1});
                        quad = quad == null ? q : quad.add(q);
                        NDArray ld = prec.log().sum();
                        logDet = logDet == null ? ld : logDet.add(ld);
                    }
                    double constant =
                            -0.5 * s.params().numel() * (Gaussians.LOG_2PI + Math.log(temperature));
                    return quad.mul(Scalars.like(quad, -0.5 / temperature))
                            .add(logDet.mul(Scalars.like(quad, 0.5)))
                            .add(Scalars.like(quad, constant));
                },
                r -> java.util.List.of(r));
    }

    /** Throws when a precision entry is zero, negative or NaN: its variance would be infinite. */
    private static void requirePositive(TensorTree precDiag, String action) {
        precDiag.forEach(
                (k, a) ->
                        Scoped.run(
                                () -> {
                                    NDArray f = a.flatten();
                                    NDArray bad = f.lte(0).logicalOr(f.isNaN());
                                    if (bad.any().getBoolean()) {
                                        long count =
                                                bad.toType(DataType.INT64, false).sum().getLong();
                                        long at =
                                                bad.toType(DataType.INT32, false)
                                                        .argMax()
                                                        .getLong();
                                        throw new IllegalArgumentException(
                                                Checks.format(
                                                        "cannot %s: precDiag leaf '%s' has %d"
                                                                + " entries that are not positive"
                                                                + " (the first at flat index %d),"
                                                                + " so their variance T / precDiag"
                                                                + " is infinite; give a prior"
                                                                + " precision with"
                                                                + " initPrecDiag(...) or sample at"
                                                                + " temperature 0",
                                                        action, k, count, at));
                                    }
                                }));
    }
}
