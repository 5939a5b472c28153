package io.posteriors.vi;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Autodiff;
import io.posteriors.Checks;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.ModelLogPosterior;
import io.posteriors.Schedule;
import io.posteriors.Scopes;
import io.posteriors.TemperedBuilder;
import io.posteriors.TensorTree;
import io.posteriors.optim.GradientOptimizer;
import io.posteriors.optim.OptimState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * What the two VI transforms share, so that each of them holds only its own q: the optimiser step
 * on the Monte Carlo NELBO, the ELBO estimate, tree prefixes, aux stacking, noise and entry checks.
 */
final class ViSupport {

    /** Prefix of the mean leaves in the tree of variational parameters. */
    static final String MEAN = "mean/";

    /** Half the log of 2 pi, the per-dimension Gaussian normalising constant. */
    static final double HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

    private ViSupport() {}

    /**
     * The result of one optimiser step on the NELBO.
     *
     * @param optimState the optimiser's next state
     * @param aux the aux of the model calls
     */
    record Descent(OptimState optimState, NDList aux) {}

    /**
     * Takes one optimiser step down the Monte Carlo NELBO, writing the variational parameters
     * {@code vars} and {@code nelbo} in place: the update both VI transforms share. {@code
     * objective} runs inside the step's scope (so its noise is freed with the other temporaries)
     * and returns the ELBO as a function of the variational parameters. The NELBO and its gradient
     * are checked finite, naming the step and the leaf, before anything is written, so a failing
     * step leaves the state unchanged.
     *
     * @param optimizer the optimiser of the variational parameters
     * @param vars the variational parameters, overwritten
     * @param optimState the optimiser's state, overwritten
     * @param nelbo the state's NELBO scalar, overwritten
     * @param step the state's step, for messages
     * @param batch the batch passed to the log posterior
     * @param objective draws the noise and returns the ELBO of the variational parameters
     * @return the optimiser's next state and the aux
     */
    static <B> Descent descend(
            GradientOptimizer optimizer,
            TensorTree vars,
            OptimState optimState,
            NDArray nelbo,
            long step,
            B batch,
            Supplier<LogProbFn<B>> objective) {
        OptimState[] next = new OptimState[1];
        NDList aux =
                Scopes.call(
                        vars.manager(),
                        () -> {
                            LogProbFn<B> elbo = objective.get();
                            Autodiff.ValueAndGrad vg =
                                    Autodiff.valueAndGrad(
                                            (v, b) -> {
                                                LogProb lp = elbo.apply(v, b);
                                                Checks.finiteScalar(
                                                        lp.value().neg(), "nelbo", step);
                                                return lp;
                                            },
                                            vars,
                                            batch);
                            vg.grad().forEach((k, g) -> g.negi());
                            Checks.finite(vg.grad(), "nelbo gradient", step);
                            next[0] = optimizer.stepInPlace(vars, vg.grad(), optimState);
                            nelbo.set(new NDIndex("..."), vg.value().neg());
                            return vg.aux();
                        },
                        a -> a);
        return new Descent(next[0], aux);
    }

    /** Checks the options both VI records share, as their compact constructors do. */
    static void checkOptions(
            LogProbFn<?> logPosterior,
            GradientOptimizer optimizer,
            Schedule temperature,
            int nSamples) {
        Checks.notNull(logPosterior, "logPosterior");
        Checks.notNull(optimizer, "optimizer");
        TemperedBuilder.temperatureAt(Checks.notNull(temperature, "temperature"), 0);
        Checks.atLeast(nSamples, 1, "nSamples");
    }

    /**
     * Returns a new NaN scalar with the data type, device and manager of {@code params}: the NELBO
     * of a state no update has touched yet.
     */
    static NDArray nan(TensorTree params) {
        // created in the parameters' type directly: a converted float64 NaN would stay behind
        return params.manager().full(new Shape(), Float.NaN, params.dataType(), params.device());
    }

    /** Returns a tree sharing {@code tree}'s leaves with {@code prefix} put before every name. */
    static TensorTree prefixed(String prefix, TensorTree tree) {
        Map<String, NDArray> m = new LinkedHashMap<>();
        tree.forEach((k, v) -> m.put(prefix + k, v));
        return TensorTree.of(m);
    }

    /** Returns the leaves of {@code tree} whose names start with {@code prefix}, prefix removed. */
    static TensorTree unprefixed(String prefix, TensorTree tree) {
        Map<String, NDArray> m = new LinkedHashMap<>();
        tree.forEach(
                (k, v) -> {
                    if (k.startsWith(prefix)) {
                        m.put(k.substring(prefix.length()), v);
                    }
                });
        return TensorTree.of(m);
    }

    /** Returns a tree sharing the leaves of both trees, {@code a}'s first; names must differ. */
    static TensorTree concat(TensorTree a, TensorTree b) {
        Map<String, NDArray> m = new LinkedHashMap<>(a.asMap());
        m.putAll(b.asMap());
        return TensorTree.of(m);
    }

