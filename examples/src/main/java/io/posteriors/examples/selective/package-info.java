/**
 * The selective-prediction example: answer only when sure, with confidence from the softmax of a
 * point estimate or from a posterior predictive, on the genre task of {@link
 * io.posteriors.examples.ood}.
 */
package io.posteriors.examples.selective;
