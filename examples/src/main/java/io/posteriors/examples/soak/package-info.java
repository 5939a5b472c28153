/**
 * Soak runs that check resident memory stays flat over long loops of core operations; run by hand
 * and reported, never as unit tests.
 */
package io.posteriors.examples.soak;
