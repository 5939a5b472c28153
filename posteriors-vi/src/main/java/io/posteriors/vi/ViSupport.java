package io.posteriors.vi;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Checks;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.IntFunction;

/** What the two VI transforms share: the Monte Carlo ELBO, tree prefixes, aux stacking, noise. */
final class ViSupport {

    /** Prefix of the mean leaves in the tree of variational parameters. */
    static final String MEAN = "mean/";

    /** Half the log of 2 pi, the per-dimension Gaussian normalising constant. */
    static final double HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

    private ViSupport() {}

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

    /** Throws when an array has a NaN or infinite entry. */
    static void requireFinite(NDArray a, String name) {
        try (NDArray bad = a.isNaN();
                NDArray inf = a.isInfinite();
                NDArray either = bad.logicalOr(inf);
                NDArray any = either.any()) {
            if (any.getBoolean()) {
                throw new IllegalArgumentException(
                        Checks.format("%s must be finite, got a NaN or infinite entry", name));
            }
        }
    }
}
