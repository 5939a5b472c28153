/**
 * Stochastic-gradient MCMC: SGLD, SGHMC, SGNHT and BAOA (trace collection lives in core).
 *
 * <p>Each sampler is a record of its options ({@link io.posteriors.sgmcmc.Sghmc}, ...) filled by a
 * builder whose learning rate and temperature come from {@link io.posteriors.TemperedBuilder}; its
 * state record ({@link io.posteriors.sgmcmc.SghmcState}, ...) sits beside it.
 */
package io.posteriors.sgmcmc;
