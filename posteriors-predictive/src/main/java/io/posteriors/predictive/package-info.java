/**
 * From any posterior to predictions with uncertainty: Monte Carlo and linearised (GLM) predictives,
 * the total / aleatoric / epistemic split, calibration metrics and temperature scaling, selective
 * prediction and out-of-distribution scores, and plots of them. It knows core's posterior
 * interfaces only, never a method class.
 */
package io.posteriors.predictive;
