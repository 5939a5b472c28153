package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.posteriors.internal.Scoped;
import io.posteriors.internal.TorchAutograd;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What {@link Autodiff}, {@link Curvature} and the Linear-layer fast paths ({@link LinearProbing})
 * share: differentiating on fresh leaves inside one scope, the shape checks of the functions'
 * values, and the small products built from vector-Jacobian products.
 *
 * <p>Values are checked for their shape only (a scalar, or one entry per sample); whether they are
 * finite is checked by the transforms, which can name the step and the leaf ({@link
 * Checks#finiteScalar}, {@link Checks#finite(TensorTree, String, long)}), without a second
 * device-to-host read here.
 */
final class Differentiation {

    private Differentiation() {}

    /**
     * Checks that {@code params} is open, then runs {@code body} on detached copies of it that
     * require gradients, with autograd recording on, inside one scope: every array created is
     * closed when it returns, except those {@code outputs} lists, which move to the parameters'
     * manager. No gradient is left on the caller's arrays.
     *
     * @param params the parameters
     * @param body the computation on the differentiable leaves
     * @param outputs the arrays of the result to keep (an empty list for a null result)
     * @param <T> the result type
     * @return the result of {@code body}
     */
    static <T> T onLeaves(
            TensorTree params,
            Function<TensorTree, T> body,
            Function<T, Iterable<NDArray>> outputs) {
        requireOpen(params);
        return Scoped.call(
                params.manager(),
                () -> TorchAutograd.withGrad(() -> body.apply(leavesOf(params))),
                outputs);
    }

    /** Detached copies of the parameters that require gradients, on the same manager. */
    private static TensorTree leavesOf(TensorTree params) {
        return params.map(
                a -> {
                    NDArray leaf = a.stopGradient();
                    leaf.setRequiresGradient(true);
                    return leaf;
                });
    }

    static void requireOpen(TensorTree params) {
        Checks.notNull(params, "params");
        params.forEach((k, a) -> Checks.open(a, "params leaf '" + k + "'"));
    }

    /** Evaluates a log density that must return a scalar. */
    static <B> LogProb callScalar(LogProbFn<B> f, TensorTree x, B batch) {
        LogProb lp = call(f, x, batch);
        checkScalar(lp.value(), "log probability");
        return lp;
    }

    /** Evaluates a log density that must return one value per sample. */
    static <B> LogProb callPerSample(LogProbFn<B> f, TensorTree x, B batch) {
        LogProb lp = call(f, x, batch);
        checkVector(lp.value(), "per-sample log probability");
        return lp;
    }

    private static <B> LogProb call(LogProbFn<B> f, TensorTree x, B batch) {
        LogProb lp = f.apply(x, batch);
        if (lp == null) {
            throw new IllegalArgumentException("log probability function returned null");
        }
        return lp;
    }

    static <B> NDArray forwardOutput(ForwardFn<B> forward, TensorTree x, B batch) {
        ModelOutput mo = forward.apply(x, batch);
        if (mo == null) {
            throw new IllegalArgumentException("forward function returned null");
        }
        checkBatchFirst(mo.output());
        return mo.output();
    }

    static <B> NDArray outerValue(OuterFn<B> outer, NDArray outputs, B batch) {
        NDArray l = outer.apply(outputs, batch);
        if (l == null) {
            throw new IllegalArgumentException("outer function returned null");
        }
        checkScalar(l, "outer function value");
        return l;
    }

    static void checkBatchFirst(NDArray o) {
        if (o.getShape().dimension() < 1 || o.getShape().get(0) < 1) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "forward output must be batch-first with at least one sample, got"
                                    + " shape %s",
                            o.getShape()));
        }
    }

    /**
     * Checks that a value is a scalar.
     *
     * @param value the value
     * @param what what it is, for the message
     * @throws IllegalArgumentException when it is not 0-d
     */
    static void checkScalar(NDArray value, String what) {
        if (value.getShape().dimension() != 0) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "%s must be a scalar (shape ()), got shape %s; average or sum over the"
                                    + " batch, or use a per-sample method",
                            what, value.getShape()));
        }
    }

    /**
     * Checks that a value is a non-empty vector, one entry per sample.
     *
     * @param value the value
     * @param what what it is, for the message
     * @throws IllegalArgumentException when it is not 1-d with at least one entry
     */
    static void checkVector(NDArray value, String what) {
        Shape s = value.getShape();
        if (s.dimension() != 1 || s.get(0) < 1) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "%s must be a non-empty vector with one entry per sample, got shape"
                                    + " %s",
                            what, s));
        }
    }

    /** Reverse-mode gradient of a scalar with respect to the leaves, keeping no graph. */
    static NDList vjpOfScalar(NDArray y, List<NDArray> xs, boolean createGraph, NDManager owner) {
        return TorchAutograd.vjp(List.of(y), xs, List.of(y.onesLike()), createGraph, owner);
    }

    /** Jacobian-vector product J v of outputs y by the double-vector-Jacobian trick. */
    static NDArray jvp(NDArray y, List<NDArray> xs, List<NDArray> v, NDManager owner) {
        NDArray u = y.stopGradient().zerosLike();
        u.setRequiresGradient(true);
        NDList w = TorchAutograd.vjp(List.of(y), xs, List.of(u), true, owner);
        NDArray dot = innerProduct(w, v);
        return vjpOfScalar(dot, List.of(u), false, owner).get(0);
    }

    static NDArray innerProduct(List<NDArray> a, List<NDArray> b) {
        NDArray total = null;
        for (int i = 0; i < a.size(); i++) {
            NDArray term = a.get(i).mul(b.get(i).toType(a.get(i).getDataType(), false)).sum();
            total = total == null ? term : total.add(term);
        }
        return total;
    }

    /** The Jacobians of {@code rows} outputs, flattened per input and joined column-wise. */
    static NDArray flatRows(NDList jacobians, long rows) {
        NDList parts = new NDList(jacobians.size());
        for (NDArray j : jacobians) {
            parts.add(j.reshape(rows, -1));
        }
        return parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 1);
    }

    /** A tree with the parameters' names, in order, holding {@code arrays}. */
    static TensorTree treeLike(TensorTree params, List<NDArray> arrays) {
        Map<String, NDArray> m = new LinkedHashMap<>();
        int i = 0;
        for (String name : params.names()) {
            m.put(name, arrays.get(i++));
        }
        return TensorTree.of(m);
    }

    /** The arrays of a result made of a value, trees and an aux, for {@link #onLeaves}. */
    static List<NDArray> arraysOf(NDArray value, List<TensorTree> trees, NDList aux) {
        List<NDArray> all = new ArrayList<>();
        all.add(value);
        trees.forEach(t -> all.addAll(t.leaves()));
        aux.forEach(all::add);
        return all;
    }

    static NDList detach(NDList aux) {
        NDList out = new NDList(aux.size());
        for (NDArray a : aux) {
            out.add(a.stopGradient());
        }
        return out;
    }
}
