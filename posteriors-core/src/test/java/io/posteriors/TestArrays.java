package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Small helpers shared by the core tests: host copies of arrays and seeded test data. */
public final class TestArrays {

    private TestArrays() {}

    /**
     * Returns the elements of an array as doubles, in row-major order.
     *
     * @param a the array
     * @return a host copy
     */
    public static double[] doubles(NDArray a) {
        try (NDArray d = a.toType(DataType.FLOAT64, true)) {
            return d.toDoubleArray();
        }
    }

    /**
     * Returns the raveled elements of a tree as doubles, closing the temporary vector.
     *
     * @param tree the tree
     * @return a host copy in {@link TensorTree#ravel()} order
     */
    public static double[] flat(TensorTree tree) {
        NDArray r = tree.ravel();
        try {
            return doubles(r);
        } finally {
            r.close();
        }
    }

    /**
     * Returns a float64 array of standard normal values drawn from a Java generator.
     *
     * @param manager the manager
     * @param random the generator
     * @param shape the shape
     * @return the array
     */
    public static NDArray normal(NDManager manager, Random random, Shape shape) {
        double[] v = new double[(int) shape.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = random.nextGaussian();
        }
        return manager.create(v, shape);
    }

    /**
     * Returns a float64 tree of standard normal leaves with the given names and shapes.
     *
     * @param manager the manager
     * @param random the generator
     * @param shapes names to shapes, in order
     * @return the tree
     */
    public static TensorTree normalTree(
            NDManager manager, Random random, Map<String, Shape> shapes) {
        Map<String, NDArray> m = new LinkedHashMap<>();
        shapes.forEach((k, s) -> m.put(k, normal(manager, random, s)));
        return TensorTree.of(m);
    }

    /**
     * Returns a row-major matrix as a Java 2-D array.
     *
     * @param a a 2-D array
     * @return the rows
     */
    public static double[][] matrix(NDArray a) {
        long[] s = a.getShape().getShape();
        double[] flat = doubles(a);
        double[][] out = new double[(int) s[0]][(int) s[1]];
        for (int i = 0; i < s[0]; i++) {
            System.arraycopy(flat, (int) (i * s[1]), out[i], 0, (int) s[1]);
        }
        return out;
    }

    /**
     * Returns the largest absolute difference between two equal-length vectors.
     *
     * @param x the first
     * @param y the second
     * @return max |x_i - y_i|
     */
    public static double maxAbsDiff(double[] x, double[] y) {
        if (x.length != y.length) {
            throw new AssertionError("lengths differ: " + x.length + " vs " + y.length);
        }
        double m = 0;
        for (int i = 0; i < x.length; i++) {
            m = Math.max(m, Math.abs(x[i] - y[i]));
        }
        return m;
    }

    /**
     * Returns the Euclidean norm of a vector.
     *
     * @param x the vector
     * @return ||x||
     */
    public static double norm(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v * v;
        }
        return Math.sqrt(s);
    }
}
