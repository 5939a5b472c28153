package io.posteriors.examples.ood;

import io.posteriors.SamplePosterior;
import io.posteriors.Scalars;
import io.posteriors.State;
import io.posteriors.TensorTree;
import io.posteriors.Trace;
import io.posteriors.TraceResult;
import io.posteriors.Transform;
import io.posteriors.examples.common.Progress;
import io.posteriors.laplace.DiagGgn;
import io.posteriors.laplace.DiagLaplaceState;
import io.posteriors.laplace.Evidence;
import io.posteriors.laplace.KfacGgn;
import io.posteriors.laplace.KfacLaplaceState;
import io.posteriors.laplace.PriorPrecision;
import io.posteriors.laplace.Subnetwork;
import io.posteriors.optim.Adam;
import io.posteriors.optim.Optimize;
import io.posteriors.optim.OptimizeState;
import io.posteriors.predictive.ClassPredictions;
import io.posteriors.predictive.Predictive;
import io.posteriors.sgmcmc.Sghmc;
import io.posteriors.sgmcmc.SghmcState;
import io.posteriors.vi.DiagVi;
import io.posteriors.vi.DiagViState;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;

/**
 * The methods of the OOD and selective-prediction examples, at the Bayesian posterior of the genre
 * MLP (prior N(0, 1/δ) with δ = {@link GenreTask#priorPrecision()}, temperature 1 on the summed
 * likelihood, that is 1/N with the averaged log posterior):
 *
 * <ul>
 *   <li>{@code map}: Adam on the log posterior; plain softmax predictions.
 *   <li>{@code laplace}: diagonal GGN Laplace at the MAP over every parameter, the prior precision
 *       of each leaf tuned by the Laplace evidence ({@link Evidence#tunePrior}), linearised (GLM)
 *       predictive averaged over output samples.
 *   <li>{@code laplace-last-layer}: K-FAC GGN Laplace over the output layer only (the hidden layer
 *       fixed at the MAP), scalar prior precision tuned by the evidence, linearised predictive.
 *   <li>{@code vi}: mean-field Gaussian VI by Adam on the NELBO, started at the MAP; Monte Carlo
 *       predictive over draws of q.
 *   <li>{@code sghmc-serial}: one SGHMC chain from the MAP, samples kept along it.
 *   <li>{@code sghmc-parallel}: independent SGHMC chains from fresh random initialisations, the
 *       last samples of each pooled (a deep-ensemble-like spread of modes).
 * </ul>
 */
public final class TextMethods {

    /** Samples the Gaussian predictives average. */
    public static final int SAMPLES = 32;

    /** The method names, in the order {@link #runAll} returns them. */
    public static final List<String> NAMES =
            List.of("map", "laplace", "laplace-last-layer", "vi", "sghmc-serial", "sghmc-parallel");

    /**
     * The initial standard deviation of VI's q: started at the MAP with a small learning rate, q
     * keeps the MAP's mean and mostly learns its spread (from 0.01 q stays a point mass within the
     * epochs run, and a larger learning rate keeps fitting the mean, which overfits further).
     */
    private static final double VI_INIT_SD = 0.3;

    private TextMethods() {}

    /**
     * How long and how fast each method trains.
     *
     * @param mapEpochs epochs of the MAP
     * @param mapLr Adam's learning rate for the MAP
     * @param viEpochs epochs of VI
     * @param viLr Adam's learning rate for VI
     * @param chainEpochs epochs of each SGHMC chain
     * @param chains chains of the parallel SGHMC run
     * @param sghmcLr SGHMC's step ε² (the SGD-like learning rate at temperature 0) of the parallel
     *     chains; the serial chain, started at the MAP, takes a tenth of it to stay in its mode
     */
    public record Settings(
            int mapEpochs,
            double mapLr,
            int viEpochs,
            double viLr,
            int chainEpochs,
            int chains,
            double sghmcLr) {}

