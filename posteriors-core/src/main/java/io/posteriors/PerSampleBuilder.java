package io.posteriors;

import java.util.List;
import java.util.function.Function;

/**
 * The options every method that needs per-sample gradients shares, declared once: whether the log
 * density returns one value per sample, and how a batch is split into one-sample batches when it
 * does not. Empirical-Fisher Laplace and the extended Kalman filter extend this class.
 *
 * <p>A log density that offers a fast per-sample path ({@link ModelLogPosterior}) ignores both
 * options: it is always evaluated per sample in about one backward pass.
 *
 * @param <B> the batch type
 * @param <T> the concrete builder type, returned by every setter
 */
public abstract class PerSampleBuilder<B, T extends PerSampleBuilder<B, T>> {

    private boolean perSample;
    private Function<B, List<B>> batchSplitter = PerSample::split;

    /** Starts a builder with {@code perSample} false and the default splitter. */
    protected PerSampleBuilder() {}

    /**
     * Returns this builder as its concrete type.
     *
     * @return this builder
     */
    protected abstract T self();

    /**
     * Sets whether the log density returns one value per sample (a vector); default false, when it
     * returns a scalar for a batch and is evaluated on each one-sample batch separately.
     *
     * @param perSample whether the function is per sample
     * @return this builder
     */
    public final T perSample(boolean perSample) {
        this.perSample = perSample;
        return self();
    }

    /**
     * Sets how a batch is split into one-sample batches when {@code perSample} is false. By default
     * a batch that is an NDArray, NDList, TensorTree, List or record of these is split along
     * dimension 0 of every array it holds ({@link PerSample#split}).
     *
     * @param batchSplitter returns the one-sample batches of a batch, in order
     * @return this builder
     * @throws NullPointerException when the splitter is null
     */
    public final T batchSplitter(Function<B, List<B>> batchSplitter) {
        this.batchSplitter = Checks.notNull(batchSplitter, "batchSplitter");
        return self();
    }

    /**
     * Returns whether the log density is per sample.
     *
     * @return the setting
     */
    protected final boolean perSample() {
        return perSample;
    }

    /**
     * Returns the batch splitter.
     *
     * @return the splitter
     */
    protected final Function<B, List<B>> batchSplitter() {
        return batchSplitter;
    }
}
