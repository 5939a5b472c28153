package io.posteriors.laplace;

import io.posteriors.Checks;
import io.posteriors.ForwardFn;
import io.posteriors.LogProbFn;
import io.posteriors.ModelLogPosterior;
import io.posteriors.OuterFn;
import io.posteriors.TensorTree;
import java.util.Collection;
import java.util.List;
import java.util.function.Predicate;

/**
 * A subnetwork: some leaves of a structured log posterior's parameters are Bayesian, the rest stay
 * fixed at given values (usually the MAP). It gives the functions every Laplace transform takes
 * over the sub-tree only, with the fixed leaves merged in on each call, so that subnetwork Laplace
 * is one line:
 *
 * <pre>{@code
 * Subnetwork<Batch> head = Subnetwork.lastLayer(logPost, map);
 * var kfac = KfacGgn.builder(head).priorPrecision(1.0).build();   // last-layer K-FAC
 * var diag = DiagGgn.builder(head.forward(), head.outerLogLikelihood()).build();
 * KfacLaplaceState s = kfac.init(head.params());
 * }</pre>
 *
 * <p>The predictive of such a state takes {@link #forward()} (the model as a function of the
 * sub-tree). {@link KfacGgn} and {@link KfacFisher} keep the fast probed path on the full model;
 * the other transforms see an opaque function of the sub-tree and take their generic path (one
 * reverse pass per output element for a GGN, per sample for a Fisher), which is cheap for a last
 * layer.
 *
 * @param logPosterior the structured log posterior of the whole model
 * @param full the full parameters; the leaves outside {@code leaves} stay at these values (read,
 *     never closed or copied)
 * @param leaves the names of the Bayesian leaves, in the tree's order
 * @param <B> the batch type
 */
public record Subnetwork<B>(
        ModelLogPosterior<B> logPosterior, TensorTree full, List<String> leaves) {

    /**
     * Checks the components.
     *
     * @throws NullPointerException when a component is null
     * @throws IllegalArgumentException when {@code leaves} is empty or names a leaf {@code full}
     *     lacks
     */
    public Subnetwork {
        Checks.notNull(logPosterior, "logPosterior");
        Checks.openTree(full, "full");
        Checks.notNull(leaves, "leaves");
        leaves = full.subset(leaves).names();
    }

    /**
     * Returns the subnetwork of the leaves with these names.
     *
     * @param logPosterior the structured log posterior of the whole model
     * @param full the full parameters (the rest stays at these values)
     * @param names the Bayesian leaves
     * @param <B> the batch type
     * @return the subnetwork
     * @throws IllegalArgumentException when a name is absent or none is given
     */
    public static <B> Subnetwork<B> of(
            ModelLogPosterior<B> logPosterior, TensorTree full, Collection<String> names) {
        Checks.notNull(names, "names");
        return new Subnetwork<>(logPosterior, full, List.copyOf(names));
    }

    /**
     * Returns the subnetwork of the leaves whose names pass {@code keep}.
     *
     * @param logPosterior the structured log posterior of the whole model
     * @param full the full parameters (the rest stays at these values)
     * @param keep the test on leaf names
     * @param <B> the batch type
     * @return the subnetwork
     * @throws IllegalArgumentException when no leaf passes
     */
    public static <B> Subnetwork<B> of(
            ModelLogPosterior<B> logPosterior, TensorTree full, Predicate<String> keep) {
        Checks.openTree(full, "full");
        return new Subnetwork<>(logPosterior, full, full.subset(keep).names());
    }

    /**
     * Returns the subnetwork of the model's last layer with parameters: the leaves that share the
     * last leaf's prefix up to its last {@code '_'} (DJL names leaves {@code 03Linear_weight},
     * {@code 03Linear_bias}).
     *
     * @param logPosterior the structured log posterior of the whole model
     * @param full the full parameters (the rest stays at these values)
     * @param <B> the batch type
     * @return the subnetwork
     */
    public static <B> Subnetwork<B> lastLayer(ModelLogPosterior<B> logPosterior, TensorTree full) {
        Checks.openTree(full, "full");
        List<String> names = full.names();
        String last = names.get(names.size() - 1);
        String prefix = last.substring(0, last.lastIndexOf('_') + 1);
        return of(logPosterior, full, n -> n.startsWith(prefix));
    }

    /**
     * Returns the Bayesian leaves of {@code full} (shared, not copied): what {@code init} takes.
     *
     * @return the sub-tree
     */
    public TensorTree params() {
        return full.subset(leaves);
    }

    /**
     * Returns the full parameters with the Bayesian leaves replaced by {@code sub} (arrays shared).
     *
     * @param sub values of the Bayesian leaves (one point)
     * @return the full tree
     * @throws IllegalArgumentException when {@code sub} has another leaf or shape
     */
    public TensorTree complete(TensorTree sub) {
        return full.merge(sub);
    }

    /**
     * Returns the model's forward function of the sub-tree.
     *
     * @return the forward function
     */
    public ForwardFn<B> forward() {
        ForwardFn<B> f = logPosterior.forward();
        return (p, b) -> f.apply(complete(p), b);
    }

    /**
     * Returns the summed log likelihood of the outputs (the outer function of GGN methods).
     *
     * @return the outer log likelihood
     */
    public OuterFn<B> outerLogLikelihood() {
        return logPosterior.outerLogLikelihood();
    }

    /**
     * Returns the log posterior as a function of the sub-tree (the fixed leaves merged in), in the
     * form of {@code logPosterior} (a scalar per batch).
     *
     * @return the log posterior
     */
    public LogProbFn<B> logProb() {
        return (p, b) -> logPosterior.apply(complete(p), b);
    }

    /**
     * Returns the per-sample log posterior as a function of the sub-tree, for {@code
     * DiagFisher.builder(sub.perSampleLogProb()).perSample(true)}.
     *
     * @return the per-sample log posterior
     */
    public LogProbFn<B> perSampleLogProb() {
        ModelLogPosterior<B> ps = logPosterior.perSample();
        return (p, b) -> ps.apply(complete(p), b);
    }
}