    /** The small size's settings. */
    public static final Settings SMALL = new Settings(10, 1e-2, 6, 1e-3, 6, 4, 0.1);

    /** The full size's settings. */
    public static final Settings FULL = new Settings(10, 1e-2, 6, 1e-3, 6, 6, 0.1);

    /**
     * A fitted method: its name and predictive.
     *
     * @param name the method's name
     * @param predictive the predictive
     * @param seconds the time taken to fit it
     */
    public record Fitted(String name, Predictive predictive, double seconds) {}

    /**
     * The predictions of one method on the English test set and on the Spanish set.
     *
     * @param name the method
     * @param english on English test passages
     * @param spanish on Spanish passages
     * @param seconds the time taken to fit
     */
    public record Predictions(
            String name, ClassPredictions english, ClassPredictions spanish, double seconds) {}

    /**
     * The test labels and every method's predictions on one genre task.
     *
     * @param labels the English test labels
     * @param predictions the predictions by method name, MAP first
     */
    public record TaskResults(int[] labels, Map<String, Predictions> predictions) {}

    /**
     * Builds the genre task the options ask for (size, seed, data folder), runs every method on it
     * and closes it: what the OOD and selective-prediction examples share.
     *
     * @param o the example's options
     * @param out where progress is printed
     * @return the labels and predictions
     * @throws java.io.IOException when the data cannot be read
     */
    public static TaskResults runTask(io.posteriors.examples.text.ExampleOptions o, PrintStream out)
            throws java.io.IOException {
        try (GenreTask task =
                new GenreTask(
                        o.data(), o.full() ? GenreTask.FULL : GenreTask.SMALL, o.seed(), out)) {
            return new TaskResults(task.testLabels(), runAll(task, o.full() ? FULL : SMALL, out));
        }
    }

    /**
     * Fits every method and predicts with each on both sets.
     *
     * @param task the task
     * @param s the settings
     * @param out where to print
     * @return the predictions, in the order of {@link #NAMES}
     */
    public static Map<String, Predictions> runAll(GenreTask task, Settings s, PrintStream out) {
        return run(task, s, NAMES, out);
    }

    /**
     * Fits some methods and predicts with each on both sets.
     *
     * @param task the task
     * @param s the settings
     * @param names the methods, a subset of {@link #NAMES} ({@code map} is always fitted first,
     *     since the others start from it)
     * @param out where to print
     * @return the predictions, in the order of {@code names}
     */
    public static Map<String, Predictions> run(
            GenreTask task, Settings s, List<String> names, PrintStream out) {
        Map<String, Predictions> all = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        TensorTree map = trainMap(task, task.freshParams(), s.mapEpochs(), s.mapLr(), out, "map");
        double mapSecs = secs(t0);
        for (String name : names) {
            Fitted f =
                    switch (name) {
                        case "map" ->
                                new Fitted(
                                        "map",
                                        Predictive.monteCarlo(
                                                        SamplePosterior.of(List.of(map)),
                                                        task.model())
                                                .build(),
                                        mapSecs);
                        case "laplace" -> laplace(task, map, out);
                        case "laplace-last-layer" -> laplaceLastLayer(task, map, out);
                        case "vi" -> vi(task, map, s, out);
                        case "sghmc-serial" -> sghmcSerial(task, map, s, out);
                        case "sghmc-parallel" -> sghmcParallel(task, s, out);
                        default ->
                                throw new IllegalArgumentException(
                                        "unknown method " + name + "; one of " + NAMES);
                    };
            all.put(f.name(), predict(task, f, out));
        }
        return all;
    }

