/** Runnable examples of posteriors-java, each generating or shipping its own data. */
package io.posteriors.examples;
