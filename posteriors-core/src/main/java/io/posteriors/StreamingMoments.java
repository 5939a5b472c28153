package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.internal.Scoped;

/**
 * Running mean and covariance (or per-coordinate variance) of a stream of parameter trees, by
 * Welford's algorithm, without keeping the samples: the summary of an SG-MCMC trajectory.
 *
 * <p>Trees are raveled ({@link TensorTree#ravel()}) and accumulated in float64 on the manager of
 * the first sample. The covariance is the unbiased sample covariance (divisor n - 1).
 *
 * <pre>{@code
 * try (StreamingMoments moments = new StreamingMoments(true)) {
 *     for (...) moments.add(state.params());
 *     NDArray mean = moments.mean();        // (P)
 *     NDArray cov = moments.covariance();   // (P, P)
 * }
 * }</pre>
 */
public final class StreamingMoments implements AutoCloseable {

    private final boolean full;
    private NDManager manager;
    private NDArray mean;
    private NDArray m2;
    private long count;

    /**
     * Creates an empty accumulator.
     *
     * @param fullCovariance true for the full P-by-P covariance, false for the per-coordinate
     *     variance only (P numbers, for large models)
     */
    public StreamingMoments(boolean fullCovariance) {
        this.full = fullCovariance;
    }

    /**
     * Adds one sample.
     *
     * @param sample a tree with the same element count as the previous samples
     * @throws IllegalArgumentException when the element count differs from earlier samples
     * @throws IllegalStateException when the accumulator is closed
     */
    public void add(TensorTree sample) {
        Checks.notNull(sample, "sample");
        if (manager != null && !manager.isOpen()) {
            throw new IllegalStateException("streaming moments have been closed");
        }
        if (mean != null && sample.numel() != mean.size()) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "sample must have %d elements like the earlier samples, got %d",
                            mean.size(), sample.numel()));
        }
        if (manager == null) {
            manager = sample.manager().newSubManager();
        }
        Scoped.run(
                () -> {
                    NDArray x = sample.ravel().toType(DataType.FLOAT64, true);
                    count++;
                    if (mean == null) {
                        mean = x.duplicate();
                        mean.attach(manager);
                        long p = x.size();
                        m2 =
                                full
                                        ? manager.zeros(
                                                new Shape(p, p), DataType.FLOAT64, x.getDevice())
                                        : manager.zeros(
                                                new Shape(p), DataType.FLOAT64, x.getDevice());
                        NDScope.unregister(mean, m2);
                        return;
                    }
                    NDArray delta = x.sub(mean);
                    mean.addi(delta.div(count));
                    NDArray delta2 = x.sub(mean);
                    if (full) {
                        m2.addi(delta.reshape(-1, 1).matMul(delta2.reshape(1, -1)));
                    } else {
                        m2.addi(delta.mul(delta2));
                    }
                });
    }

    /**
     * Returns the number of samples added.
     *
     * @return the count
     */
    public long count() {
        return count;
    }

    /**
     * Returns a copy of the running mean.
     *
     * @return a float64 vector of P entries
     * @throws IllegalStateException when no sample was added
     */
    public NDArray mean() {
        requireSamples(1);
        return mean.duplicate();
    }

    /**
     * Returns the unbiased sample covariance (P-by-P), or the per-coordinate variance (P) when
     * built with {@code fullCovariance = false}.
     *
     * @return a new float64 array
     * @throws IllegalStateException when fewer than two samples were added
     */
    public NDArray covariance() {
        requireSamples(2);
        return m2.div(count - 1);
    }

    private void requireSamples(long n) {
        if (count < n) {
            throw new IllegalStateException(
                    Checks.format("need at least %d samples, got %d", n, count));
        }
    }

    /** Frees the accumulated arrays. */
    @Override
    public void close() {
        if (manager != null) {
            manager.close();
        }
    }
}
