/**
 * The quick start: a small classifier on generated data trained or inferred with any method of the
 * library, chosen with {@code --method}.
 */
package io.posteriors.examples.quickstart;
