package io.posteriors.predictive;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import io.posteriors.Checks;
import io.posteriors.Scopes;
import java.util.List;

/**
 * Entropies and the split of predictive uncertainty into its aleatoric and epistemic parts, from
 * per-sample class probabilities.
 */
public final class Uncertainty {

    private Uncertainty() {}

    /**
     * Returns the entropy {@code -Σ p log p} (nats) over the last dimension, with {@code 0 log 0 =
     * 0}.
     *
     * @param probs probabilities, classes in the last dimension
     * @return a new array without the last dimension
     */
    public static NDArray entropy(NDArray probs) {
        Checks.open(probs, "probs");
        return Scopes.one(
                () -> {
                    NDArray plogp = probs.mul(probs.log());
                    // p log p -> 0 as p -> 0; the engine gives 0 * -inf = NaN there
                    NDArray safe = NDArrays.where(probs.gt(0), plogp, probs.zerosLike());
                    return safe.sum(new int[] {-1}).neg();
                });
    }

    /**
     * Splits the uncertainty of per-sample class probabilities {@code (S, ..., C)}.
     *
     * @param sampleProbs per-sample probabilities, sample dimension first, classes last
     * @param keepSamples whether the result keeps a copy of {@code sampleProbs}
     * @return the prediction (mean, total, aleatoric, epistemic), new arrays
     * @throws IllegalArgumentException when the array has fewer than two dimensions
     */
    public static Prediction.Classification decompose(NDArray sampleProbs, boolean keepSamples) {
        Checks.open(sampleProbs, "sampleProbs");
        if (sampleProbs.getShape().dimension() < 2) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "sampleProbs must have shape (S, ..., C), got %s",
                            sampleProbs.getShape()));
        }
        return Scopes.call(
                sampleProbs.getManager(),
                () -> {
                    NDArray mean = sampleProbs.mean(new int[] {0});
                    NDArray total = entropy(mean);
                    NDArray aleatoric = entropy(sampleProbs).mean(new int[] {0});
                    NDArray epistemic = total.sub(aleatoric);
                    return new Prediction.Classification(
                            mean,
                            total,
                            aleatoric,
                            epistemic,
                            keepSamples ? sampleProbs.duplicate() : null);
                },
                p ->
                        p.sampleProbs() == null
                                ? List.of(p.probs(), p.total(), p.aleatoric(), p.epistemic())
                                : List.of(
                                        p.probs(),
                                        p.total(),
                                        p.aleatoric(),
                                        p.epistemic(),
                                        p.sampleProbs()));
    }
}
