/** Stochastic-gradient MCMC: SGLD, SGHMC, SGNHT, BAOA, and trace collection. */
package io.posteriors.sgmcmc;
