package io.posteriors;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.BinaryOperator;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * An immutable, ordered mapping from parameter names to arrays: the Java face of a PyTree of
 * tensors.
 *
 * <p>The mapping is immutable; the arrays are not (in-place updates write into them). A tree does
 * not own its arrays unless the code that made it says so: {@link #close()} closes every leaf, so
 * only close a tree whose leaves nobody else uses. Operations that combine trees ({@link #zip},
 * {@link #zip3}, {@link #merge}) check that the structures agree and name the first leaf that
 * differs.
 *
 * <pre>{@code
 * TensorTree params = TensorTree.fromBlock(model.getBlock());
 * TensorTree zeros = params.zerosLike();
 * NDArray flat = params.ravel();                 // one vector, leaves in order
 * TensorTree back = params.unravel(flat);        // same names and shapes
 * TensorTree head = params.subset(n -> n.startsWith("03"));   // e.g. the last layer
 * }</pre>
 */
public final class TensorTree implements AutoCloseable {

    private final Map<String, NDArray> leaves;

    private TensorTree(Map<String, NDArray> leaves) {
        this.leaves = Collections.unmodifiableMap(leaves);
    }

    /**
     * Returns a tree with the entries of {@code map}, in the map's iteration order.
     *
     * @param map names to arrays; not empty, no null names or arrays
     * @return the tree (the arrays are shared, not copied)
     * @throws IllegalArgumentException when {@code map} is empty
     * @throws NullPointerException when the map, a name or an array is null
     */
    public static TensorTree of(Map<String, NDArray> map) {
        Checks.notNull(map, "map");
        if (map.isEmpty()) {
            throw new IllegalArgumentException("tree must have at least one leaf, got none");
        }
        Map<String, NDArray> copy = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : map.entrySet()) {
            String name = Checks.notNull(e.getKey(), "leaf name");
            copy.put(name, Checks.notNull(e.getValue(), "leaf '" + name + "'"));
        }
        return new TensorTree(copy);
    }

    /**
     * Returns a tree with one leaf.
     *
     * @param name the leaf's name
     * @param array the leaf
     * @return the tree (the array is shared, not copied)
     */
    public static TensorTree of(String name, NDArray array) {
        Map<String, NDArray> map = new LinkedHashMap<>();
        map.put(Checks.notNull(name, "name"), Checks.notNull(array, "array"));
        return new TensorTree(map);
    }

    /**
     * Returns a tree holding one tensor under the name {@code "x"}, for functions of a single array
     * (the posteriors convention that a tensor is a PyTree with one leaf).
     *
     * @param array the tensor
     * @return the tree
     */
    public static TensorTree of(NDArray array) {
        return of("x", array);
    }

    /**
     * Returns the parameters of an initialised DJL block, keyed by the names {@code
     * block.getParameters()} gives (for example {@code 01Linear_weight}).
     *
     * <p>The leaves are detached views of the block's arrays: they share storage, so writing into
     * them writes into the block, but they carry no autograd state. Copy the tree ({@link #copy()})
     * to get independent arrays.
     *
     * @param block an initialised block
     * @return the parameter tree
     * @throws IllegalStateException when a parameter is not initialised
     * @throws IllegalArgumentException when the block has no parameters
     */
    public static TensorTree fromBlock(Block block) {
        Checks.notNull(block, "block");
        Map<String, NDArray> map = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            Parameter parameter = p.getValue();
            if (!parameter.isInitialized()) {
                throw new IllegalStateException(
                        Checks.format(
                                "parameter '%s' of the block is not initialised; call"
                                        + " block.initialize(...) first",
                                p.getKey()));
            }
            NDArray view = parameter.getArray().stopGradient();
            view.attach(parameter.getArray().getManager());
            map.put(p.getKey(), view);
        }
        if (map.isEmpty()) {
            throw new IllegalArgumentException("block has no parameters");
        }
        return new TensorTree(map);
    }

    /**
     * Returns the leaf names in order.
     *
     * @return the names
     */
    public List<String> names() {
        return List.copyOf(leaves.keySet());
    }

    /**
     * Returns the leaves in order.
     *
     * @return the arrays
     */
    public List<NDArray> leaves() {
        return List.copyOf(leaves.values());
    }

    /**
     * Returns the leaves as an unmodifiable map in order.
     *
     * @return names to arrays
     */
    public Map<String, NDArray> asMap() {
        return leaves;
    }

    /**
     * Returns the leaf with this name.
     *
     * @param name the leaf name
     * @return the array
     * @throws IllegalArgumentException when there is no such leaf
     */
    public NDArray get(String name) {
        NDArray a = leaves.get(name);
        if (a == null) {
            throw new IllegalArgumentException(
                    Checks.format("no leaf named '%s'; leaves are %s", name, leaves.keySet()));
        }
        return a;
    }

    /**
     * Returns whether there is a leaf with this name.
     *
     * @param name the leaf name
     * @return true when present
     */
    public boolean contains(String name) {
        return leaves.containsKey(name);
    }

    /**
     * Returns the number of leaves.
     *
     * @return the leaf count
     */
    public int size() {
        return leaves.size();
    }

    /**
     * Returns the total number of elements over all leaves.
     *
     * @return the element count
     */
    public long numel() {
        long n = 0;
        for (NDArray a : leaves.values()) {
            n += a.size();
        }
        return n;
    }

    /**
     * Returns the first leaf, whose manager, device and data type stand for the tree's.
     *
     * @return the first array
     */
    public NDArray anyLeaf() {
        return leaves.values().iterator().next();
    }

    /**
     * Returns the manager of the first leaf.
     *
     * @return the manager
     */
    public NDManager manager() {
        return anyLeaf().getManager();
    }

    /**
     * Returns the device of the first leaf.
     *
     * @return the device
     */
    public Device device() {
        return anyLeaf().getDevice();
    }

    /**
     * Returns the data type of the first leaf.
     *
     * @return the data type
     */
    public DataType dataType() {
        return anyLeaf().getDataType();
    }

    /**
     * Returns the shapes of the leaves in order.
     *
     * @return names to shapes
     */
    public Map<String, Shape> shapes() {
        Map<String, Shape> m = new LinkedHashMap<>();
        leaves.forEach((k, v) -> m.put(k, v.getShape()));
        return Collections.unmodifiableMap(m);
    }

    /**
     * Applies a function to every leaf.
     *
     * @param f the function
     * @return a tree of the results, with the same names
     */
    public TensorTree map(UnaryOperator<NDArray> f) {
        Checks.notNull(f, "f");
        Map<String, NDArray> m = new LinkedHashMap<>();
        leaves.forEach((k, v) -> m.put(k, Checks.notNull(f.apply(v), "result for leaf " + k)));
        return new TensorTree(m);
    }

    /**
     * Applies a function to every leaf and its name.
     *
     * @param f the function of name and leaf
     * @return a tree of the results, with the same names
     */
    public TensorTree mapWithName(java.util.function.BiFunction<String, NDArray, NDArray> f) {
        Checks.notNull(f, "f");
        Map<String, NDArray> m = new LinkedHashMap<>();
        leaves.forEach((k, v) -> m.put(k, Checks.notNull(f.apply(k, v), "result for leaf " + k)));
        return new TensorTree(m);
    }

    /**
     * Combines this tree with another of the same structure leaf by leaf.
     *
     * @param other the second tree
     * @param f the function of the two leaves
     * @return a tree of the results
     * @throws IllegalArgumentException when the structures differ (names, order or shapes)
     */
    public TensorTree zip(TensorTree other, BinaryOperator<NDArray> f) {
        requireSameStructure(other, "other");
        Checks.notNull(f, "f");
        Map<String, NDArray> m = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : leaves.entrySet()) {
            String k = e.getKey();
            m.put(k, Checks.notNull(f.apply(e.getValue(), other.leaves.get(k)), "result " + k));
        }
        return new TensorTree(m);
    }

    /**
     * A function of three arrays.
     *
     * @param <R> the result type
     */
    @FunctionalInterface
    public interface TriFunction<R> {
        /**
         * Applies the function.
         *
         * @param a the leaf of the first tree
         * @param b the leaf of the second tree
         * @param c the leaf of the third tree
         * @return the result
         */
        R apply(NDArray a, NDArray b, NDArray c);
    }

    /**
     * Combines this tree with two others of the same structure leaf by leaf.
     *
     * @param b the second tree
     * @param c the third tree
     * @param f the function of the three leaves
     * @return a tree of the results
     * @throws IllegalArgumentException when the structures differ
     */
    public TensorTree zip3(TensorTree b, TensorTree c, TriFunction<NDArray> f) {
        requireSameStructure(b, "b");
        requireSameStructure(c, "c");
        Checks.notNull(f, "f");
        Map<String, NDArray> m = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : leaves.entrySet()) {
            String k = e.getKey();
            m.put(
                    k,
                    Checks.notNull(
                            f.apply(e.getValue(), b.leaves.get(k), c.leaves.get(k)),
                            "result " + k));
        }
        return new TensorTree(m);
    }

    /**
     * Runs an action on every name and leaf, in order.
     *
     * @param action the action
     */
    public void forEach(BiConsumer<String, NDArray> action) {
        leaves.forEach(Checks.notNull(action, "action"));
    }

    /**
     * Runs an action on the matching leaves of this tree and another, in order; for in-place
     * updates such as {@code params.forEachZip(grad, (p, g) -> p.addi(g))}.
     *
     * @param other a tree of the same structure
     * @param action the action on (leaf of this, leaf of other)
     * @throws IllegalArgumentException when the structures differ
     */
    public void forEachZip(TensorTree other, BiConsumer<NDArray, NDArray> action) {
        requireSameStructure(other, "other");
        Checks.notNull(action, "action");
        for (Map.Entry<String, NDArray> e : leaves.entrySet()) {
            action.accept(e.getValue(), other.leaves.get(e.getKey()));
        }
    }

    /**
     * Checks that {@code other} has the same names, in the same order, with the same shapes.
     *
     * @param other the tree to compare
     * @param name the parameter name used in the message
     * @throws IllegalArgumentException naming the first leaf that differs and both shapes
     * @throws NullPointerException when {@code other} is null
     */
    public void requireSameStructure(TensorTree other, String name) {
        Checks.notNull(other, name);
        if (other == this) {
            return;
        }
        List<String> a = new ArrayList<>(leaves.keySet());
        List<String> b = new ArrayList<>(other.leaves.keySet());
        if (!a.equals(b)) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "%s must have the same leaves as the tree it is combined with:"
                                    + " expected %s, got %s",
                            name, a, b));
        }
        for (String k : a) {
            Shape s1 = leaves.get(k).getShape();
            Shape s2 = other.leaves.get(k).getShape();
            if (!s1.equals(s2)) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "%s has leaf '%s' of shape %s, expected shape %s",
                                name, k, s2, s1));
            }
        }
    }

    /**
     * Returns whether {@code other} has the same names, order and shapes.
     *
     * @param other the tree to compare
     * @return true when the structures agree
     */
    public boolean sameStructure(TensorTree other) {
        try {
            requireSameStructure(other, "other");
            return true;
        } catch (IllegalArgumentException | NullPointerException e) {
            return false;
        }
    }

    /**
     * Concatenates the flattened leaves, in order, into one vector on the first leaf's manager.
     *
     * <p>For a tree of several leaves the vector is a new array; for a tree of one leaf it is a
     * flattened view that shares the leaf's storage, so writing into it writes into the leaf. Treat
     * the result as read-only, or {@link NDArray#duplicate()} it before writing.
     *
     * @return a vector of {@link #numel()} elements (the caller may close it)
     */
    public NDArray ravel() {
        if (leaves.size() == 1) {
            return anyLeaf().flatten();
        }
        NDList flats = new NDList(leaves.size());
        for (NDArray a : leaves.values()) {
            flats.add(a.flatten());
        }
        NDArray out = NDArrays.concat(flats);
        flats.close();
        return out;
    }

    /**
     * Concatenates leaves that share a leading dimension {@code n} (per-sample gradients, samples)
     * into one {@code (n, P)} matrix, each row the raveled tree of one sample.
     *
     * <p>As with {@link #ravel()}, the matrix of a one-leaf tree is a view sharing the leaf's
     * storage.
     *
     * @param n the leading dimension every leaf must have
     * @return an {@code (n, P)} matrix
     * @throws IllegalArgumentException when a leaf's leading dimension is not {@code n}
     */
    public NDArray ravelBatched(long n) {
        NDList rows = new NDList(leaves.size());
        for (Map.Entry<String, NDArray> e : leaves.entrySet()) {
            Shape s = e.getValue().getShape();
            if (s.dimension() < 1 || s.get(0) != n) {
                rows.close();
                throw new IllegalArgumentException(
                        Checks.format(
                                "leaf '%s' must have leading dimension %d, got shape %s",
                                e.getKey(), n, s));
            }
            rows.add(e.getValue().reshape(n, -1));
        }
        if (rows.size() == 1) {
            return rows.get(0);
        }
        NDArray out = NDArrays.concat(rows, 1);
        rows.close();
        return out;
    }

    /**
     * Splits a vector into a tree with this tree's names and shapes: the inverse of {@link
     * #ravel()}.
     *
     * <p>The leaves are reshaped slices of {@code flat} and share its storage: writing into one
     * writes into {@code flat}. Copy the result ({@link #copy()}) for independent arrays.
     *
     * @param flat a vector of {@link #numel()} elements
     * @return a new tree whose leaves are views of {@code flat}, on its manager
     * @throws IllegalArgumentException when {@code flat} is not a vector of the right length
     */
    public TensorTree unravel(NDArray flat) {
        Checks.notNull(flat, "flat");
        if (flat.getShape().dimension() != 1 || flat.size() != numel()) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "flat must be a vector of %d elements, got shape %s",
                            numel(), flat.getShape()));
        }
        Map<String, NDArray> m = new LinkedHashMap<>();
        long offset = 0;
        for (Map.Entry<String, NDArray> e : leaves.entrySet()) {
            Shape shape = e.getValue().getShape();
            long n = shape.size();
            try (NDArray slice = flat.get(new NDIndex("{}:{}", offset, offset + n))) {
                m.put(e.getKey(), slice.reshape(shape));
            }
            offset += n;
        }
        return new TensorTree(m);
    }

    /**
     * Returns the leaves whose names pass a test, for example the last layer of a network.
     *
     * @param keep the test on names
     * @return a tree sharing the selected leaves
     * @throws IllegalArgumentException when no leaf passes
     */
    public TensorTree subset(Predicate<String> keep) {
        Checks.notNull(keep, "keep");
        Map<String, NDArray> m = new LinkedHashMap<>();
        leaves.forEach(
                (k, v) -> {
                    if (keep.test(k)) {
                        m.put(k, v);
                    }
                });
        if (m.isEmpty()) {
            throw new IllegalArgumentException(
                    Checks.format("subset selects no leaf; leaves are %s", leaves.keySet()));
        }
        return new TensorTree(m);
    }

    /**
     * Returns the leaves with these names, in this tree's order.
     *
     * @param names the names to keep; each must be present
     * @return a tree sharing the selected leaves
     * @throws IllegalArgumentException when a name is absent or none is given
     */
    public TensorTree subset(Collection<String> names) {
        Checks.notNull(names, "names");
        for (String n : names) {
            get(n);
        }
        Set<String> wanted = Set.copyOf(names);
        return subset(wanted::contains);
    }

    /**
     * Returns this tree with some leaves replaced by those of {@code part}: the inverse of {@link
     * #subset}.
     *
     * @param part leaves to put in place; each name must be present here with the same shape
     * @return a new tree (leaves are shared, not copied)
     * @throws IllegalArgumentException when a name is absent or a shape differs
     */
    public TensorTree merge(TensorTree part) {
        Checks.notNull(part, "part");
        Map<String, NDArray> m = new LinkedHashMap<>(leaves);
        part.leaves.forEach(
                (k, v) -> {
                    NDArray old = get(k);
                    if (!old.getShape().equals(v.getShape())) {
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "part has leaf '%s' of shape %s, expected shape %s",
                                        k, v.getShape(), old.getShape()));
                    }
                    m.put(k, v);
                });
        return new TensorTree(m);
    }

    /**
     * Returns a tree of new zero arrays with the shapes, data type and device of this one.
     *
     * @return the zeros
     */
    public TensorTree zerosLike() {
        return map(NDArray::zerosLike);
    }

    /**
     * Returns a tree of new arrays filled with {@code value}.
     *
     * @param value the fill value
     * @return the filled tree
     */
    public TensorTree fullLike(double value) {
        return map(a -> a.zerosLike().addi(value));
    }

    /**
     * Returns deep copies of the leaves on their own managers.
     *
     * @return the copy
     */
    public TensorTree copy() {
        return map(NDArray::duplicate);
    }

    /**
     * Returns deep copies of the leaves attached to {@code manager}.
     *
     * @param manager the manager that owns the copies
     * @return the copy
     */
    public TensorTree copy(NDManager manager) {
        Checks.notNull(manager, "manager");
        return map(
                a -> {
                    NDArray c = a.duplicate();
                    c.attach(manager);
                    return c;
                });
    }

    /**
     * Writes the values of {@code source} into this tree's arrays.
     *
     * @param source a tree of the same structure
     * @throws IllegalArgumentException when the structures differ
     */
    public void setFrom(TensorTree source) {
        forEachZip(source, (dst, src) -> dst.set(new NDIndex("..."), src));
    }

    /**
     * Attaches every leaf to {@code manager}.
     *
     * @param manager the new owner
     * @return this tree
     */
    public TensorTree attach(NDManager manager) {
        Checks.notNull(manager, "manager");
        leaves.values().forEach(a -> a.attach(manager));
        return this;
    }

    /**
     * Returns whether every leaf is within {@code atol + rtol |other|} of {@code other}'s.
     *
     * @param other a tree of the same structure
     * @param rtol the relative tolerance
     * @param atol the absolute tolerance
     * @return true when every element is close
     */
    public boolean allClose(TensorTree other, double rtol, double atol) {
        if (!sameStructure(other)) {
            return false;
        }
        for (Map.Entry<String, NDArray> e : leaves.entrySet()) {
            if (!e.getValue().allClose(other.leaves.get(e.getKey()), rtol, atol, false)) {
                return false;
            }
        }
        return true;
    }

    /** Closes every leaf. Only close trees that own their arrays. */
    @Override
    public void close() {
        leaves.values().forEach(NDArray::close);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("TensorTree{");
        boolean first = true;
        for (Map.Entry<String, NDArray> e : leaves.entrySet()) {
            if (!first) {
                sb.append(", ");
            }
            first = false;
            sb.append(e.getKey()).append(": ").append(e.getValue().getShape());
        }
        return sb.append('}').toString();
    }
}
