package io.posteriors.spark;

import ai.djl.ndarray.NDManager;
import java.io.Serializable;
import java.util.List;

/**
 * Turns consecutive rows of a Spark partition (the user's {@code Dataset} or RDD elements) into one
 * batch of the type a log posterior takes. It is serialised to the executors, so it must not
 * capture anything that is not {@link Serializable} (a lambda assigned to this type is serialisable
 * when what it captures is).
 *
 * <pre>{@code
 * BatchAdapter<double[], XY> adapter = (rows, m) -> {
 *     double[][] x = new double[rows.size()][];
 *     double[] y = new double[rows.size()];
 *     for (int i = 0; i < rows.size(); i++) {
 *         x[i] = Arrays.copyOf(rows.get(i), D);
 *         y[i] = rows.get(i)[D];
 *     }
 *     return new XY(m.create(x), m.create(y));
 * };
 * }</pre>
 *
 * @param <R> the row type
 * @param <B> the batch type
 */
@FunctionalInterface
public interface BatchAdapter<R, B> extends Serializable {

    /**
     * Builds a batch from rows.
     *
     * @param rows between 1 and the batch size rows, in partition order
     * @param manager the manager to create the batch's arrays on; it is closed after the batch is
     *     used, which frees them
     * @return the batch
     */
    B toBatch(List<R> rows, NDManager manager);
}
