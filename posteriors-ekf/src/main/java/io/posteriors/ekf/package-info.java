/** Extended Kalman filters with diagonal and dense curvature for online learning. */
package io.posteriors.ekf;
