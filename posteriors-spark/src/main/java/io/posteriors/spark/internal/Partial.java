package io.posteriors.spark.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Checks;
import io.posteriors.TensorTree;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The partial sums of a data-parallel Laplace fit: the curvature arrays of one or more partitions,
 * the counts, the log likelihood and the tasks' compute time. Two partials add up to the partial of
 * the union of their partitions; the empty partial is the zero.
 *
 * <p>The arrays travel as Java arrays of their own element type (float64 or float32) and are added
 * element by element in Java, which rounds exactly as libtorch's element-wise add does; no file and
 * no native array is involved in the tree aggregation.
 *
 * @param sums the summed curvature arrays, in tree order, or null for the empty partial
 * @param samples the samples a K-FAC state counts (for the other states, the rows)
 * @param steps the batches
 * @param rows the rows
 * @param logLikelihood the summed log likelihood (0 when not computed)
 * @param tasks the partitions summed
 * @param taskNanos the tasks' compute time, summed
 * @param maxTaskNanos the longest task's compute time
 */
public record Partial(
        List<Leaf> sums,
        long samples,
        long steps,
        long rows,
        double logLikelihood,
        int tasks,
        long taskNanos,
        long maxTaskNanos)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    /**
     * One summed array.
     *
     * @param name its name in the tree
     * @param shape its shape
     * @param f64 its values when it is float64, else null
     * @param f32 its values when it is float32, else null
     */
    public record Leaf(String name, long[] shape, double[] f64, float[] f32)
            implements Serializable {

        private static final long serialVersionUID = 1L;

        /**
         * Copies an array's values.
         *
         * @param name its name
         * @param a the array, float64 or float32
         * @return the leaf
         * @throws IllegalArgumentException when the array is of another type
         */
        static Leaf of(String name, NDArray a) {
            long[] shape = a.getShape().getShape();
            if (a.getDataType() == DataType.FLOAT64) {
                return new Leaf(name, shape, a.toDoubleArray(), null);
            }
            if (a.getDataType() == DataType.FLOAT32) {
                return new Leaf(name, shape, null, a.toFloatArray());
            }
            throw new IllegalArgumentException(
                    Checks.format(
                            "curvature array '%s' must be float64 or float32 to be summed, got %s",
                            name, a.getDataType()));
        }

        Leaf plus(Leaf o) {
            if (!name.equals(o.name)
                    || !Arrays.equals(shape, o.shape)
                    || (f64 == null) != (o.f64 == null)) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "partial sums differ: '%s' %s %s against '%s' %s %s",
                                name,
                                Arrays.toString(shape),
                                f64 == null ? "float32" : "float64",
                                o.name,
                                Arrays.toString(o.shape),
                                o.f64 == null ? "float32" : "float64"));
            }
            if (f64 != null) {
                double[] s = new double[f64.length];
                for (int i = 0; i < s.length; i++) {
                    s[i] = f64[i] + o.f64[i];
                }
                return new Leaf(name, shape, s, null);
            }
            float[] s = new float[f32.length];
            for (int i = 0; i < s.length; i++) {
                s[i] = f32[i] + o.f32[i];
            }
            return new Leaf(name, shape, null, s);
        }

        NDArray toArray(NDManager m) {
            Shape s = new Shape(shape);
            return f64 != null ? m.create(f64, s) : m.create(f32, s);
        }
    }

    /**
     * Returns the zero: no arrays, counts and times 0.
     *
     * @return the empty partial
     */
    public static Partial empty() {
        return new Partial(null, 0, 0, 0, 0, 0, 0, 0);
    }

    /**
     * Copies the values of a tree's arrays.
     *
     * @param tree float64 or float32 arrays
     * @return the leaves, in tree order
     * @throws IllegalArgumentException when an array is of another type
     */
    public static List<Leaf> leaves(TensorTree tree) {
        List<Leaf> out = new ArrayList<>(tree.size());
        tree.forEach((k, a) -> out.add(Leaf.of(k, a)));
        return out;
    }

    /**
     * Returns the summed arrays as a tree on {@code manager}.
     *
     * @param manager the manager that owns the new arrays
     * @return the tree
     * @throws IllegalStateException when this partial is empty
     */
    public TensorTree tree(NDManager manager) {
        if (sums == null) {
            throw new IllegalStateException("the empty partial has no arrays");
        }
        Map<String, NDArray> m = new LinkedHashMap<>();
        for (Leaf l : sums) {
            m.put(l.name(), l.toArray(manager));
        }
        return TensorTree.of(m);
    }

    /**
     * Returns the sum of this partial and {@code other}: the arrays added element by element in
     * their type, the counts, log likelihoods and times added, the longest task kept.
     *
     * @param other the other partial
     * @return the sum
     * @throws IllegalArgumentException when the arrays differ in names, shapes or types
     */
    public Partial plus(Partial other) {
        Checks.notNull(other, "other");
        List<Leaf> s;
        if (sums == null) {
            s = other.sums;
        } else if (other.sums == null) {
            s = sums;
        } else {
            if (sums.size() != other.sums.size()) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "partial sums differ: %d arrays against %d",
                                sums.size(), other.sums.size()));
            }
            s = new ArrayList<>(sums.size());
            for (int i = 0; i < sums.size(); i++) {
                s.add(sums.get(i).plus(other.sums.get(i)));
            }
        }
        return new Partial(
                s,
                samples + other.samples,
                steps + other.steps,
                rows + other.rows,
                logLikelihood + other.logLikelihood,
                tasks + other.tasks,
                taskNanos + other.taskNanos,
                Math.max(maxTaskNanos, other.maxTaskNanos));
    }
}
