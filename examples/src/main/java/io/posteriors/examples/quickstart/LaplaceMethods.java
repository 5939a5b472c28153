package io.posteriors.examples.quickstart;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.posteriors.ForwardFn;
import io.posteriors.GaussianPosterior;
import io.posteriors.LogLikelihoods;
import io.posteriors.LogProbFn;
import io.posteriors.ModelLogPosterior;
import io.posteriors.State;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.laplace.DenseFisher;
import io.posteriors.laplace.DenseGgn;
import io.posteriors.laplace.DenseHessian;
import io.posteriors.laplace.DenseLaplaceState;
import io.posteriors.laplace.DiagFisher;
import io.posteriors.laplace.DiagGgn;
import io.posteriors.laplace.DiagLaplaceState;
import io.posteriors.laplace.Evidence;
import io.posteriors.laplace.KfacGgn;
import io.posteriors.laplace.KfacLaplaceState;
import io.posteriors.laplace.PriorPrecision;
import io.posteriors.laplace.Subnetwork;
import java.io.PrintStream;
import java.util.List;

/**
 * The quick-start entries of posteriors-laplace: from the MAP (trained once by Adam), make one
 * Laplace pass over the batches, tune the scalar prior precision by the Laplace evidence, and hand
 * the state to three predictives at temperature 1: Monte Carlo over {@link Row#SAMPLES} weight
 * samples, and the linearised (GLM) predictive with the probit approximation of its mean or the
 * average over samples of the linearised outputs.
 *
 * <p>The precision is built with the sum convention: the per-sample log likelihoods of all N
 * training points are added up and the N(0, 1) prior of {@link Problem#logPosterior()} enters as
 * the initial precision 1, so temperature 1 is the Bayesian posterior. The diagonal variants cover
 * all parameters; the dense ones cover the last Linear layer only (its weight and bias, 99
 * parameters, a 99 x 99 precision) with the other layers fixed at the MAP, the usual last-layer
 * Laplace, since a dense precision over all 1251 parameters costs P^2 memory and, for the Hessian,
 * P reverse passes per batch. The KFAC variant covers the last layer with two Kronecker factors,
 * laplace-torch's default.
 */
final class LaplaceMethods {

    /** The prior precision: the N(0, 1) prior of the problem's log posterior. */
    private static final double PRIOR_PRECISION = 1.0;

    private LaplaceMethods() {}

    static List<QuickStartMethod> all() {
        return List.of(
                method(
                        "laplace-diag-fisher",
                        "MAP by Adam, then diagonal empirical-Fisher Laplace (all parameters)",
                        LaplaceMethods::diagFisher),
                method(
                        "laplace-diag-ggn",
                        "MAP by Adam, then diagonal GGN Laplace (all parameters)",
                        LaplaceMethods::diagGgn),
                method(
                        "laplace-dense-fisher",
                        "MAP by Adam, then dense empirical-Fisher Laplace (last layer)",
                        LaplaceMethods::denseFisher),
                method(
                        "laplace-dense-ggn",
                        "MAP by Adam, then dense GGN Laplace (last layer)",
                        LaplaceMethods::denseGgn),
                method(
                        "laplace-dense-hessian",
                        "MAP by Adam, then dense Hessian Laplace (last layer)",
                        LaplaceMethods::denseHessian),
                method(
                        "laplace-kfac-ggn",
                        "MAP by Adam, then KFAC GGN Laplace (last layer), laplace-torch's default",
                        LaplaceMethods::kfacGgn));
    }

    /**
     * A fitted Laplace approximation: the Gaussian state and, for a last-layer fit, every parameter
     * (the state's leaves replace theirs).
     */
    private record Fitted(GaussianPosterior posterior, TensorTree fixed) {}

