/**
 * Functional gradient optimisers (SGD with momentum, Adam) whose state is explicit, and the {@link
 * io.posteriors.optim.Optimize} transform that uses them for MAP training: the temperature-zero end
 * of every method, swappable with the samplers and posteriors in one line.
 */
package io.posteriors.optim;
