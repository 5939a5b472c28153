package io.posteriors.benchmarks;

import io.posteriors.Transform;
import io.posteriors.sgmcmc.Baoa;
import io.posteriors.sgmcmc.BaoaState;
import io.posteriors.sgmcmc.Sghmc;
import io.posteriors.sgmcmc.SghmcState;
import io.posteriors.sgmcmc.Sgld;
import io.posteriors.sgmcmc.SgldState;
import io.posteriors.sgmcmc.Sgnht;
import io.posteriors.sgmcmc.SgnhtState;
import java.util.List;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/** Stochastic-gradient MCMC steps: W1 (SGHMC on the MLP), SGLD, SGNHT, BAOA, and W6. */
public final class SgmcmcBenchmarks {

    private SgmcmcBenchmarks() {}

    /**
     * W1's transform: SGHMC with lr 1e-2, alpha 0.01, beta 0, sigma 1, temperature 1/N, momenta 0.
     *
     * @param p the MLP problem
     * @return the transform
     */
    public static Transform<SghmcState, Batch> sghmcMlp(ClassificationProblem p) {
        return Sghmc.builder(p.logPosterior(), 1e-2)
                .alpha(0.01)
                .beta(0.0)
                .sigma(1.0)
                .temperature(p.temperature())
                .momenta(0.0)
                .build();
    }

    /**
     * W6's transform: SGHMC with posteriors' test settings, lr 0.1, alpha 10, sigma sqrt(10), beta
     * 0, temperature 1, momenta 0.
     *
     * @param g the Gaussian problem
     * @return the transform
     */
    public static Transform<SghmcState, Object> sghmcGauss(GaussProblem g) {
        return Sghmc.builder(g.logProb(), 0.1)
                .alpha(10.0)
                .beta(0.0)
                .sigma(Math.sqrt(10.0))
                .temperature(1.0)
                .momenta(0.0)
                .build();
    }

    /** W1: one SGHMC step on the MLP. */
    @State(Scope.Benchmark)
    public static class SghmcMlp extends StepBench<SghmcState, Batch> {
        @Override
        protected Workload<SghmcState, Batch> build() {
            ClassificationProblem p = ClassificationProblem.mlp();
            return new Workload<>(sghmcMlp(p), p.initialParams(), p.batches(), p);
        }
    }

    /** One SGLD step on the MLP: lr 1e-2, beta 0, temperature 1/N. */
    @State(Scope.Benchmark)
    public static class SgldMlp extends StepBench<SgldState, Batch> {
        @Override
        protected Workload<SgldState, Batch> build() {
            ClassificationProblem p = ClassificationProblem.mlp();
            return new Workload<>(
                    Sgld.builder(p.logPosterior(), 1e-2)
                            .beta(0.0)
                            .temperature(p.temperature())
                            .build(),
                    p.initialParams(),
                    p.batches(),
                    p);
        }
    }

    /**
     * One SGNHT step on the MLP: lr 1e-2, alpha 0.01, beta 0, sigma 1, temperature 1/N, momenta 0.
     */
    @State(Scope.Benchmark)
    public static class SgnhtMlp extends StepBench<SgnhtState, Batch> {
        @Override
        protected Workload<SgnhtState, Batch> build() {
            ClassificationProblem p = ClassificationProblem.mlp();
            return new Workload<>(
                    Sgnht.builder(p.logPosterior(), 1e-2)
                            .alpha(0.01)
                            .beta(0.0)
                            .sigma(1.0)
                            .temperature(p.temperature())
                            .momenta(0.0)
                            .build(),
                    p.initialParams(),
                    p.batches(),
                    p);
        }
    }

    /** One BAOA step on the MLP: lr 1e-2, alpha 0.01, sigma 1, temperature 1/N, momenta 0. */
    @State(Scope.Benchmark)
    public static class BaoaMlp extends StepBench<BaoaState, Batch> {
        @Override
        protected Workload<BaoaState, Batch> build() {
            ClassificationProblem p = ClassificationProblem.mlp();
            return new Workload<>(
                    Baoa.builder(p.logPosterior(), 1e-2)
                            .alpha(0.01)
                            .sigma(1.0)
                            .temperature(p.temperature())
                            .momenta(0.0)
                            .build(),
                    p.initialParams(),
                    p.batches(),
                    p);
        }
    }

    /** W6: one SGHMC step on the 2-D Gaussian (per-step overhead). */
    @State(Scope.Benchmark)
    public static class SghmcGauss2d extends StepBench<SghmcState, Object> {
        @Override
        protected Workload<SghmcState, Object> build() {
            GaussProblem g = new GaussProblem();
            return new Workload<>(
                    sghmcGauss(g), g.initialParams(), List.of(GaussProblem.NO_BATCH), g);
        }
    }
}
