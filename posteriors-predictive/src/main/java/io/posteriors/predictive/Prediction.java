package io.posteriors.predictive;

import ai.djl.ndarray.NDArray;

/**
 * A predictive distribution for a batch of inputs, with its uncertainty per input (per position for
 * sequence outputs). Its arrays are new and owned by the record: {@link #close()} frees them.
 */
public sealed interface Prediction extends AutoCloseable
        permits Prediction.Classification, Prediction.Regression {

    /**
     * A classification predictive.
     *
     * <p>With {@code P_s} the class probabilities under sample {@code s} and {@code p} their mean:
     * {@code total = H(p)}, {@code aleatoric = mean_s H(P_s)} and {@code epistemic = total -
     * aleatoric}, the mutual information between the label and the parameters (non-negative by
     * Jensen's inequality, zero for a point mass; it may show rounding of order 1e-16). Entropies
     * are in nats.
     *
     * @param probs the mean predictive probabilities, classes in the last dimension
     * @param total the entropy of the mean predictive, one per input
     * @param aleatoric the mean entropy of the per-sample predictives
     * @param epistemic their difference, the mutual information
     * @param sampleProbs the per-sample probabilities with the sample dimension first, or null when
     *     they were not kept
     */
    record Classification(
            NDArray probs, NDArray total, NDArray aleatoric, NDArray epistemic, NDArray sampleProbs)
            implements Prediction {

        /** Frees the arrays. */
        @Override
        public void close() {
            probs.close();
            total.close();
            aleatoric.close();
            epistemic.close();
            if (sampleProbs != null) {
                sampleProbs.close();
            }
        }
    }

    /**
     * A regression predictive: by the law of total variance, the predictive variance is the mean
     * observation variance (aleatoric) plus the variance of the predicted mean over the posterior
     * (epistemic).
     *
     * @param mean the predictive mean
     * @param aleatoric the mean observation variance, shaped like {@code mean}
     * @param epistemic the variance of the mean over the posterior, shaped like {@code mean}
     * @param sampleMeans the per-sample means with the sample dimension first, or null
     */
    record Regression(NDArray mean, NDArray aleatoric, NDArray epistemic, NDArray sampleMeans)
            implements Prediction {

        /**
         * Returns the total predictive variance, {@code aleatoric + epistemic}.
         *
         * @return a new array
         */
        public NDArray variance() {
            return aleatoric.add(epistemic);
        }

        /** Frees the arrays. */
        @Override
        public void close() {
            mean.close();
            aleatoric.close();
            epistemic.close();
            if (sampleMeans != null) {
                sampleMeans.close();
            }
        }
    }

    /** Frees the arrays of the prediction. */
    @Override
    void close();
}
