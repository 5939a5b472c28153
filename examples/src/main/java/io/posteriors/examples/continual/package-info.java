/**
 * The continual-learning example: a small word-level language model learns a series of "books"
 * (Brown-corpus genres) one after the other, by AdamW and by the same with the previous book's
 * diagonal-Fisher Laplace posterior as the prior.
 */
package io.posteriors.examples.continual;
