/**
 * Extended Kalman filters with diagonal and dense curvature for online learning: {@link
 * io.posteriors.ekf.DiagEkf} and {@link io.posteriors.ekf.DenseEkf}, posteriors' {@code
 * ekf.diag_fisher} and {@code ekf.dense_fisher}, with the empirical Fisher or the generalised
 * Gauss-Newton matrix as curvature. See {@code docs/ekf.md}.
 */
package io.posteriors.ekf;
