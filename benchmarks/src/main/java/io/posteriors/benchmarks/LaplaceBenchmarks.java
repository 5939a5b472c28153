package io.posteriors.benchmarks;

import io.posteriors.laplace.DenseFisher;
import io.posteriors.laplace.DenseGgn;
import io.posteriors.laplace.DenseHessian;
import io.posteriors.laplace.DenseLaplaceState;
import io.posteriors.laplace.DiagFisher;
import io.posteriors.laplace.DiagGgn;
import io.posteriors.laplace.DiagLaplaceState;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/** Laplace updates per batch: W3 (diagonal Fisher), the diagonal GGN, and the dense ones. */
public final class LaplaceBenchmarks {

    private LaplaceBenchmarks() {}

    /**
     * W3: the diagonal empirical Fisher of the log posterior, one batch of 64 per update. The
     * per-sample log posterior (each sample's log likelihood plus the prior over N) is the log
     * posterior of each sample as a batch of one, so this is posteriors' {@code
     * laplace.diag_fisher} with {@code per_sample=False} on the batch-mean log posterior.
     */
    @State(Scope.Benchmark)
    public static class DiagFisherMlp extends StepBench<DiagLaplaceState, Batch> {
        @Override
        protected Workload<DiagLaplaceState, Batch> build() {
            ClassificationProblem p = ClassificationProblem.mlp();
            return new Workload<>(
                    DiagFisher.builder(p.perSampleLogPosterior()).perSample(true).build(),
                    p.initialParams(),
                    p.batches(),
                    p);
        }
    }

    /** The diagonal GGN of the summed log likelihood, one batch of 64 per update. */
    @State(Scope.Benchmark)
    public static class DiagGgnMlp extends StepBench<DiagLaplaceState, Batch> {
        @Override
        protected Workload<DiagLaplaceState, Batch> build() {
            ClassificationProblem p = ClassificationProblem.mlp();
            return new Workload<>(
                    DiagGgn.builder(p.logLikelihood()).build(), p.initialParams(), p.batches(), p);
        }
    }

    /** The dense empirical Fisher (804 x 804) on the small MLP, per batch. */
    @State(Scope.Benchmark)
    public static class DenseFisherSmall extends StepBench<DenseLaplaceState, Batch> {
        @Override
        protected Workload<DenseLaplaceState, Batch> build() {
            ClassificationProblem p = ClassificationProblem.small();
            return new Workload<>(
                    DenseFisher.builder(p.perSampleLogPosterior()).perSample(true).build(),
                    p.initialParams(),
                    p.batches(),
                    p);
        }
    }

    /** The dense GGN (804 x 804) of the summed log likelihood on the small MLP, per batch. */
    @State(Scope.Benchmark)
    public static class DenseGgnSmall extends StepBench<DenseLaplaceState, Batch> {
        @Override
        protected Workload<DenseLaplaceState, Batch> build() {
            ClassificationProblem p = ClassificationProblem.small();
            return new Workload<>(
                    DenseGgn.builder(p.forward(), p.outerLogLikelihood()).build(),
                    p.initialParams(),
                    p.batches(),
                    p);
        }
    }

    /** The dense Hessian (804 x 804) of the log posterior on the small MLP, per batch. */
    @State(Scope.Benchmark)
    public static class DenseHessianSmall extends StepBench<DenseLaplaceState, Batch> {
        @Override
        protected Workload<DenseLaplaceState, Batch> build() {
            ClassificationProblem p = ClassificationProblem.small();
            return new Workload<>(
                    DenseHessian.builder(p.logPosterior()).build(),
                    p.initialParams(),
                    p.batches(),
                    p);
        }
    }
}
