package io.posteriors.laplace;

import io.posteriors.Checks;
import io.posteriors.Scalars;
import io.posteriors.Scopes;
import io.posteriors.TensorTree;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The precision {@code P0} of a zero-mean Gaussian prior {@code N(0, P0^-1)} over the parameters,
 * diagonal: one number for every element, one number per leaf, or one per element. The Laplace
 * evidence ({@link Evidence}) reads it to separate a state's precision {@code P0 + H} into prior
 * and curvature, and prior tuning returns a new one.
 */
public sealed interface PriorPrecision
        permits PriorPrecision.Scalar, PriorPrecision.PerLeaf, PriorPrecision.Diagonal {

    /** How finely a tuned prior precision varies: what {@link Evidence#tunePrior} optimises. */
    enum Kind {
        /** One number for every parameter. */
        SCALAR,
        /** One number per leaf (per layer for K-FAC, whose weight and bias share one). */
        PER_LEAF,
        /** One number per parameter element (diagonal and dense states only). */
        DIAGONAL
    }

    /**
     * One precision on every element, {@code P0 = value I}.
     *
     * @param value the precision; finite and non-negative
     */
    record Scalar(double value) implements PriorPrecision {
        /**
         * Checks the value.
         *
         * @throws IllegalArgumentException when it is negative or not finite
         */
        public Scalar {
            Checks.nonNegative(value, "prior precision");
        }

        @Override
        public double of(String leaf) {
            return value;
        }
    }

    /**
     * One precision per leaf.
     *
     * @param values leaf name to precision; every value finite and non-negative
     */
    record PerLeaf(Map<String, Double> values) implements PriorPrecision {
        /**
         * Copies and checks the map.
         *
         * @throws NullPointerException when the map, a name or a value is null
         * @throws IllegalArgumentException when a value is negative or not finite
         */
        public PerLeaf {
            Checks.notNull(values, "values");
            Map<String, Double> copy = new LinkedHashMap<>();
            values.forEach(
                    (k, v) -> {
                        Checks.notNull(k, "leaf name");
                        Checks.notNull(v, "prior precision of '" + k + "'");
                        copy.put(k, Checks.nonNegative(v, "prior precision of '" + k + "'"));
                    });
            values = java.util.Collections.unmodifiableMap(copy);
        }

        @Override
        public double of(String leaf) {
            Double v = values.get(leaf);
            if (v == null) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "prior precision has no value for leaf '%s'; it has %s",
                                leaf, values.keySet()));
            }
            return v;
        }
    }

    /**
     * One precision per element, a tree shaped like the parameters (read, never closed).
     *
     * @param values the precisions; finite and non-negative
     */
    record Diagonal(TensorTree values) implements PriorPrecision {
        /**
         * Checks the tree is given and open.
         *
         * @throws NullPointerException when it is null
         */
        public Diagonal {
            Checks.openTree(values, "values");
        }

        /**
         * Throws: a diagonal prior has no single value per leaf.
         *
         * @param leaf the leaf
         * @return never
         * @throws IllegalStateException always
         */
        @Override
        public double of(String leaf) {
            throw new IllegalStateException(
                    "a diagonal prior precision has no single value per leaf; use tree(like)");
        }
    }

    /**
     * Returns {@code value I}.
     *
     * @param value the precision; finite and non-negative
     * @return the prior precision
     * @throws IllegalArgumentException when it is negative or not finite
     */
    static PriorPrecision of(double value) {
        return new Scalar(value);
    }

    /**
     * Returns one precision per leaf.
     *
     * @param values leaf name to precision
     * @return the prior precision
     * @throws IllegalArgumentException when a value is negative or not finite
     */
    static PriorPrecision of(Map<String, Double> values) {
        return new PerLeaf(values);
    }

    /**
     * Returns one precision per element.
     *
     * @param values the precisions, shaped like the parameters
     * @return the prior precision
     */
    static PriorPrecision of(TensorTree values) {
        return new Diagonal(values);
    }

    /**
     * Returns the precision of every element of one leaf (scalar and per-leaf priors).
     *
     * @param leaf the leaf name
     * @return the precision
     * @throws IllegalArgumentException when a per-leaf prior has no value for the leaf
     * @throws IllegalStateException for a diagonal prior
     */
    double of(String leaf);

    /**
     * Returns the precision as a new tree with the structure, data type and manager of {@code
     * like}.
     *
     * @param like the parameters
     * @return a new tree
     * @throws IllegalArgumentException when a per-leaf prior lacks a leaf or a diagonal prior has
     *     another structure
     */
    default TensorTree tree(TensorTree like) {
        Checks.openTree(like, "like");
        if (this instanceof Diagonal d) {
            like.requireSameStructure(d.values(), "prior precision");
            return Scopes.call(
                    like.manager(),
                    () -> like.zip(d.values(), (l, v) -> v.toType(l.getDataType(), true)),
                    TensorTree::leaves);
        }
        return Scopes.call(
                like.manager(),
                () -> like.mapWithName((k, l) -> l.zerosLike().addi(Scalars.like(l, of(k)))),
                TensorTree::leaves);
    }

    /**
     * Returns the precision as a flat array over the raveled parameters ({@link TensorTree#ravel()}
     * order), in double precision.
     *
     * @param like the parameters
     * @return one value per element
     */
    default double[] flat(TensorTree like) {
        if (this instanceof Diagonal) {
            try (TensorTree t = tree(like)) {
                return Evidence.doubles(t);
            }
        }
        double[] out = new double[Math.toIntExact(like.numel())];
        int at = 0;
        for (String k : like.names()) {
            int size = Math.toIntExact(like.get(k).size());
            java.util.Arrays.fill(out, at, at + size, of(k));
            at += size;
        }
        return out;
    }
}
