package io.posteriors.predictive;

/**
 * The usual summary of an out-of-distribution detector, with OOD as the positive class; see {@link
 * OodDetection}.
 *
 * @param auroc the area under the ROC curve, in [0, 1]; 0.5 is chance, 1 is perfect
 * @param aupr the average precision with OOD positive, in (0, 1]
 * @param fprAt95Tpr the false positive rate at the threshold that first reaches 95% true positive
 *     rate, in [0, 1]; lower is better
 */
public record OodScores(double auroc, double aupr, double fprAt95Tpr) {}
