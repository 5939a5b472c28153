package io.posteriors.examples.quickstart;

import io.posteriors.GaussianPosterior;
import io.posteriors.Posterior;
import io.posteriors.SamplePosterior;
import io.posteriors.TensorTree;
import io.posteriors.predictive.Predictive;
import java.util.List;

/**
 * One row of the quick start's table: a method and the predictive it is evaluated with.
 *
 * @param method the method's menu name ({@code map} for the MAP)
 * @param predictive how predictions are made: {@code map}, {@code mc} or {@code linearised}
 * @param temperature the temperature of the posterior the predictive uses (1: the Bayesian one)
 * @param model the predictive
 */
public record Row(String method, String predictive, double temperature, Predictive model) {

    /** Number of posterior samples a Monte Carlo predictive averages. */
    public static final int SAMPLES = 30;

    /**
     * Returns the row of a point estimate: plain prediction with one parameter tree.
     *
     * @param method the method's name
     * @param problem the problem
     * @param params the parameters
     * @return the row
     */
    static Row point(String method, Problem problem, TensorTree params) {
        SamplePosterior one = SamplePosterior.of(List.of(params));
        return new Row(method, "map", 0.0, Predictive.monteCarlo(one, problem.model()).build());
    }

    /**
     * Returns the Monte Carlo row of a posterior at temperature 1.
     *
     * @param method the method's name
     * @param problem the problem
     * @param posterior the posterior over all parameters, or over those {@code fixed} lacks
     * @param fixed every parameter, the posterior's leaves replacing theirs; or null
     * @return the row
     */
    static Row monteCarlo(String method, Problem problem, Posterior posterior, TensorTree fixed) {
        Predictive.Builder b = Predictive.monteCarlo(posterior, problem.model());
        if (!(posterior instanceof SamplePosterior)) {
            b.samples(SAMPLES);
        }
        if (fixed != null) {
            b.fixedParams(fixed);
        }
        return new Row(method, "mc", 1.0, b.build());
    }

    /**
     * Returns the linearised (GLM) row of a Gaussian posterior at temperature 1: with the probit
     * approximation of the mean predictive ({@code linearised}) or the average over {@link
     * #SAMPLES} samples of the linearised outputs ({@code linearised-mc}).
     *
     * @param method the method's name
     * @param problem the problem
     * @param posterior the Gaussian posterior
     * @param fixed every parameter, the posterior's leaves replacing theirs; or null
     * @param probit whether the mean predictive is the probit approximation
     * @return the row
     */
    static Row linearised(
            String method,
            Problem problem,
            GaussianPosterior posterior,
            TensorTree fixed,
            boolean probit) {
        Predictive.Builder b =
                Predictive.linearised(posterior, problem.model()).samples(SAMPLES).probit(probit);
        if (fixed != null) {
            b.fixedParams(fixed);
        }
        return new Row(method, probit ? "linearised" : "linearised-mc", 1.0, b.build());
    }
}
