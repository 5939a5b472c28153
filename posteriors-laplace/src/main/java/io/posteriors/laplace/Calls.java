package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.posteriors.Checks;
import io.posteriors.ForwardFn;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.ModelOutput;
import io.posteriors.OuterFn;
import io.posteriors.PerSample;
import io.posteriors.Scopes;
import io.posteriors.TensorTree;
import java.util.OptionalLong;

/** Wrappers of the user's functions shared by the Laplace transforms. */
final class Calls {

    private Calls() {}

    /**
     * Returns {@code forward} with a check that its output is batch-first: at least one dimension
     * and, when the number of samples of the batch is known (see {@link PerSample#sampleCount}),
     * dimension 0 of that size.
     */
    static <B> ForwardFn<B> batchFirst(ForwardFn<B> forward, B batch) {
        OptionalLong n = PerSample.sampleCount(batch);
        return (params, b) -> {
            ModelOutput mo = forward.apply(params, b);
            if (mo == null) {
                throw new IllegalArgumentException("forward function returned null");
            }
            var shape = mo.output().getShape();
            if (shape.dimension() < 1 || (n.isPresent() && shape.get(0) != n.getAsLong())) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "forward output must be batch-first (dimension 0 indexing the"
                                        + " %s of the batch), got shape %s",
                                n.isPresent() ? n.getAsLong() + " samples" : "samples", shape));
            }
            return mo;
        };
    }

    /** Returns the negative of an outer log likelihood: the loss whose GGN is positive. */
    static <B> OuterFn<B> negate(OuterFn<B> outerLogLikelihood) {
        return (o, b) -> {
            NDArray v = outerLogLikelihood.apply(o, b);
            if (v == null) {
                throw new IllegalArgumentException("outer log likelihood returned null");
            }
            return v.neg();
        };
    }

    /**
     * Runs the forward function at the state's parameters outside autograd and returns its aux
     * (detached handles on the parameters' manager); the output is freed.
     */
    static <B> NDList forwardAux(ForwardFn<B> forward, TensorTree params, B batch) {
        return Scopes.call(
                params.manager(),
                () -> {
                    ModelOutput mo = forward.apply(params, batch);
                    if (mo == null) {
                        throw new IllegalArgumentException("forward function returned null");
                    }
                    return detach(mo.aux());
                },
                aux -> aux);
    }

    /**
     * Runs a log density at the state's parameters outside autograd and returns its aux (detached
     * handles on the parameters' manager); the value is freed.
     */
    static <B> NDList logProbAux(LogProbFn<B> f, TensorTree params, B batch) {
        return Scopes.call(
                params.manager(),
                () -> {
                    LogProb lp = f.apply(params, batch);
                    if (lp == null) {
                        throw new IllegalArgumentException(
                                "log probability function returned null");
                    }
                    return detach(lp.aux());
                },
                aux -> aux);
    }

    private static NDList detach(NDList aux) {
        NDList out = new NDList(aux.size());
        for (NDArray a : aux) {
            out.add(a.stopGradient());
        }
        return out;
    }
}
