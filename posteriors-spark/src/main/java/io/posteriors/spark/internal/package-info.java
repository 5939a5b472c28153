/**
 * Implementation details of {@code io.posteriors.spark}: the JVM-wide lock around the engine's
 * random generator, the serialisable partial sums of data-parallel Laplace and the per-state-type
 * rules for summing them, and the tasks' bodies. Not part of the API.
 */
package io.posteriors.spark.internal;
