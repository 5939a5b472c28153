/**
 * The out-of-distribution text example: a genre classifier trained on English (the Brown corpus),
 * its posterior by several methods, and their uncertainty on English test text against Spanish text
 * (fortunes-es). {@link io.posteriors.examples.ood.GenreTask} and {@link
 * io.posteriors.examples.ood.TextMethods} are shared with the selective-prediction example.
 */
package io.posteriors.examples.ood;
