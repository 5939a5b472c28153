package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An initial value that a builder accepts as one number, a tree shaped like the parameters, a
 * {@code (P, P)} matrix over the flattened parameters, or standard normal draws. {@code init} turns
 * it into new arrays with the data type, device and manager of the parameters; the caller's arrays
 * are only read.
 *
 * <p>A number {@code c} means {@code c} on every element when a tree is needed and {@code c I} when
 * a matrix is needed.
 */
public sealed interface InitialValue
        permits InitialValue.Constant,
                InitialValue.Tree,
                InitialValue.Matrix,
                InitialValue.StandardNormal {

    /**
     * One number on every element (or times the identity).
     *
     * @param value the number
     */
    record Constant(double value) implements InitialValue {}

    /**
     * A tree with the structure of the parameters.
     *
     * @param tree the values, copied by {@code init}
     */
    record Tree(TensorTree tree) implements InitialValue {
        /**
         * Checks the tree is given.
         *
         * @throws NullPointerException when {@code tree} is null
         */
        public Tree {
            Checks.notNull(tree, "tree");
        }
    }

    /**
     * A {@code (P, P)} matrix over the flattened parameters.
     *
     * @param matrix the values, copied by {@code init}
     */
    record Matrix(NDArray matrix) implements InitialValue {
        /**
         * Checks the matrix is given, open and square.
         *
         * @throws NullPointerException when {@code matrix} is null
         * @throws IllegalArgumentException when it is not a square matrix
         */
        public Matrix {
            Checks.open(matrix, "matrix");
            Shape s = matrix.getShape();
            if (s.dimension() != 2 || s.get(0) != s.get(1)) {
                throw new IllegalArgumentException(
                        Checks.format("matrix must be square, got shape %s", s));
            }
        }
    }

    /** Independent standard normal draws from the engine's generator (posteriors' momenta). */
    record StandardNormal() implements InitialValue {}

    /**
     * Returns one number on every element.
     *
     * @param value the number; finite
     * @param name the option's name, for the message
     * @return the value
     * @throws IllegalArgumentException when {@code value} is NaN or infinite
     */
    static InitialValue of(double value, String name) {
        return new Constant(Checks.finite(value, name));
    }

    /**
     * Returns a tree of values.
     *
     * @param tree the values; copied by {@code init}, which checks their structure
     * @param name the option's name, for the message
     * @return the value
     * @throws NullPointerException when {@code tree} is null
     * @throws IllegalStateException when one of its arrays is closed
     */
    static InitialValue of(TensorTree tree, String name) {
        return new Tree(Checks.openTree(tree, name));
    }

    /**
     * Returns a matrix over the flattened parameters.
     *
     * @param matrix the values; copied by {@code init}, which checks its size
     * @param name the option's name, for the message
     * @return the value
     * @throws NullPointerException when {@code matrix} is null
     * @throws IllegalArgumentException when it is not square
     */
    static InitialValue of(NDArray matrix, String name) {
        Checks.open(matrix, name);
        Shape s = matrix.getShape();
        if (s.dimension() != 2 || s.get(0) != s.get(1)) {
            throw new IllegalArgumentException(
                    Checks.format("%s must be a square matrix, got shape %s", name, s));
        }
        return new Matrix(matrix);
    }

    /**
     * Returns standard normal draws.
     *
     * @return the value
     */
    static InitialValue standardNormal() {
        return new StandardNormal();
    }

    /**
     * Checks that every entry is finite and not negative (a precision, a variance), so that a bad
     * option fails when it is set.
     *
     * @param name the option's name, for the message
     * @return this value
     * @throws IllegalArgumentException naming the option, the leaf or position and the value
     */
    default InitialValue requireNonNegative(String name) {
        if (this instanceof Constant c) {
            Checks.nonNegative(c.value(), name);
        } else if (this instanceof Tree t) {
            t.tree().forEach((k, a) -> requireEntries(a, name + " leaf '" + k + "'"));
        } else if (this instanceof Matrix m) {
            requireEntries(m.matrix(), name);
        } else {
            throw new IllegalArgumentException(name + " cannot be random draws");
        }
        return this;
    }

    /**
     * Builds new arrays shaped like {@code params}.
     *
     * @param params the parameters whose structure, data type, device and manager to take
     * @param name the option's name, for the message
     * @return a new tree
     * @throws IllegalArgumentException when a tree has another structure, or the value is a matrix
     */
    default TensorTree tree(TensorTree params, String name) {
        Checks.openTree(params, "params");
        if (this instanceof Constant c) {
            return params.fullLike(c.value());
        }
        if (this instanceof StandardNormal) {
            return params.map(
                    p ->
                            p.getManager()
                                    .randomNormal(
                                            0, 1, p.getShape(), p.getDataType(), p.getDevice()));
        }
        if (this instanceof Tree t) {
            params.requireSameStructure(t.tree(), name);
            Map<String, NDArray> m = new LinkedHashMap<>();
            for (String k : params.names()) {
                NDArray src = Checks.open(t.tree().get(k), name + " leaf '" + k + "'");
                m.put(k, copyLike(src, params.get(k)));
            }
            return TensorTree.of(m);
        }
        throw new IllegalArgumentException(
                Checks.format(
                        "%s must be a number or a tree shaped like params, got a matrix", name));
    }

    /**
     * Builds a new {@code (P, P)} matrix for the {@code P} elements of {@code params}: {@code c I}
     * for a number, a copy for a matrix.
     *
     * @param params the parameters whose size, data type, device and manager to take
     * @param name the option's name, for the message
     * @return a new matrix
     * @throws IllegalArgumentException when a matrix is not {@code (P, P)}, {@code P} is too large
     *     for a dense matrix, or the value is a tree or random draws
     */
    default NDArray matrix(TensorTree params, String name) {
        Checks.openTree(params, "params");
        long p = params.numel();
        if (p > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "params has %d elements, too many for a dense %s; use a diagonal"
                                    + " method or a subset of the parameters",
                            p, name));
        }
        NDArray like = params.anyLeaf();
        if (this instanceof Constant c) {
            return Scopes.call(
                    like.getManager(),
                    () ->
                            like.getManager()
                                    .eye((int) p, (int) p, 0, like.getDataType())
                                    .toDevice(like.getDevice(), false)
                                    .muli(c.value()),
                    java.util.List::of);
        }
        if (this instanceof Matrix m) {
            if (!m.matrix().getShape().equals(new Shape(p, p))) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "%s must have shape (%d, %d) for the %d elements of params, got %s",
                                name, p, p, p, m.matrix().getShape()));
            }
            return copyLike(Checks.open(m.matrix(), name), like);
        }
        throw new IllegalArgumentException(
                Checks.format("%s must be a number or a (P, P) matrix", name));
    }

    /**
     * Returns a new array with the values of {@code src} and the data type, device and manager of
     * {@code like}. Every conversion makes a genuinely new array: DJL's {@code toType(sameType,
     * true)} returns a handle on the same storage, which a state must never share.
     */
    private static NDArray copyLike(NDArray src, NDArray like) {
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

    private static void requireEntries(NDArray a, String name) {
        Checks.open(a, name);
        Scopes.run(
                () -> {
                    NDArray d = a.toType(DataType.FLOAT64, false).flatten();
                    NDArray bad = d.lt(0).logicalOr(d.isNaN()).logicalOr(d.isInfinite());
                    if (bad.any().getBoolean()) {
                        long at = bad.toType(DataType.INT32, false).argMax().getLong();
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "%s must be non-negative and finite, got %s at flat index"
                                                + " %d",
                                        name, d.get(at).getDouble(), at));
                    }
                });
    }
}
