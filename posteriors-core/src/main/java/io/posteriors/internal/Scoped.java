package io.posteriors.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Runs a computation in an {@link NDScope} so that every array it creates is closed when it
 * returns, except the arrays of its result, which move to a chosen manager and to the caller's
 * scope (if the caller has one open).
 */
public final class Scoped {

    private Scoped() {}

    /**
     * Runs {@code body}; closes every array created during it except those {@code outputs} lists,
     * which are attached to {@code owner}.
     *
     * @param owner the manager that owns the result's arrays
     * @param body the computation
     * @param outputs the arrays of the result to keep
     * @param <T> the result type
     * @return the result of {@code body}
     */
    public static <T> T call(
            NDManager owner, Supplier<T> body, Function<T, Iterable<NDArray>> outputs) {
        T result;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            result = body.get();
            for (NDArray a : outputs.apply(result)) {
                NDScope.unregister(a);
            }
        }
        for (NDArray a : outputs.apply(result)) {
            if (owner != null && a.getManager() != owner) {
                a.attach(owner);
            }
            NDScope.register(a);
        }
        return result;
    }

    /**
     * Runs {@code body}, which returns one fresh array; closes every other array created during it.
     * The result stays on the manager it was created on.
     *
     * @param body the computation
     * @return the result
     */
    public static NDArray one(Supplier<NDArray> body) {
        return call(null, body, java.util.List::of);
    }

    /**
     * Runs {@code body} for its side effects (in-place writes); closes every array created during
     * it.
     *
     * @param body the computation
     */
    public static void run(Runnable body) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            body.run();
        }
    }
}
