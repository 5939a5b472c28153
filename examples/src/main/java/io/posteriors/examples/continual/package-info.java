/**
 * The continual-learning example: a small word-level language model learns a series of "books"
 * (Brown-corpus genres) one after the other through LoRA adapters over its frozen layers ({@link
 * io.posteriors.examples.continual.LoraLinear}), by AdamW and by the same with the previous book's
 * diagonal-Fisher Laplace posterior over the adapters as the prior.
 */
package io.posteriors.examples.continual;
