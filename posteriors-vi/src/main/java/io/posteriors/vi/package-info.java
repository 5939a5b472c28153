/**
 * Gaussian variational inference: {@link io.posteriors.vi.DiagVi} (mean-field, posteriors' {@code
 * vi.diag}) and {@link io.posteriors.vi.DenseVi} (full covariance through a flat lower-triangular
 * factor, posteriors' {@code vi.dense}), each fitting q to the tempered posterior by a functional
 * optimiser on the Monte Carlo NELBO, with the sticking-the-landing gradient estimator by default.
 */
package io.posteriors.vi;
