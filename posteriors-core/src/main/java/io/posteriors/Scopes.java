package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.posteriors.internal.Scoped;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Runs array computations so that every temporary they create is closed when they return.
 *
 * <p>Each call opens an {@link ai.djl.ndarray.NDScope}; arrays created inside it are closed when it
 * ends, except those the caller names as the result. While a scope is open, the Java buffers behind
 * arrays made from Java numbers stay reachable, so autograd never reads memory the garbage
 * collector freed (see docs/gotchas.md). Method modules and user code use this class; the mechanics
 * live in an internal package.
 */
public final class Scopes {

    private Scopes() {}

    /**
     * Runs {@code body}; closes every array created during it except those {@code outputs} lists,
     * which are attached to {@code owner}. The outputs must be arrays created by {@code body}.
     *
     * @param owner the manager that owns the result's arrays, or null to leave them where they are
     * @param body the computation
     * @param outputs the arrays of the result to keep
     * @param <T> the result type
     * @return the result of {@code body}
     */
    public static <T> T call(
            NDManager owner, Supplier<T> body, Function<T, Iterable<NDArray>> outputs) {
        return Scoped.call(owner, body, outputs);
    }

    /**
     * Runs {@code body}, which returns one fresh array; closes every other array created during it.
     *
     * @param body the computation
     * @return the result, on the manager it was created on
     */
    public static NDArray one(Supplier<NDArray> body) {
        return Scoped.call(null, body, List::of);
    }

    /**
     * Runs {@code body}, which returns a fresh tree; closes every other array created during it.
     *
     * @param body the computation
     * @return the result, on the managers its arrays were created on
     */
    public static TensorTree tree(Supplier<TensorTree> body) {
        return Scoped.call(null, body, TensorTree::leaves);
    }

    /**
     * Runs {@code body} for its side effects (in-place writes); closes every array created during
     * it.
     *
     * @param body the computation
     */
    public static void run(Runnable body) {
        Scoped.run(body);
    }
}
