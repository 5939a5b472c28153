package io.posteriors.spark.internal;

import io.posteriors.Checks;
import io.posteriors.ForwardFn;
import io.posteriors.ModelLogPosterior;
import io.posteriors.OuterFn;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.laplace.DenseFisher;
import io.posteriors.laplace.DenseGgn;
import io.posteriors.laplace.DenseHessian;
import io.posteriors.laplace.DiagFisher;
import io.posteriors.laplace.DiagGgn;
import io.posteriors.laplace.Evidence;
import io.posteriors.laplace.KfacFisher;
import io.posteriors.laplace.KfacGgn;
import io.posteriors.laplace.Subnetwork;
import java.util.List;

/**
 * The log likelihood {@code Σ_i log p(y_i | x_i, θ)} of a batch under the model a Laplace transform
 * was built from, as {@link Evidence#logLikelihood(ForwardFn, OuterFn, TensorTree, Iterable)}
 * computes it.
 *
 * @param forward the model's forward function
 * @param outer the log likelihood of a batch given the outputs, summed over it
 * @param <B> the batch type
 */
public record ModelLogLikelihood<B>(ForwardFn<B> forward, OuterFn<B> outer) {

    /**
     * Finds the model of a Laplace transform: the forward function and outer log likelihood of a
     * GGN transform, of a K-FAC transform's structured log posterior (or subnetwork), or of a
     * Fisher or Hessian transform whose log posterior is a {@link ModelLogPosterior}.
     *
     * @param t the transform
     * @param <B> the batch type
     * @return its log likelihood
     * @throws IllegalArgumentException when the transform carries no model
     */
    @SuppressWarnings("unchecked")
    public static <B> ModelLogLikelihood<B> of(Transform<?, B> t) {
        // the transforms are records of their model's parts; B is the transform's own batch type
        if (t instanceof DiagGgn<?> g) {
            return new ModelLogLikelihood<>(
                    (ForwardFn<B>) g.forward(), (OuterFn<B>) g.outerLogLikelihood());
        }
        if (t instanceof DenseGgn<?> g) {
            return new ModelLogLikelihood<>(
                    (ForwardFn<B>) g.forward(), (OuterFn<B>) g.outerLogLikelihood());
        }
        if (t instanceof KfacGgn<?> k) {
            return of((ModelLogPosterior<B>) k.logPosterior(), (Subnetwork<B>) k.subnetwork());
        }
        if (t instanceof KfacFisher<?> k) {
            return of((ModelLogPosterior<B>) k.logPosterior(), (Subnetwork<B>) k.subnetwork());
        }
        Object lp = null;
        if (t instanceof DiagFisher<?> f) {
            lp = f.logPosterior();
        } else if (t instanceof DenseFisher<?> f) {
            lp = f.logPosterior();
        } else if (t instanceof DenseHessian<?> h) {
            lp = h.logPosterior();
        }
        if (lp instanceof ModelLogPosterior<?> m) {
            ModelLogPosterior<B> mb = (ModelLogPosterior<B>) m;
            return new ModelLogLikelihood<>(mb.forward(), mb.outerLogLikelihood());
        }
        throw new IllegalArgumentException(
                Checks.format(
                        "logLikelihood(true) needs a transform built from a model (a GGN or"
                                + " K-FAC transform, or a Fisher or Hessian transform of a"
                                + " ModelLogPosterior), got a %s",
                        t.getClass().getName()));
    }

    private static <B> ModelLogLikelihood<B> of(ModelLogPosterior<B> m, Subnetwork<B> sub) {
        return sub == null
                ? new ModelLogLikelihood<>(m.forward(), m.outerLogLikelihood())
                : new ModelLogLikelihood<>(sub.forward(), sub.outerLogLikelihood());
    }

    /**
     * Returns the summed log likelihood of {@code batch} at {@code params}.
     *
     * @param params where to evaluate
     * @param batch the batch
     * @return the log likelihood
     */
    public double of(TensorTree params, B batch) {
        return Evidence.logLikelihood(forward, outer, params, List.of(batch));
    }
}
