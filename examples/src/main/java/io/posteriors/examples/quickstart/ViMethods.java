package io.posteriors.examples.quickstart;

import ai.djl.ndarray.NDArray;
import io.posteriors.GaussianPosterior;
import io.posteriors.LogProbFn;
import io.posteriors.Scalars;
import io.posteriors.State;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.optim.Adam;
import io.posteriors.vi.DenseVi;
import io.posteriors.vi.DenseViState;
import io.posteriors.vi.DiagVi;
import io.posteriors.vi.DiagViState;
import java.io.PrintStream;
import java.util.List;
import java.util.function.Function;

/**
 * The quick-start entries of posteriors-vi: fit a Gaussian q to the tempered posterior (the
 * problem's log posterior, mean log likelihood plus prior over N, at temperature 1/N, so q targets
 * the Bayesian posterior) by Adam on the NELBO, then compare the predictions of q's mean with the
 * predictive that averages the softmax over {@value Row#SAMPLES} draws from q.
 *
 * <p>{@code vi-diag} is mean-field VI over all 1251 parameters from the initial parameters. {@code
 * vi-dense} keeps a full covariance over the last layer only, the rest at a MAP (a full-network
 * factor is too heavy and unstable under Adam, see the comment on the dense entry).
 */
final class ViMethods {

    /** Adam's learning rate for mean-field VI (and for the MAP that dense VI starts from). */
    private static final double LR = 1e-2;

    /**
     * Adam's learning rate for dense VI. Adam moves every entry of the flat factor by about lr per
     * step whatever the size of its gradient, so the 4851 off-diagonal entries pick up noise of
     * size lr each; at lr 1e-2 against a factor of scale 0.05 that noise makes L nearly singular
     * and the NELBO diverged within the first epoch.
     */
    private static final double DENSE_LR = 1e-3;

    /**
     * The initial standard deviation of q. posteriors' default (log sd 0, sd 1, the prior's) makes
     * every early draw a random network, and Adam moves a log sd by about lr per step, so shrinking
     * sd 1 to the posterior's scale (~0.05 here) would take ~300 of the 480 steps of 20 epochs.
     */
    private static final double INIT_SD = 0.05;

    private ViMethods() {}

    static List<QuickStartMethod> all() {
        return List.of(
                method(
                        "vi-diag",
                        "mean-field Gaussian VI by Adam on the NELBO (all parameters)",
                        ViMethods::diag),
                method(
                        "vi-dense",
                        "MAP by Adam, then full-covariance Gaussian VI (last layer)",
                        ViMethods::dense));
    }

    /** Fits q and returns draws from it (full parameter trees). */
    private interface Fit {
        Fitted fit(Problem problem, int epochs, TensorTree map, PrintStream out);
    }

    /** q's mean and draws from q, both as full parameter trees. */
    private record Fitted(GaussianPosterior q, TensorTree fixed) {}

    private static QuickStartMethod method(String name, String description, Fit fit) {
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
                Fitted q = fit.fit(problem, epochs, map, out);
                return List.of(Row.monteCarlo(name, problem, q.q(), q.fixed()));
            }
        };
    }

    private static Fitted diag(Problem problem, int epochs, TensorTree map, PrintStream out) {
        Transform<DiagViState, Batch> t =
                DiagVi.builder(problem.logPosterior(), Adam.of(LR))
                        .temperature(problem.temperature())
                        .initLogSds(Math.log(INIT_SD))
                        .build();
        DiagViState state =
                train(t, t.init(problem.initialParams()), DiagViState::nelbo, problem, epochs, out);
        try (TensorTree sd = state.sdDiag();
                NDArray flat = sd.ravel();
                NDArray min = flat.min();
                NDArray max = flat.max()) {
            out.printf(
                    "q's sd per parameter: from %.4f to %.4f%n",
                    Scalars.value(min), Scalars.value(max));
        }
        return new Fitted(state, null);
    }

    /**
     * Dense VI on the last Linear layer (99 parameters, a 99 x 99 factor of 4950 entries), the
     * other layers fixed at a MAP from Adam. Over all 1251 parameters the flat factor has 782,376
     * entries, and since Adam moves every entry by about lr, the off-diagonal noise (of norm ~lr
     * sqrt(d) per row, far above the diagonal) makes L nearly singular, and the STL gradient goes
     * through L^-1: on a standard Normal target of that dimension it diverged within 50 steps even
     * at lr 1e-3, at ~0.25 s a step on a shared two-core machine. The last-layer split is the usual
     * way to keep a full covariance affordable and well estimated.
     */
    private static Fitted dense(Problem problem, int epochs, TensorTree map, PrintStream out) {
        List<String> names = map.names();
        String last = names.get(names.size() - 1);
        String prefix = last.substring(0, last.lastIndexOf('_') + 1);
        TensorTree head = map.subset(n -> n.startsWith(prefix));
        out.printf(
                "dense VI on the last layer only: %s (%d of %d parameters, a factor of %d"
                        + " entries), the rest fixed at the MAP%n",
                head.names(), head.numel(), map.numel(), head.numel() * (head.numel() + 1) / 2);
        LogProbFn<Batch> logPost = problem.logPosterior();
        LogProbFn<Batch> headLogPost = (h, b) -> logPost.apply(map.merge(h), b);
        Transform<DenseViState, Batch> t =
                DenseVi.builder(headLogPost, Adam.of(DENSE_LR))
                        .temperature(problem.temperature())
                        .initL(INIT_SD)
                        .build();
        DenseViState state = train(t, t.init(head), DenseViState::nelbo, problem, epochs, out);
        try (NDArray cov = state.covariance();
                NDArray diag = cov.diagonal();
                NDArray min = diag.min();
                NDArray max = diag.max()) {
            out.printf(
                    "q's sd per parameter: from %.4f to %.4f%n",
                    Math.sqrt(Scalars.value(min)), Math.sqrt(Scalars.value(max)));
        }
        return new Fitted(state, map);
    }

    /** Runs the epochs in place, printing the mean NELBO of each. */
    private static <S extends State> S train(
            Transform<S, Batch> t,
            S state,
            Function<S, NDArray> nelbo,
            Problem problem,
            int epochs,
            PrintStream out) {
        long start = System.nanoTime();
        for (int epoch = 1; epoch <= epochs; epoch++) {
            double sum = 0;
            for (Batch b : problem.batches()) {
                var step = t.updateInPlace(state, b);
                step.aux().close();
                state = step.state();
                sum += Scalars.value(nelbo.apply(state));
            }
            out.printf(
                    "epoch %3d  NELBO per sample %.4f  (%.1f s)%n",
                    epoch, sum / problem.batches().size(), (System.nanoTime() - start) / 1e9);
        }
        return state;
    }

    /** Splits stacked draws into trees; merges each into {@code base} when it is a subset. */
}
