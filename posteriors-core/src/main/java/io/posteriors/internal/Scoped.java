package io.posteriors.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Runs a computation in an {@link NDScope} so that every array it creates is closed when it
 * returns, except the arrays of its result, which move to a chosen manager and to the caller's
 * scope (if the caller has one open).
 *
 * <p><b>Why the scope also pins Java buffers.</b> On the CPU, DJL builds an array from Java data
 * ({@code manager.create(...)}, and the scalar of every number operand such as {@code x.mul(0.5)})
 * by wrapping a direct {@code ByteBuffer} without copying, and frees that memory when the buffer is
 * garbage collected after the array is closed. {@code x.mul(0.5)} closes its scalar at once, but
 * autograd keeps it for the backward pass: a garbage collection between the forward and the
 * backward pass would let the backward read freed memory and return a wrong gradient. While a scope
 * is open, this class keeps every such buffer created on the thread reachable, until the outermost
 * scope closes (after the backward pass). It reads DJL's private fields by reflection; if a future
 * DJL renames them, pinning is skipped and a warning is printed once; a test of this package fails
 * then (see {@code pinningAvailable}).
 */
public final class Scoped {

    private static final Field SCOPE_RESOURCES =
            field(NDScope.class, "resources", IdentityHashMap.class);
    private static final Field DATA_REF = field(PtNDArray.class, "dataRef", null);
    private static final ThreadLocal<List<Object>> PINNED = new ThreadLocal<>();

    private Scoped() {}

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
        T result;
        boolean outermost = PINNED.get() == null;
        if (outermost) {
            PINNED.set(new ArrayList<>());
        }
        try (NDScope scope = new NDScope()) {
            pin(scope);
            result = body.get();
            for (NDArray a : outputs.apply(result)) {
                NDScope.unregister(a);
            }
        } finally {
            if (outermost) {
                PINNED.remove();
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
        return call(null, body, List::of);
    }

    /**
     * Runs {@code body} for its side effects (in-place writes); closes every array created during
     * it.
     *
     * @param body the computation
     */
    public static void run(Runnable body) {
        call(
                null,
                () -> {
                    body.run();
                    return null;
                },
                r -> List.of());
    }

    /**
     * Returns whether the DJL fields this class reads by reflection ({@code NDScope.resources}, an
     * identity map, and {@code PtNDArray.dataRef}) were found, so that buffers are pinned. A test
     * asserts it, so a DJL upgrade that renames them fails the build instead of a gradient.
     *
     * @return true when pinning works
     */
    static boolean pinningAvailable() {
        return SCOPE_RESOURCES != null && DATA_REF != null;
    }

    /** Makes the scope remember, in the thread's pin list, the Java buffer of each new array. */
    private static void pin(NDScope scope) {
        if (!pinningAvailable()) {
            return;
        }
        List<Object> pinned = PINNED.get();
        try {
            SCOPE_RESOURCES.set(scope, new PinningMap(pinned));
        } catch (IllegalAccessException e) {
            // cannot happen: the field was made accessible
        }
    }

    /** The scope's resource map, which also keeps each array's Java buffer reachable. */
    private static final class PinningMap extends IdentityHashMap<NDArray, NDArray> {
        private static final long serialVersionUID = 1L;
        private final transient List<Object> pinned;

        PinningMap(List<Object> pinned) {
            this.pinned = pinned;
        }

        @Override
        public NDArray put(NDArray key, NDArray value) {
            if (key instanceof PtNDArray) {
                try {
                    Object buffer = DATA_REF.get(key);
                    if (buffer != null) {
                        pinned.add(buffer);
                    }
                } catch (IllegalAccessException e) {
                    // cannot happen: the field was made accessible
                }
            }
            return super.put(key, value);
        }
    }

    /**
     * Returns the accessible field, or null (with a warning) when it is missing or cannot hold a
     * {@code valueType} (null: any type).
     */
    private static Field field(Class<?> type, String name, Class<?> valueType) {
        try {
            Field f = type.getDeclaredField(name);
            if (valueType != null && !f.getType().isAssignableFrom(valueType)) {
                throw new NoSuchFieldException(
                        name
                                + " has type "
                                + f.getType().getName()
                                + ", not a supertype of "
                                + valueType.getName());
            }
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            System.err.printf(
                    "posteriors: cannot pin DJL's Java buffers (%s.%s: %s); gradients of functions"
                            + " with number operands may be wrong after a garbage collection%n",
                    type.getSimpleName(), name, e);
            return null;
        }
    }
}
