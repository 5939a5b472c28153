package io.posteriors.benchmarks;

import ai.djl.ndarray.NDList;
import io.posteriors.DiagGaussianPosterior;
import io.posteriors.TensorTree;
import io.posteriors.predictive.Predictive;
import java.util.ArrayList;
import java.util.List;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The predictives on the MLP 784-256-256-10 against one forward pass of the same batch of 64
 * inputs: the Monte Carlo predictive over 32 samples of a diagonal Gaussian on every parameter, and
 * the linearised (GLM, probit) predictive of a diagonal Gaussian on the last layer (2,570
 * parameters, the rest fixed), with 32 output samples for the uncertainty split.
 */
public final class PredictiveBenchmarks {

    private PredictiveBenchmarks() {}

    /**
     * A diagonal Gaussian with sd 0.01 around the given mean: the posterior the predictives use.
     */
    record Diag(TensorTree mean, TensorTree var) implements DiagGaussianPosterior {
        @Override
        public TensorTree varianceDiag() {
            return var.copy();
        }
    }

    /** Base: the problem, its parameters and the input batches (labels dropped). */
    @State(Scope.Benchmark)
    public abstract static class InputsCall extends CallBench<NDList> {
        /** The problem. */
        protected ClassificationProblem problem;

        /** The parameters (the posterior mean). */
        protected TensorTree params;

        @Override
        protected List<NDList> prepare() {
            problem = ClassificationProblem.mlp();
            params = problem.initialParams();
            List<NDList> inputs = new ArrayList<>();
            for (Batch b : problem.batches()) {
                inputs.add(new NDList(b.x()));
            }
            return inputs;
        }

        @Override
        protected void release() {
            problem.close();
        }
    }

    /** One forward pass of the batch: the baseline of the predictives. */
    @State(Scope.Benchmark)
    public static class ForwardMlp extends InputsCall {
        @Override
        protected void invoke(NDList inputs) {
            problem.model().forward(params, inputs).close();
        }
    }

    /** The Monte Carlo predictive, 32 samples of a diagonal Gaussian over all parameters. */
    @State(Scope.Benchmark)
    public static class MonteCarloMlp extends InputsCall {
        private Predictive predictive;

        @Override
        protected List<NDList> prepare() {
            List<NDList> inputs = super.prepare();
            Diag post = new Diag(params, params.fullLike(1e-4));
            predictive = Predictive.monteCarlo(post, problem.model()).samples(32).build();
            return inputs;
        }

        @Override
        protected void invoke(NDList inputs) {
            predictive.predict(inputs).close();
        }
    }

    /** The linearised predictive of a diagonal Gaussian over the last layer, probit mean. */
    @State(Scope.Benchmark)
    public static class LinearisedLastLayerMlp extends InputsCall {
        private Predictive predictive;

        @Override
        protected List<NDList> prepare() {
            List<NDList> inputs = super.prepare();
            List<String> names = params.names();
            TensorTree head = params.subset(names.subList(names.size() - 2, names.size()));
            Diag post = new Diag(head, head.fullLike(1e-4));
            predictive =
                    Predictive.linearised(post, problem.model())
                            .fixedParams(params)
                            .samples(32)
                            .build();
            return inputs;
        }

        @Override
        protected void invoke(NDList inputs) {
            predictive.predict(inputs).close();
        }
    }
}
