/** Helpers the examples share: progress bars over the library's listener hooks. */
package io.posteriors.examples.common;