    /**
     * Returns the Monte Carlo ELBO {@code (1/n) sum_s [log p(theta_s) - T log q(theta_s)]} and the
     * aux of the model calls (as returned for one sample; each aux array stacked along a new
     * leading dimension for several).
     *
     * @param logPosterior the log posterior
     * @param batch its batch
     * @param n the number of samples
     * @param sample the s-th reparameterised sample theta_s, a function of the variational
     *     parameters
     * @param meanLogQ the mean over the samples of log q(theta_s); not called when the temperature
     *     is 0 (the term is left out rather than multiplied by zero, so a collapsing q cannot turn
     *     the ELBO into NaN)
     * @param temperature T
     */
    static <B> LogProb elbo(
            LogProbFn<B> logPosterior,
            B batch,
            int n,
            IntFunction<TensorTree> sample,
            Function<List<TensorTree>, NDArray> meanLogQ,
            double temperature) {
        List<TensorTree> thetas = new ArrayList<>(n);
        List<NDList> auxes = new ArrayList<>(n);
        NDArray sumLogP = null;
        for (int s = 0; s < n; s++) {
            TensorTree theta = sample.apply(s);
            thetas.add(theta);
            LogProb lp = Checks.notNull(logPosterior.apply(theta, batch), "logPosterior result");
            NDArray v = lp.value();
            if (v.getShape().dimension() != 0) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "logPosterior must return a scalar (shape ()), got shape %s;"
                                        + " average or sum over the batch",
                                v.getShape()));
            }
            sumLogP = sumLogP == null ? v : sumLogP.add(v);
            auxes.add(lp.aux());
        }
        NDArray elbo = n == 1 ? sumLogP : sumLogP.div(n);
        if (temperature > 0) {
            elbo = elbo.sub(meanLogQ.apply(thetas).mul(temperature));
        }
        return new LogProb(elbo, stackAux(auxes));
    }

    /** Returns the aux of one call, or each aux array stacked over the calls. */
    /**
     * Wraps a log posterior so that a non-scalar value is reported in VI's words; the structure is
     * passed on, so a {@code ModelLogPosterior} keeps its fast gradient.
     */
    static <B> LogProbFn<B> scalarChecked(LogProbFn<B> logPosterior) {
        return new LogProbFn<>() {
            @Override
            public LogProb apply(TensorTree params, B batch) {
                LogProb lp =
                        Checks.notNull(logPosterior.apply(params, batch), "logPosterior result");
                if (lp.value().getShape().dimension() != 0) {
                    throw new IllegalArgumentException(
                            Checks.format(
                                    "logPosterior must return a scalar (shape ()), got shape %s;"
                                            + " average or sum over the batch",
                                    lp.value().getShape()));
                }
                return lp;
            }

            @Override
            public Optional<ModelLogPosterior<B>> structure() {
                return logPosterior.structure();
            }
        };
    }

    static NDList stackAux(List<NDList> auxes) {
        if (auxes.size() == 1) {
            return auxes.get(0);
        }
        int k = auxes.get(0).size();
        NDList out = new NDList(k);
        for (int i = 0; i < k; i++) {
            NDList column = new NDList(auxes.size());
            for (NDList a : auxes) {
                if (a.size() != k) {
                    throw new IllegalArgumentException(
                            Checks.format(
                                    "logPosterior must return the same number of aux arrays for"
                                            + " every sample, got %d and %d",
                                    k, a.size()));
                }
                column.add(a.get(i));
            }
            out.add(NDArrays.stack(column));
        }
        return out;
    }

    /** Returns standard Normal noise shaped {@code (n, *leaf shape)}, from the engine generator. */
    static TensorTree noise(TensorTree like, int n) {
        return like.map(
                a ->
                        a.getManager()
                                .randomNormal(
                                        0,
                                        1,
                                        new Shape(n).addAll(a.getShape()),
                                        a.getDataType(),
                                        a.getDevice()));
    }

    /**
     * Throws when an entry of {@code a} is NaN or infinite, or, with {@code positive}, not greater
     * than zero; the message names {@code name}, the value and its flat index.
     */
    static void requireEntries(NDArray a, String name, boolean positive) {
        Checks.open(a, name);
        Scopes.run(
                () -> {
                    NDArray x = a.toType(DataType.FLOAT64, false).flatten();
                    NDArray bad = x.isNaN().logicalOr(x.isInfinite());
                    if (positive) {
                        bad = bad.logicalOr(x.lte(0.0));
                    }
                    if (bad.any().getBoolean()) {
                        long at = bad.toType(DataType.INT32, false).argMax().getLong();
                        throw new IllegalArgumentException(
                                Checks.format(
                                        "%s must be %sfinite, got %s at flat index %d",
                                        name,
                                        positive ? "positive and " : "",
                                        x.getDouble(at),
                                        at));
                    }
                });
    }
}
