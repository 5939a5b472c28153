/**
 * Diagonal and dense Laplace approximations: empirical Fisher, GGN, Hessian (posteriors' {@code
 * posteriors.laplace}).
 *
 * <p>{@link io.posteriors.laplace.DiagFisher} and {@link io.posteriors.laplace.DiagGgn} accumulate
 * a diagonal precision in a {@link io.posteriors.laplace.DiagLaplaceState}; {@link
 * io.posteriors.laplace.DenseFisher}, {@link io.posteriors.laplace.DenseGgn} and {@link
 * io.posteriors.laplace.DenseHessian} a dense one in a {@link
 * io.posteriors.laplace.DenseLaplaceState}. Each transform adds one batch's curvature at fixed
 * parameters, so a pass over the data in minibatches equals one full-batch update. Each transform
 * is a record of its options, filled by its builder. The states are Gaussian posteriors ({@link
 * io.posteriors.DiagGaussianPosterior}, {@link io.posteriors.DenseGaussianPosterior}): they sample
 * and evaluate their log density at a temperature that scales the covariance (T = 1 the Laplace
 * posterior, T = 0 the mean). {@link io.posteriors.laplace.KfacGgn} and {@link
 * io.posteriors.laplace.KfacFisher} keep Kronecker factors per {@code Linear} layer in a {@link
 * io.posteriors.laplace.KfacLaplaceState}; {@link io.posteriors.laplace.Evidence} gives the Laplace
 * evidence and tunes the prior precision; {@link io.posteriors.laplace.Subnetwork} restricts any of
 * them to part of the network. See {@code docs/laplace.md}.
 */
package io.posteriors.laplace;
