package io.posteriors.benchmarks;

import io.posteriors.optim.Adam;
import io.posteriors.vi.DenseVi;
import io.posteriors.vi.DenseViState;
import io.posteriors.vi.DiagVi;
import io.posteriors.vi.DiagViState;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/** Variational inference steps: W4 (diagonal) and the dense family on the small MLP. */
public final class ViBenchmarks {

    private ViBenchmarks() {}

    /** W4: one diagonal VI step, 1 sample, Adam lr 1e-3, stl, temperature 1/N, log sds 0. */
    @State(Scope.Benchmark)
    public static class DiagViMlp extends StepBench<DiagViState, Batch> {
        @Override
        protected Workload<DiagViState, Batch> build() {
            ClassificationProblem p = ClassificationProblem.mlp();
            return new Workload<>(
                    DiagVi.builder(p.logPosterior(), Adam.of(1e-3))
                            .temperature(p.temperature())
                            .nSamples(1)
                            .stl(true)
                            .initLogSds(0.0)
                            .build(),
                    p.initialParams(),
                    p.batches(),
                    p);
        }
    }

    /** One dense (full-covariance) VI step on the small MLP, same settings as W4. */
    @State(Scope.Benchmark)
    public static class DenseViSmall extends StepBench<DenseViState, Batch> {
        @Override
        protected Workload<DenseViState, Batch> build() {
            ClassificationProblem p = ClassificationProblem.small();
            return new Workload<>(
                    DenseVi.builder(p.logPosterior(), Adam.of(1e-3))
                            .temperature(p.temperature())
                            .nSamples(1)
                            .stl(true)
                            .build(),
                    p.initialParams(),
                    p.batches(),
                    p);
        }
    }
}
