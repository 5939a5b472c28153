package io.posteriors.examples.ood;

import ai.djl.ndarray.NDArray;

/**
 * A batch of feature vectors and class labels.
 *
 * @param x features, shape {@code (n, dim)}
 * @param y labels, shape {@code (n)}, int64
 */
public record TextBatch(NDArray x, NDArray y) {}
