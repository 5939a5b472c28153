package io.posteriors.benchmarks;

import io.posteriors.ekf.DenseEkf;
import io.posteriors.ekf.DenseEkfState;
import io.posteriors.ekf.DiagEkf;
import io.posteriors.ekf.DiagEkfState;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/** Extended Kalman filter updates per batch: W5 (diagonal) and the dense one on the small MLP. */
public final class EkfBenchmarks {

    private EkfBenchmarks() {}

    /**
     * W5: one diagonal EKF update with the empirical Fisher of the per-sample log likelihood (minus
     * each sample's cross entropy), lr 1e-3, transition sd 0, initial sds 1.
     */
    @State(Scope.Benchmark)
    public static class DiagEkfMlp extends StepBench<DiagEkfState, Batch> {
        @Override
        protected Workload<DiagEkfState, Batch> build() {
            ClassificationProblem p = ClassificationProblem.mlp();
            return new Workload<>(
                    DiagEkf.builder(p.perSampleLogLikelihood(), 1e-3)
                            .perSample(true)
                            .transitionSd(0.0)
                            .initSds(1.0)
                            .build(),
                    p.initialParams(),
                    p.batches(),
                    p);
        }
    }

    /** One dense EKF update (804 x 804 covariance) on the small MLP, same settings as W5. */
    @State(Scope.Benchmark)
    public static class DenseEkfSmall extends StepBench<DenseEkfState, Batch> {
        @Override
        protected Workload<DenseEkfState, Batch> build() {
            ClassificationProblem p = ClassificationProblem.small();
            return new Workload<>(
                    DenseEkf.builder(p.perSampleLogLikelihood(), 1e-3)
                            .perSample(true)
                            .transitionCov(0.0)
                            .initCov(1.0)
                            .build(),
                    p.initialParams(),
                    p.batches(),
                    p);
        }
    }
}