    /** Builds the Laplace approximation around the MAP. */
    private interface Fit {
        Fitted fit(Problem problem, TensorTree map, PrintStream out);
    }

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
                Fitted f = fit.fit(problem, map, out);
                return List.of(
                        Row.monteCarlo(name, problem, f.posterior(), f.fixed()),
                        Row.linearised(name, problem, f.posterior(), f.fixed(), true),
                        Row.linearised(name, problem, f.posterior(), f.fixed(), false));
            }
        };
    }

    private static Fitted diagFisher(Problem problem, TensorTree map, PrintStream out) {
        Transform<DiagLaplaceState, Batch> t =
                DiagFisher.builder(structuredLogLikelihood(problem))
                        .initPrecDiag(PRIOR_PRECISION)
                        .build();
        DiagLaplaceState fitted = pass(t, t.init(map), problem, out);
        DiagLaplaceState state = tuned(fitted, out);
        printSpread(state.precDiag(), out);
        return new Fitted(state, null);
    }

    private static Fitted diagGgn(Problem problem, TensorTree map, PrintStream out) {
        Transform<DiagLaplaceState, Batch> t =
                DiagGgn.builder(structuredLogLikelihood(problem))
                        .initPrecDiag(PRIOR_PRECISION)
                        .build();
        DiagLaplaceState fitted = pass(t, t.init(map), problem, out);
        DiagLaplaceState state = tuned(fitted, out);
        printSpread(state.precDiag(), out);
        return new Fitted(state, null);
    }

    /**
     * The problem's log likelihood (no prior: it is the initial precision) as a structured log
     * posterior, so that the diagonal Fisher and GGN take the core's fast path for an MLP: one
     * reverse pass per batch for the Fisher, one per class for the GGN, instead of one per sample
     * or per output.
     */
    private static ModelLogPosterior<Batch> structuredLogLikelihood(Problem problem) {
        return ModelLogPosterior.<Batch>builder(
                        problem.model(),
                        b -> new NDList(b.x()),
                        (logits, b) -> LogLikelihoods.categorical(logits, b.y()))
                .build();
    }

    private static Fitted denseFisher(Problem problem, TensorTree map, PrintStream out) {
        TensorTree head = lastLayer(map, out);
        LogProbFn<Batch> perSample = problem.perSampleLogLikelihood();
        LogProbFn<Batch> headLogLik = (h, b) -> perSample.apply(map.merge(h), b);
        Transform<DenseLaplaceState, Batch> t =
                DenseFisher.builder(headLogLik).perSample(true).initPrec(PRIOR_PRECISION).build();
        DenseLaplaceState state = tuned(pass(t, t.init(head), problem, out), out);
        return new Fitted(state, map);
    }

    private static Fitted denseGgn(Problem problem, TensorTree map, PrintStream out) {
        TensorTree head = lastLayer(map, out);
        ForwardFn<Batch> forward = problem.forward();
        ForwardFn<Batch> headForward = (h, b) -> forward.apply(map.merge(h), b);
        Transform<DenseLaplaceState, Batch> t =
                DenseGgn.builder(headForward, problem.outerLogLikelihood())
                        .initPrec(PRIOR_PRECISION)
                        .build();
        DenseLaplaceState state = tuned(pass(t, t.init(head), problem, out), out);
        return new Fitted(state, map);
    }

    private static Fitted denseHessian(Problem problem, TensorTree map, PrintStream out) {
        TensorTree head = lastLayer(map, out);
        LogProbFn<Batch> meanLogLik = problem.logLikelihood();
        LogProbFn<Batch> headLogLik = (h, b) -> meanLogLik.apply(map.merge(h), b);
        // the log likelihood averages over the batch: rescale by the batch size to sum over it
        Transform<DenseLaplaceState, Batch> t =
                DenseHessian.builder(headLogLik)
                        .rescale(Problem.BATCH)
                        .initPrec(PRIOR_PRECISION)
                        .build();
        DenseLaplaceState state = tuned(pass(t, t.init(head), problem, out), out);
        return new Fitted(state, map);
    }

    private static Fitted kfacGgn(Problem problem, TensorTree map, PrintStream out) {
        Subnetwork<Batch> head = Subnetwork.lastLayer(structuredLogLikelihood(problem), map);
        KfacGgn<Batch> t = KfacGgn.builder(head).priorPrecision(PRIOR_PRECISION).build();
        KfacLaplaceState fitted = pass(t, t.init(head.params()), problem, out);
        Evidence.Tuned<KfacLaplaceState> tuned =
                Evidence.tunePrior(fitted, PriorPrecision.Kind.SCALAR);
        out.printf(
                "prior precision tuned by the Laplace evidence: %s (was %s)%n",
                tuned.prior(), PriorPrecision.of(PRIOR_PRECISION));
        return new Fitted(tuned.state(), map);
    }

    /**
     * Returns the state with its scalar prior precision tuned by the Laplace evidence (the prior it
     * was fitted with is {@link #PRIOR_PRECISION}); the input state is untouched.
     */
    private static DiagLaplaceState tuned(DiagLaplaceState fitted, PrintStream out) {
        Evidence.Tuned<DiagLaplaceState> t =
                Evidence.tunePrior(
                        fitted, PriorPrecision.of(PRIOR_PRECISION), PriorPrecision.Kind.SCALAR);
        out.printf("prior precision tuned by the Laplace evidence: %s (was 1)%n", t.prior());
        return t.state();
    }

    private static DenseLaplaceState tuned(DenseLaplaceState fitted, PrintStream out) {
        Evidence.Tuned<DenseLaplaceState> t =
                Evidence.tunePrior(
                        fitted, PriorPrecision.of(PRIOR_PRECISION), PriorPrecision.Kind.SCALAR);
        out.printf("prior precision tuned by the Laplace evidence: %s (was 1)%n", t.prior());
        return t.state();
    }

    /** Makes one pass over the batches, accumulating the precision in place. */
    private static <S extends State> S pass(
            Transform<S, Batch> t, S state, Problem problem, PrintStream out) {
        long start = System.nanoTime();
        int k = 0;
        for (Batch b : problem.batches()) {
            var step = t.updateInPlace(state, b);
            step.aux().close();
            state = step.state();
            if (++k % 8 == 0 || k == problem.batches().size()) {
                out.printf("Laplace pass: %d/%d batches%n", k, problem.batches().size());
            }
        }
        out.printf(
                "Laplace pass over %d samples took %.2f s%n",
                Problem.N, (System.nanoTime() - start) / 1e9);
        return state;
    }

    /** The last Linear layer of the MLP: the leaves sharing the last leaf's name prefix. */
    private static TensorTree lastLayer(TensorTree map, PrintStream out) {
        List<String> names = map.names();
        String last = names.get(names.size() - 1);
        String prefix = last.substring(0, last.lastIndexOf('_') + 1);
        TensorTree head = map.subset(n -> n.startsWith(prefix));
        out.printf(
                "dense Laplace on the last layer only: %s (%d of %d parameters), the rest fixed"
                        + " at the MAP%n",
                head.names(), head.numel(), map.numel());
        return head;
    }

    /** Prints the range of posterior standard deviations 1 / sqrt(precDiag). */
    private static void printSpread(TensorTree precDiag, PrintStream out) {
        try (NDArray flat = precDiag.ravel();
                NDArray max = flat.max();
                NDArray min = flat.min()) {
            out.printf(
                    "posterior sd per parameter: from %.4f to %.4f%n",
                    1 / Math.sqrt(max.getFloat()), 1 / Math.sqrt(min.getFloat()));
        }
    }
}
