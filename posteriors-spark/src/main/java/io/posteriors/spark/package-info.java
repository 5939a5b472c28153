/**
 * Apache Spark for posteriors: independent SG-MCMC chains and ensemble members run as Spark tasks
 * ({@link io.posteriors.spark.SparkChains}), and diagonal, dense and K-FAC Laplace curvature with
 * the evidence's log likelihood summed over a data set partitioned across executors ({@link
 * io.posteriors.spark.SparkLaplace}). Everything that crosses a process boundary (the MAP, chain
 * samples, final states, partial curvature sums) travels as the bytes of a posterior file ({@link
 * io.posteriors.io.PosteriorFiles#toBytes(Object)}). The same code runs in a test, on a laptop
 * ({@code local[*]}, see {@link io.posteriors.spark.SparkSessions}) and on a cluster; {@code
 * docs/spark.md} says what a cluster needs.
 */
package io.posteriors.spark;
