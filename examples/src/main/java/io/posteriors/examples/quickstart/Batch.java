package io.posteriors.examples.quickstart;

import ai.djl.ndarray.NDArray;

/**
 * A batch of inputs and class labels.
 *
 * @param x inputs, shape {@code (n, features)}
 * @param y labels, shape {@code (n)}
 */
public record Batch(NDArray x, NDArray y) {

    /**
     * Returns the number of samples.
     *
     * @return the batch size
     */
    public long size() {
        return x.getShape().get(0);
    }
}
