package io.posteriors.benchmarks;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import io.posteriors.Autodiff;
import io.posteriors.Curvature;
import io.posteriors.LogProbFn;
import io.posteriors.TensorTree;
import io.posteriors.optim.Optimize;
import io.posteriors.optim.OptimizeState;
import io.posteriors.optim.Sgd;
import java.util.List;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** The baselines and the core-only workloads: SGD, gradients, HVPs and linearised forwards. */
public final class CoreBenchmarks {

    private CoreBenchmarks() {}

    /** W2: the plain DJL SGD step on the MLP 784-256-256-10, batch 64 (the baseline). */
    @State(Scope.Benchmark)
    public static class SgdMlp extends DjlSgdBench {
        @Override
        protected ClassificationProblem problem() {
            return ClassificationProblem.mlp();
        }
    }

    /** The plain DJL SGD step on the small MLP 20-32-4 (the baseline of the dense methods). */
    @State(Scope.Benchmark)
    public static class SgdSmall extends DjlSgdBench {
        @Override
        protected ClassificationProblem problem() {
            return ClassificationProblem.small();
        }
    }

    /**
     * The plain DJL gradient step on the 2-D Gaussian (the baseline of W6): a gradient collector,
     * the log density, backward, and {@code x += lr * grad} with plain ops (lr 0.1).
     */
    @State(Scope.Benchmark)
    public static class SgdGauss2d extends Monitored {
        private GaussProblem problem;
        private NDArray x;

        /** Builds the problem and a parameter array that collects gradients. */
        @Setup(Level.Trial)
        public void setUpTrial() {
            problem = new GaussProblem();
            x = problem.initialParams().get("x").duplicate();
            x.setRequiresGradient(true);
        }

        /** Takes one gradient-ascent step on the log density. */
        @Benchmark
        public void step() {
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    collector.backward(problem.logProb(x));
                }
                NDArray g = x.getGradient();
                x.addi(g.mul(0.1f));
                g.subi(g);
            }
        }

        @Override
        protected void release() {
            problem.close();
        }
    }

    /**
     * The posteriors equivalent of W2: {@code Optimize} with {@code Sgd} (lr 1e-2) on the mean log
     * likelihood (no prior, as W2): a sanity ratio that should be close to 1.
     */
    @State(Scope.Benchmark)
    public static class OptimizeSgdMlp extends StepBench<OptimizeState, Batch> {
        @Override
        protected Workload<OptimizeState, Batch> build() {
            ClassificationProblem p = ClassificationProblem.mlp();
            return new Workload<>(
                    Optimize.builder(p.logLikelihood(), Sgd.of(1e-2)).build(),
                    p.initialParams(),
                    p.batches(),
                    p);
        }
    }

    /**
     * {@code Optimize} with {@code Sgd} on the full log posterior (with the N(0, 1) prior over N):
     * what the prior costs, the part of W1 that is not SGHMC.
     */
    @State(Scope.Benchmark)
    public static class OptimizeSgdLogPostMlp extends StepBench<OptimizeState, Batch> {
        @Override
        protected Workload<OptimizeState, Batch> build() {
            ClassificationProblem p = ClassificationProblem.mlp();
            return new Workload<>(
                    Optimize.builder(p.logPosterior(), Sgd.of(1e-2)).build(),
                    p.initialParams(),
                    p.batches(),
                    p);
        }
    }

    /** Base of the MLP calls: the problem and its parameters. */
    @State(Scope.Benchmark)
    public abstract static class MlpCall extends CallBench<Batch> {
        /** The problem. */
        protected ClassificationProblem problem;

        /** The parameters at which the calls are made. */
        protected TensorTree params;

        /** The log posterior. */
        protected LogProbFn<Batch> logPosterior;

        @Override
        protected List<Batch> prepare() {
            problem = ClassificationProblem.mlp();
            params = problem.initialParams();
            logPosterior = problem.logPosterior();
            return problem.batches();
        }

        @Override
        protected void release() {
            problem.close();
        }
    }

    /** The gradient (with value and aux) of the log posterior on the MLP: the HVP's reference. */
    @State(Scope.Benchmark)
    public static class GradMlp extends MlpCall {
        @Override
        protected void invoke(Batch batch) {
            Autodiff.valueAndGrad(logPosterior, params, batch).close();
        }
    }

    /** The same gradient with the prior given as a function that autograd differentiates. */
    @State(Scope.Benchmark)
    public static class GradMlpAutogradPrior extends MlpCall {
        @Override
        protected List<Batch> prepare() {
            List<Batch> batches = super.prepare();
            logPosterior = problem.logPosteriorAutogradPrior();
            return batches;
        }

        @Override
        protected void invoke(Batch batch) {
            Autodiff.valueAndGrad(logPosterior, params, batch).close();
        }
    }

    /** A Hessian-vector product of the log posterior on the MLP (a fixed random direction). */
    @State(Scope.Benchmark)
    public static class HvpMlp extends MlpCall {
        private TensorTree v;

        @Override
        protected List<Batch> prepare() {
            List<Batch> batches = super.prepare();
            v = params.map(a -> a.getManager().randomNormal(a.getShape()));
            return batches;
        }

        @Override
        protected void invoke(Batch batch) {
            Autodiff.hvp(logPosterior, params, batch, v).close();
        }
    }

    /**
     * The linearised forward pass of the MLP under a diagonal Gaussian (sd 0.01 everywhere): the
     * logits and their 10 x 10 covariance for each of the 64 samples.
     */
    @State(Scope.Benchmark)
    public static class LinearizedForwardDiagMlp extends MlpCall {
        private TensorTree sd;

        @Override
        protected List<Batch> prepare() {
            List<Batch> batches = super.prepare();
            sd = params.fullLike(0.01);
            return batches;
        }

        @Override
        protected void invoke(Batch batch) {
            Curvature.linearizedForwardDiag(problem.logLikelihood(), params, batch, sd).close();
        }
    }
}
