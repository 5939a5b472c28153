/**
 * JMH benchmarks of every method against a plain DJL SGD step, run by {@link
 * io.posteriors.benchmarks.BenchMain}: the workloads of the plain-PyTorch reference (an MLP
 * 784-256-256-10 on synthetic data), a 2-D Gaussian for per-step overhead, dense methods on a small
 * MLP, and a memory soak.
 */
package io.posteriors.benchmarks;
