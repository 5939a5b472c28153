package io.posteriors;

import ai.djl.ndarray.NDArray;
import io.posteriors.internal.TorchAutograd;

/**
 * A Gaussian prior over the parameters whose gradient the library writes down instead of
 * differentiating: {@code θ ~ N(mean, sd²)} elementwise, either one mean and standard deviation for
 * every parameter ({@link #isotropic}) or trees of them ({@link #diagonal}).
 *
 * <p>Given to {@link ModelLogPosterior.Builder#prior(GaussianPrior, double)}, it gives the same log
 * posterior as the equivalent {@link DiagNormal#logProb} lambda (normalised), but a gradient step
 * no longer records the prior in the autograd graph and runs no backward pass through it: the
 * gradient {@code -(θ - mean) / (sd² N)} is added to the likelihood's gradient with one array
 * operation per leaf. On the benchmarks' 269,322-parameter MLP this is about a quarter of the time
 * of a gradient of the log posterior ({@code docs/benchmarks.md}).
 *
 * <pre>{@code
 * ModelLogPosterior<Batch> logPost =
 *         ModelLogPosterior.builder(model, Batch::x, (o, b) -> LogLikelihoods.categorical(o, b.y()))
 *                 .prior(GaussianPrior.isotropic(0, 1), n)
 *                 .build();
 * }</pre>
 */
public final class GaussianPrior {

    private static final double HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

    private final double mean;
    private final double sd;
    private final TensorTree means;
    private final TensorTree sds;

    private GaussianPrior(double mean, double sd, TensorTree means, TensorTree sds) {
        this.mean = mean;
        this.sd = sd;
        this.means = means;
        this.sds = sds;
    }

    /**
     * Returns the prior {@code N(mean, sd²)} on every parameter, independently.
     *
     * @param mean the common mean; finite
     * @param sd the common standard deviation; positive and finite
     * @return the prior
     * @throws IllegalArgumentException when {@code mean} is not finite or {@code sd} is not
     *     positive and finite
     */
    public static GaussianPrior isotropic(double mean, double sd) {
        Checks.finite(mean, "mean");
        Checks.positive(sd, "sd");
        return new GaussianPrior(mean, sd, null, null);
    }

    /**
     * Returns the prior {@code N(mean_k, sd_k²)} on every element, with trees of means and standard
     * deviations shaped like the parameters. The trees are used as given, not copied: keep them
     * open while the log posterior is in use.
     *
     * @param mean the means
     * @param sd the standard deviations, same structure; positive
     * @return the prior
     * @throws NullPointerException when a tree is null
     * @throws IllegalArgumentException when the structures differ, or an entry of {@code sd} is not
     *     positive and finite (naming the leaf)
     */
    public static GaussianPrior diagonal(TensorTree mean, TensorTree sd) {
        Checks.notNull(mean, "mean");
        mean.requireSameStructure(sd, "sd");
        Checks.finite(mean, "mean", 0);
        Checks.finite(sd, "sd", 0);
        sd.forEach(
                (k, s) -> {
                    double min;
                    try (NDArray m = s.min()) {
                        min = Scalars.value(m);
                    }
                    if (!(min > 0)) {
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "sd must be positive at every element, got %s at leaf"
                                                + " '%s'",
                                        min, k));
                    }
                });
        return new GaussianPrior(Double.NaN, Double.NaN, mean, sd);
    }

    /**
     * Returns whether one mean and standard deviation apply to every parameter.
     *
     * @return true for {@link #isotropic}
     */
    public boolean isIsotropic() {
        return means == null;
    }

    /**
     * Returns the normalised log density {@code sum log N(θ | mean, sd²)}, recorded by autograd
     * like any other function of the parameters (used wherever the library differentiates the log
     * posterior generically, for example Hessians).
     *
     * @param params the parameters
     * @return a scalar on the parameters' manager
     * @throws IllegalArgumentException when a diagonal prior's trees do not have the parameters'
     *     structure
     */
    public NDArray logProb(TensorTree params) {
        return isIsotropic()
                ? DiagNormal.logProb(params, mean, sd, true)
                : DiagNormal.logProb(params, means, sds, true);
    }

    /**
     * Returns {@code scale} times the log density, computed outside any autograd graph with one
     * reduction per leaf.
     */
    NDArray scaledValue(TensorTree params, double scale) {
        requireStructure(params);
        if (isIsotropic()) {
            double sumSq;
            try (NDArray ss = FusedOps.sumOfSquares(params, mean)) {
                sumSq = ss.getDouble();
            }
            double constant = params.numel() * (Math.log(sd) + HALF_LOG_2PI);
            double value = scale * (-0.5 * sumSq / (sd * sd) - constant);
            NDArray any = params.anyLeaf();
            return Scalars.like(any, value);
        }
        try (NDArray lp =
                TorchAutograd.withoutGrad(() -> DiagNormal.logProb(params, means, sds, true))) {
            return Scalars.like(lp, scale * Scalars.value(lp));
        }
    }

    /**
     * Adds {@code scale} times the gradient of the log density, {@code -scale (θ - mean) / sd²}, to
     * {@code grad} in place.
     */
    void addScaledGradient(TensorTree params, TensorTree grad, double scale) {
        requireStructure(params);
        if (isIsotropic()) {
            double c = scale / (sd * sd);
            FusedOps.axpy(grad, params, -c, c * mean);
            return;
        }
        TorchAutograd.withoutGrad(
                () -> {
                    Scopes.run(
                            () -> {
                                for (String k : params.names()) {
                                    NDArray s = sds.get(k);
                                    grad.get(k)
                                            .addi(
                                                    params.get(k)
                                                            .sub(means.get(k))
                                                            .divi(s.square())
                                                            .muli(-scale));
                                }
                            });
                    return null;
                });
    }

    /**
     * Returns {@code scale} times the gradient of the log density as a new tree on the parameters'
     * manager.
     */
    TensorTree scaledGradient(TensorTree params, double scale) {
        TensorTree g = params.map(NDArray::zerosLike);
        addScaledGradient(params, g, scale);
        return g;
    }

    private void requireStructure(TensorTree params) {
        if (!isIsotropic()) {
            params.requireSameStructure(means, "prior mean");
        }
    }

    @Override
    public String toString() {
        return isIsotropic()
                ? "GaussianPrior.isotropic(" + mean + ", " + sd + ")"
                : "GaussianPrior.diagonal(" + means.names() + ")";
    }
}
