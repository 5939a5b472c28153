package io.posteriors.benchmarks;

import ai.djl.ndarray.NDArray;

/**
 * A batch of inputs and class labels.
 *
 * @param x the inputs, shape {@code (n, features)}
 * @param y the labels, shape {@code (n)}, int64
 */
public record Batch(NDArray x, NDArray y) {}