    private static double secs(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static Predictions predict(GenreTask task, Fitted f, PrintStream out) {
        var en = GenreTask.inputs(task.testX(), 128);
        var es = GenreTask.inputs(task.spanishX(), 128);
        try (ProgressBar bar = Progress.bar(out, "predict " + f.name(), en.size() + es.size())) {
            ClassPredictions pe = f.predictive().classifyAll(en, Progress.to(bar));
            ClassPredictions ps =
                    f.predictive().classifyAll(es, done -> bar.stepTo(en.size() + done));
            return new Predictions(f.name(), pe, ps, f.seconds());
        }
    }

    /**
     * Trains the MAP with Adam from {@code init}, with a progress bar.
     *
     * @param task the task
     * @param init the initial parameters
     * @param epochs passes over the data
     * @param lr Adam's learning rate
     * @param out where to print
     * @param label the bar's label
     * @return the MAP
     */
    public static TensorTree trainMap(
            GenreTask task, TensorTree init, int epochs, double lr, PrintStream out, String label) {
        Transform<OptimizeState, TextBatch> t =
                Optimize.builder(task.logPosterior(), Adam.of(lr)).build();
        OptimizeState state = t.init(init);
        double last = Double.NaN;
        try (ProgressBar bar = Progress.bar(out, label, (long) epochs * task.batches().size())) {
            for (int e = 0; e < epochs; e++) {
                double sum = 0;
                for (TextBatch b : task.batches()) {
                    var step = t.updateInPlace(state, b);
                    step.aux().close();
                    state = step.state();
                    sum += Scalars.value(state.logPosterior());
                    bar.step();
                }
                last = -sum / task.batches().size();
                bar.setExtraMessage(String.format(Locale.ROOT, " loss %.3f", last));
            }
        }
        out.printf(
                Locale.ROOT,
                "%s: final epoch loss (-log posterior per passage) %.4f%n",
                label,
                last);
        return state.params();
    }

    /** Makes one pass over the training batches, accumulating a Laplace precision in place. */
    private static <S extends State> S pass(
            Transform<S, TextBatch> t, S state, GenreTask task, PrintStream out, String label) {
        try (ProgressBar bar = Progress.bar(out, label, task.batches().size())) {
            for (TextBatch b : task.batches()) {
                var step = t.updateInPlace(state, b);
                step.aux().close();
                state = step.state();
                bar.step();
            }
        }
        return state;
    }

    private static Fitted laplace(GenreTask task, TensorTree map, PrintStream out) {
        long t0 = System.nanoTime();
        PriorPrecision p0 = PriorPrecision.of(task.priorPrecision());
        // a structured log likelihood: the GGN sums over the passages in one pass per class
        Transform<DiagLaplaceState, TextBatch> t =
                DiagGgn.builder(task.logLikelihood()).initPrecDiag(task.priorPrecision()).build();
        DiagLaplaceState fitted = pass(t, t.init(map), task, out, "laplace (diag GGN)");
        Evidence.Tuned<DiagLaplaceState> tuned =
                Evidence.tunePrior(fitted, p0, PriorPrecision.Kind.PER_LEAF);
        out.printf("laplace: prior precision tuned by the Laplace evidence: %s%n", tuned.prior());
        return new Fitted(
                "laplace",
                Predictive.linearised(tuned.state(), task.model())
                        .probit(false)
                        .samples(SAMPLES)
                        .build(),
                secs(t0));
    }

    private static Fitted laplaceLastLayer(GenreTask task, TensorTree map, PrintStream out) {
        long t0 = System.nanoTime();
        Subnetwork<TextBatch> head = Subnetwork.lastLayer(task.logLikelihood(), map);
        KfacGgn<TextBatch> t = KfacGgn.builder(head).priorPrecision(task.priorPrecision()).build();
        KfacLaplaceState fitted =
                pass(t, t.init(head.params()), task, out, "laplace last layer (K-FAC GGN)");
        Evidence.Tuned<KfacLaplaceState> tuned =
                Evidence.tunePrior(fitted, PriorPrecision.Kind.SCALAR);
        out.printf(
                "laplace-last-layer: prior precision tuned by the Laplace evidence: %s%n",
                tuned.prior());
        return new Fitted(
                "laplace-last-layer",
                Predictive.linearised(tuned.state(), task.model())
                        .fixedParams(map)
                        .probit(false)
                        .samples(SAMPLES)
                        .build(),
                secs(t0));
    }

    private static Fitted vi(GenreTask task, TensorTree map, Settings s, PrintStream out) {
        long t0 = System.nanoTime();
        Transform<DiagViState, TextBatch> t =
                DiagVi.builder(task.logPosterior(), Adam.of(s.viLr()))
                        .temperature(1.0 / task.n())
                        .initLogSds(Math.log(VI_INIT_SD))
                        .build();
        DiagViState state = t.init(map);
        double last = Double.NaN;
        try (ProgressBar bar =
                Progress.bar(out, "vi (diag)", (long) s.viEpochs() * task.batches().size())) {
            for (int e = 0; e < s.viEpochs(); e++) {
                double sum = 0;
                for (TextBatch b : task.batches()) {
                    var step = t.updateInPlace(state, b);
                    step.aux().close();
                    state = step.state();
                    sum += Scalars.value(state.nelbo());
                    bar.step();
                }
                last = sum / task.batches().size();
            }
        }
        out.printf(Locale.ROOT, "vi: final epoch NELBO per passage %.4f%n", last);
        return new Fitted(
                "vi",
                Predictive.monteCarlo(state, task.model()).samples(SAMPLES).build(),
                secs(t0));
    }

    private static Transform<SghmcState, TextBatch> sghmc(GenreTask task, Settings s, double lr) {
        double eps = Math.sqrt(lr);
        // friction α = 0.1 / ε: momentum 0.9 in SGD terms
        return Sghmc.builder(task.logPosterior(), eps)
                .alpha(0.1 / eps)
                .temperature(1.0 / task.n())
                .momenta(0.0)
                .build();
    }

    private static Fitted sghmcSerial(GenreTask task, TensorTree map, Settings s, PrintStream out) {
        long t0 = System.nanoTime();
        int perEpoch = task.batches().size();
        long steps = (long) s.chainEpochs() * perEpoch;
        long thin = Math.max(1, steps / (2L * SAMPLES));
        Trace<SghmcState, TextBatch> trace =
                Trace.builder(sghmc(task, s, s.sghmcLr() / 10), steps)
                        .burnIn(steps / 2)
                        .thin(thin)
                        .listener(Progress.trace(out, "sghmc serial"))
                        .build();
        try (TraceResult<SghmcState> r = trace.run(map, task.batches())) {
            SamplePosterior kept = r.posterior();
            out.printf("sghmc serial: kept %d samples of one chain%n", kept.size());
            return new Fitted(
                    "sghmc-serial", Predictive.monteCarlo(kept, task.model()).build(), secs(t0));
        }
    }

    private static Fitted sghmcParallel(GenreTask task, Settings s, PrintStream out) {
        long t0 = System.nanoTime();
        int perEpoch = task.batches().size();
        long steps = (long) s.chainEpochs() * perEpoch;
        // each chain keeps its last few states, well past burn-in
        int keep = 4;
        long thin = Math.max(1, perEpoch / 2);
        long burnIn = Math.max(0, steps - keep * thin);
        List<TensorTree> inits = new ArrayList<>();
        for (int c = 0; c < s.chains(); c++) {
            inits.add(task.freshParams());
        }
        Trace<SghmcState, TextBatch> trace =
                Trace.builder(sghmc(task, s, s.sghmcLr()), steps)
                        .burnIn(burnIn)
                        .thin(thin)
                        .listener(Progress.trace(out, "sghmc parallel"))
                        .build();
        try (TraceResult<SghmcState> r = trace.run(inits, task.batches())) {
            SamplePosterior kept = r.posterior();
            out.printf("sghmc parallel: kept %d samples from %d chains%n", kept.size(), r.chains());
            return new Fitted(
                    "sghmc-parallel", Predictive.monteCarlo(kept, task.model()).build(), secs(t0));
        }
    }
}
