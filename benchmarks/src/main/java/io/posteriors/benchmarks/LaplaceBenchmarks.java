package io.posteriors.benchmarks;

import io.posteriors.laplace.DenseFisher;
import io.posteriors.laplace.DenseGgn;
import io.posteriors.laplace.DenseHessian;
import io.posteriors.laplace.DenseLaplaceState;
import io.posteriors.laplace.DiagFisher;
import io.posteriors.laplace.DiagGgn;
import io.posteriors.laplace.DiagLaplaceState;
import io.posteriors.laplace.Evidence;
import io.posteriors.laplace.KfacFisher;
import io.posteriors.laplace.KfacGgn;
import io.posteriors.laplace.KfacLaplaceState;
import io.posteriors.laplace.PriorPrecision;
import java.util.List;
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

    /**
     * K-FAC GGN of the summed log likelihood on the MLP, one batch of 64 per update: one probed
     * forward pass and C reverse passes (as the fast diagonal GGN) plus the factors' outer
     * products.
     */
    @State(Scope.Benchmark)
    public static class KfacGgnMlp extends StepBench<KfacLaplaceState, Batch> {
        @Override
        protected Workload<KfacLaplaceState, Batch> build() {
            ClassificationProblem p = ClassificationProblem.mlp();
            return new Workload<>(
                    KfacGgn.builder(p.logLikelihood()).priorPrecision(1.0).build(),
                    p.initialParams(),
                    p.batches(),
                    p);
        }
    }

    /** K-FAC empirical Fisher on the MLP, one batch of 64 per update (one reverse pass). */
    @State(Scope.Benchmark)
    public static class KfacFisherMlp extends StepBench<KfacLaplaceState, Batch> {
        @Override
        protected Workload<KfacLaplaceState, Batch> build() {
            ClassificationProblem p = ClassificationProblem.mlp();
            return new Workload<>(
                    KfacFisher.builder(p.logLikelihood()).priorPrecision(1.0).build(),
                    p.initialParams(),
                    p.batches(),
                    p);
        }
    }

    /**
     * The evidence optimisation on the MLP: a K-FAC GGN state fitted on every batch (untimed), then
     * one call tunes a per-layer prior precision by the Laplace evidence (eigendecompositions of
     * the factors and one root finder per layer) and closes the new state.
     */
    @State(Scope.Benchmark)
    public static class EvidenceTuneMlp extends CallBench<Batch> {
        private ClassificationProblem problem;
        private KfacLaplaceState state;

        @Override
        protected List<Batch> prepare() {
            problem = ClassificationProblem.mlp();
            KfacGgn<Batch> t = KfacGgn.builder(problem.logLikelihood()).priorPrecision(1.0).build();
            state = t.init(problem.initialParams());
            for (Batch b : problem.batches()) {
                state = t.updateInPlace(state, b).state();
            }
            return problem.batches().subList(0, 1);
        }

        @Override
        protected void invoke(Batch batch) {
            Evidence.tunePrior(state, PriorPrecision.Kind.PER_LEAF).state().close();
        }

        @Override
        protected void release() {
            state.close();
            problem.close();
        }
    }
}
