package io.posteriors.examples.quickstart;

import io.posteriors.Scalars;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.optim.Adam;
import io.posteriors.optim.GradientOptimizer;
import io.posteriors.optim.Optimize;
import io.posteriors.optim.OptimizeState;
import io.posteriors.optim.Sgd;
import java.io.PrintStream;
import java.util.List;
import java.util.function.Supplier;

/** The optimisation end of the menu: MAP training with SGD (momentum) or Adam. */
final class OptimMethods {

    private OptimMethods() {}

    static List<QuickStartMethod> all() {
        return List.of(
                method(
                        "sgd",
                        "MAP by SGD with momentum 0.9 (lr 0.05)",
                        () -> Sgd.of(0.05).momentum(0.9)),
                method("adam", "MAP by Adam (lr 0.01)", () -> Adam.of(0.01)));
    }

    private static QuickStartMethod method(
            String name, String description, Supplier<GradientOptimizer> optimizer) {
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
                TensorTree params = train(problem, epochs, optimizer.get(), out);
                return List.of(Row.point(name, problem, params));
            }
        };
    }

    /**
     * Trains to the MAP with an optimiser, printing the loss each epoch; other methods that start
     * from the MAP (Laplace) call this first.
     *
     * @param problem the problem
     * @param epochs passes over the data
     * @param optimizer the optimiser
     * @param out where to print
     * @return the MAP parameters
     */
    static TensorTree train(
            Problem problem, int epochs, GradientOptimizer optimizer, PrintStream out) {
        Transform<OptimizeState, Batch> t =
                Optimize.builder(problem.logPosterior(), optimizer).build();
        OptimizeState state = t.init(problem.initialParams());
        for (int epoch = 1; epoch <= epochs; epoch++) {
            double sum = 0;
            for (Batch b : problem.batches()) {
                var step = t.updateInPlace(state, b);
                step.aux().close();
                state = step.state();
                sum += Scalars.value(state.logPosterior());
            }
            out.printf(
                    "epoch %3d  loss (-log posterior per sample) %.4f%n",
                    epoch, -sum / problem.batches().size());
        }
        return state.params();
    }

    /**
     * Returns plain prediction with one parameter tree, the predictive of the {@code map} row.
     *
     * @param problem the problem
     * @param map the parameters
     * @return the predictive
     */
    static io.posteriors.predictive.Predictive pointPredictive(Problem problem, TensorTree map) {
        return Row.point("map", problem, map).model();
    }
}
