package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.posteriors.internal.Scoped;

/**
 * Diagonal (independent) Normal distributions over parameter trees: log densities and sampling,
 * posteriors' {@code diag_normal_log_prob} and {@code diag_normal_sample}.
 */
public final class DiagNormal {

    private static final double HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

    private DiagNormal() {}

    /**
     * Returns {@code sum log N(x | mean, sd^2)} over every element of the tree.
     *
     * @param x the point
     * @param mean the means, same structure as {@code x}
     * @param sd the standard deviations, same structure, positive
     * @param normalize whether to include the normalising constant {@code -log sd - log(2 pi)/2};
     *     without it the result is {@code -sum (x - mean)^2 / (2 sd^2)}
     * @return a scalar on {@code x}'s manager
     * @throws IllegalArgumentException when the structures differ
     */
    public static NDArray logProb(TensorTree x, TensorTree mean, TensorTree sd, boolean normalize) {
        Checks.notNull(x, "x");
        x.requireSameStructure(mean, "mean");
        x.requireSameStructure(sd, "sd");
        return Scoped.one(
                () -> {
                    NDArray total = null;
                    for (String k : x.names()) {
                        NDArray s = sd.get(k);
                        NDArray z = x.get(k).sub(mean.get(k)).div(s);
                        NDArray term = z.square().sum().mul(Scalars.like(z, -0.5));
                        if (normalize) {
                            NDArray constant = Scalars.like(s, HALF_LOG_2PI * s.size());
                            term = term.sub(s.log().sum()).sub(constant);
                        }
                        total = total == null ? term : total.add(term);
                    }
                    return total;
                });
    }

    /**
     * Returns {@code sum log N(x | mean, sd^2)} with one mean and one standard deviation for every
     * element, the usual isotropic prior.
     *
     * @param x the point
     * @param mean the common mean
     * @param sd the common standard deviation; positive
     * @param normalize whether to include the normalising constant
     * @return a scalar on {@code x}'s manager
     * @throws IllegalArgumentException when {@code sd} is not positive or {@code mean} not finite
     */
    public static NDArray logProb(TensorTree x, double mean, double sd, boolean normalize) {
        Checks.notNull(x, "x");
        Checks.finite(mean, "mean");
        Checks.positive(sd, "sd");
        return Scoped.one(
                () -> {
                    NDArray total = null;
                    for (NDArray a : x.leaves()) {
                        NDArray centred = mean == 0 ? a : a.sub(mean);
                        NDArray term = centred.square().sum();
                        total = total == null ? term : total.add(term);
                    }
                    total = total.mul(Scalars.like(total, -0.5 / (sd * sd)));
                    if (normalize) {
                        double constant = x.numel() * (Math.log(sd) + HALF_LOG_2PI);
                        total = total.sub(Scalars.like(total, constant));
                    }
                    return total;
                });
    }

    /**
     * Draws one sample {@code mean + sd * z}, z standard Normal, from the engine's generator.
     *
     * @param mean the means
     * @param sd the standard deviations, same structure
     * @return a new tree on the means' managers
     */
    public static TensorTree sample(TensorTree mean, TensorTree sd) {
        Checks.notNull(mean, "mean");
        mean.requireSameStructure(sd, "sd");
        return mean.zip(
                sd,
                (m, s) ->
                        m.getManager()
                                .randomNormal(0, 1, m.getShape(), m.getDataType(), m.getDevice())
                                .muli(s)
                                .addi(m));
    }

    /**
     * Draws {@code n} samples, stacked along a new leading dimension.
     *
     * @param mean the means
     * @param sd the standard deviations, same structure
     * @param n the number of samples; at least 1
     * @return a tree whose leaves have shape {@code (n, *leaf shape)}
     */
    public static TensorTree sample(TensorTree mean, TensorTree sd, int n) {
        Checks.notNull(mean, "mean");
        mean.requireSameStructure(sd, "sd");
        Checks.atLeast(n, 1, "n");
        return mean.zip(
                sd,
                (m, s) -> {
                    Shape shape = new Shape(n).addAll(m.getShape());
                    NDArray z =
                            m.getManager()
                                    .randomNormal(0, 1, shape, m.getDataType(), m.getDevice());
                    return z.muli(s).addi(m);
                });
    }
}
