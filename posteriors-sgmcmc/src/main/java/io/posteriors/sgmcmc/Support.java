package io.posteriors.sgmcmc;

import ai.djl.ndarray.NDArray;
import io.posteriors.Checks;
import io.posteriors.Scalars;
import io.posteriors.Schedule;
import io.posteriors.State;
import io.posteriors.TensorTree;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the four samplers share: validation, momenta at init, noise draws. */
final class Support {

    private Support() {}

    /** The initial momenta a builder was given: random draws, one value everywhere, or a tree. */
    record InitialMomenta(Double value, TensorTree tree) {

        /** Standard normal draws, posteriors' default. */
        static final InitialMomenta RANDOM = new InitialMomenta(null, null);

        static InitialMomenta of(double value) {
            return new InitialMomenta(Checks.finite(value, "momenta"), null);
        }

        static InitialMomenta of(TensorTree tree) {
            return new InitialMomenta(null, Checks.notNull(tree, "momenta"));
        }

        /**
         * Builds the momenta for {@code params}: new arrays on the parameters' manager, device and
         * data type.
         */
        TensorTree create(TensorTree params) {
            if (tree != null) {
                params.requireSameStructure(tree, "momenta");
                Map<String, NDArray> m = new LinkedHashMap<>();
                for (String k : params.names()) {
                    NDArray p = params.get(k);
                    NDArray src = Checks.open(tree.get(k), "momenta leaf '" + k + "'");
                    m.put(k, copyLike(src, p));
                }
                return TensorTree.of(m);
            }
            if (value != null) {
                return params.fullLike(value);
            }
            return params.map(
                    p ->
                            p.getManager()
                                    .randomNormal(
                                            0, 1, p.getShape(), p.getDataType(), p.getDevice()));
        }
    }

    /**
     * Returns a new copy of {@code src} with the data type and device of {@code like}, on its
     * manager.
     */
    static NDArray copyLike(NDArray src, NDArray like) {
        // DJL's toType(sameType, true) returns a new handle on the same storage, not a copy: the
        // state would then share (and, for an array made from Java data, outlive) the source
        NDArray c =
                src.getDataType() == like.getDataType()
                        ? src.duplicate()
                        : src.toType(like.getDataType(), true);
        if (!c.getDevice().equals(like.getDevice())) {
            NDArray moved = c.toDevice(like.getDevice(), false);
            c.close();
            c = moved;
        }
        c.attach(like.getManager());
        return c;
    }

    /** Returns a scalar array holding {@code value} in the parameters' data type and device. */
    static NDArray scalar(TensorTree params, double value) {
        // made in libtorch's memory: an array created from a Java double wraps a Java buffer
        return Scalars.like(params.anyLeaf(), value);
    }

    /** Returns a schedule checked at step 0, so that an obviously bad schedule fails at build. */
    static Schedule positiveSchedule(Schedule s, String name) {
        Checks.notNull(s, name);
        Checks.positiveAt(s, 0, name);
        return s;
    }

    /** Returns a schedule checked at step 0, so that an obviously bad schedule fails at build. */
    static Schedule nonNegativeSchedule(Schedule s, String name) {
        Checks.notNull(s, name);
        Checks.nonNegativeAt(s, 0, name);
        return s;
    }

    /** Checks that a state and its arrays can be updated. */
    static void requireOpen(State state) {
        Checks.notNull(state, "state");
        for (NDArray a : state.arrays()) {
            Checks.open(a, "state array");
        }
    }

    /**
     * Returns the variance of the injected noise {@code lr T (2 c - lr T beta)}, which must not be
     * negative: gradient noise larger than the target's diffusion cannot be undone by adding noise.
     */
    static double injectedVariance(
            double lr, double temperature, double c, double beta, long step) {
        double v = lr * temperature * (2 * c - lr * temperature * beta);
        if (!(v >= 0)) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "beta * lr * temperature must be at most %s, got %s (beta %s, lr %s,"
                                    + " temperature %s at step %d); lower lr or beta",
                            2 * c, beta * lr * temperature, beta, lr, temperature, step));
        }
        return v;
    }

    /** Returns standard normal draws shaped like {@code a}, on its manager. */
    static NDArray standardNormalLike(NDArray a) {
        return a.getManager().randomNormal(0, 1, a.getShape(), a.getDataType(), a.getDevice());
    }
}
