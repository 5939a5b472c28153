package io.posteriors.examples.quickstart;

import ai.djl.ndarray.NDArray;
import io.posteriors.SamplePosterior;
import io.posteriors.State;
import io.posteriors.TensorTree;
import io.posteriors.Trace;
import io.posteriors.TraceResult;
import io.posteriors.Transform;
import io.posteriors.examples.common.Progress;
import io.posteriors.sgmcmc.Baoa;
import io.posteriors.sgmcmc.BaoaState;
import io.posteriors.sgmcmc.Sghmc;
import io.posteriors.sgmcmc.SghmcState;
import io.posteriors.sgmcmc.Sgld;
import io.posteriors.sgmcmc.SgldState;
import io.posteriors.sgmcmc.Sgnht;
import io.posteriors.sgmcmc.SgnhtState;
import java.io.PrintStream;
import java.util.List;
import java.util.function.Function;

/**
 * The quick-start entries of posteriors-sgmcmc: each sampler runs from the initial parameters over
 * the batches at temperature 1/N (the posterior, with the problem's averaged log posterior), drops
 * the first quarter of the updates as burn-in, keeps two samples per epoch, and evaluates the
 * predictive that averages the softmax over the kept samples. The {@link Trace} collector does the
 * bookkeeping and reports the effective sample size and split R-hat of the log posterior.
 *
 * <p>The momentum samplers use the settings that make them SGD with learning rate 0.05 and momentum
 * 0.9 at temperature 0 (the {@code sgd} entry): SGHMC and SGNHT with σ = 1, ε = sqrt(0.05) and α =
 * 0.1 / ε; BAOA with ε² (1 + e^(−αε)) / 2 = 0.05 and e^(−αε) = 0.9.
 */
final class SgmcmcMethods {

    private SgmcmcMethods() {}

    /** SGHMC/SGNHT step: ε² σ⁻² = 0.05 with σ = 1. */
    private static final double EPS = Math.sqrt(0.05);

    /** Friction: ε α σ⁻² = 1 − 0.9. */
    private static final double ALPHA = 0.1 / EPS;

    /** BAOA step: ε² (1 + 0.9) / 2 = 0.05. */
    private static final double BAOA_EPS = Math.sqrt(0.1 / 1.9);

    /** BAOA friction: exp(−α ε) = 0.9. */
    private static final double BAOA_ALPHA = -Math.log(0.9) / BAOA_EPS;

    static List<QuickStartMethod> all() {
        return List.of(
                method(
                        "sgld",
                        "SGLD (lr 0.3) at T = 1/N, predictive averaged over kept samples",
                        p ->
                                Sgld.builder(p.logPosterior(), 0.3)
                                        .temperature(p.temperature())
                                        .build(),
                        SgldState::logPosterior),
                method(
                        "sghmc",
                        "SGHMC (SGD-momentum-like settings) at T = 1/N, averaged predictive",
                        p ->
                                Sghmc.builder(p.logPosterior(), EPS)
                                        .alpha(ALPHA)
                                        .temperature(p.temperature())
                                        .momenta(0.0)
                                        .build(),
                        SghmcState::logPosterior),
                method(
                        "sgnht",
                        "SGNHT (SGD-momentum-like settings) at T = 1/N, averaged predictive",
                        p ->
                                Sgnht.builder(p.logPosterior(), EPS)
                                        .alpha(ALPHA)
                                        .temperature(p.temperature())
                                        .momenta(0.0)
                                        .build(),
                        SgnhtState::logPosterior),
                method(
                        "baoa",
                        "BAOA (SGD-momentum-like settings) at T = 1/N, averaged predictive",
                        p ->
                                Baoa.builder(p.logPosterior(), BAOA_EPS)
                                        .alpha(BAOA_ALPHA)
                                        .temperature(p.temperature())
                                        .momenta(0.0)
                                        .build(),
                        BaoaState::logPosterior));
    }

    private static <S extends State> QuickStartMethod method(
            String name,
            String description,
            Function<Problem, Transform<S, Batch>> sampler,
            Function<S, NDArray> logPosterior) {
        return new QuickStartMethod() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public String description() {
                return description;
            }

            @Override
            public List<Row> fit(Problem problem, int epochs, TensorTree map, PrintStream out) {
                SamplePosterior kept =
                        sample(problem, epochs, sampler.apply(problem), logPosterior, out);
                return List.of(Row.monteCarlo(name, problem, kept, null));
            }
        };
    }

    private static <S extends State> SamplePosterior sample(
            Problem problem,
            int epochs,
            Transform<S, Batch> sampler,
            Function<S, NDArray> logPosterior,
            PrintStream out) {
        int perEpoch = problem.batches().size();
        long steps = (long) Math.max(epochs, 2) * perEpoch;
        long burnIn = steps / 4;
        long thin = perEpoch / 2;
        Trace<S, Batch> trace =
                Trace.builder(sampler, steps)
                        .burnIn(burnIn)
                        .thin(thin)
                        .scalar("logPosterior", logPosterior)
                        .listener(Progress.trace(out, "sampling"))
                        .build();
        out.printf(
                "%d updates (%d epochs), burn-in %d, keeping every %d-th state%n",
                steps, steps / perEpoch, burnIn, thin);
        try (TraceResult<S> r = trace.run(problem.initialParams(), problem.batches())) {
            double[] lp = r.scalar("logPosterior")[0];
            int quarter = Math.max(1, lp.length / 4);
            out.printf(
                    "kept %d samples; log posterior per sample: first kept %.4f, last %.4f%n",
                    r.keptPerChain(),
                    mean(lp, 0, quarter),
                    mean(lp, lp.length - quarter, lp.length));
            if (lp.length >= 4) {
                double rhat = r.splitRhat("logPosterior");
                out.printf(
                        "log posterior trace: effective sample size %.1f, split R-hat %.3f%s%n",
                        r.ess("logPosterior"),
                        rhat,
                        rhat > 1.1 ? " (still moving towards equilibrium: try more --epochs)" : "");
            }
            SamplePosterior kept = r.posterior();
            out.printf("predictive averaged over the %d kept samples%n", kept.size());
            return kept;
        }
    }

    private static double mean(double[] x, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += x[i];
        }
        return s / (to - from);
    }
}
