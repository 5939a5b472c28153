package io.posteriors.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.posteriors.State;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every transform must have, as JUnit 5 tests that a transform's test class gets by
 * implementing this interface:
 *
 * <ul>
 *   <li>{@code init} gives step 0 and copies the parameters;
 *   <li>a pure {@code update} leaves its input state unchanged and advances the step by one;
 *   <li>{@code updateInPlace} equals {@code update} under one random seed;
 *   <li>shapes are preserved;
 *   <li>an update leaks no NDArray (the manager holds as many arrays after closing the new state
 *       and aux as before the update).
 * </ul>
 *
 * <p>Every array the implementation creates must be attached to the manager passed in, so the leak
 * count sees them.
 *
 * @param <S> the state type
 * @param <B> the batch type
 */
public interface TransformContract<S extends State, B> {

    /**
     * Returns the transform under test.
     *
     * @param manager the manager the test uses
     * @return the transform
     */
    Transform<S, B> transform(NDManager manager);

    /**
     * Returns initial parameters on {@code manager}.
     *
     * @param manager the manager the test uses
     * @return the parameters
     */
    TensorTree initialParams(NDManager manager);

    /**
     * Returns a batch on {@code manager}.
     *
     * @param manager the manager the test uses
     * @return the batch
     */
    B batch(NDManager manager);

    /**
     * Returns the tolerance for comparing in-place and pure updates.
     *
     * @return the absolute and relative tolerance
     */
    default double tolerance() {
        return 1e-6;
    }

    /** Checks that init gives step 0 and does not share the caller's arrays. */
    @Test
    default void contract_init_givesStepZeroAndCopies() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(11);
            TensorTree p = initialParams(m);
            S s = transform(m).init(p);
            assertEquals(0, s.step());
            assertTrue(s.params().sameStructure(p), "init keeps the parameters' structure");
            assertTrue(s.params().allClose(p, 0, 0), "init starts at the given parameters");
            for (String k : p.names()) {
                assertTrue(s.params().get(k) != p.get(k), "init must copy leaf " + k);
            }
        }
    }

    /** Checks that a pure update leaves its input unchanged and preserves shapes. */
    @Test
    default void contract_update_leavesInputUnchangedAndKeepsShapes() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(12);
            Transform<S, B> t = transform(m);
            S s = t.init(initialParams(m));
            List<NDArray> before = copies(s.arrays());
            Step<S> step = t.update(s, batch(m));
            assertEquals(1, step.state().step());
            assertEquals(0, s.step());
            List<NDArray> after = s.arrays();
            assertEquals(before.size(), after.size());
            for (int i = 0; i < before.size(); i++) {
                assertTrue(
                        equalWithNaN(before.get(i), after.get(i)),
                        "pure update changed input array " + i);
            }
            List<NDArray> next = step.state().arrays();
            assertEquals(after.size(), next.size(), "state keeps its number of arrays");
            for (int i = 0; i < next.size(); i++) {
                assertEquals(after.get(i).getShape(), next.get(i).getShape(), "shape of " + i);
                assertTrue(next.get(i) != after.get(i), "pure update must not share array " + i);
            }
        }
    }

    /** Checks that the in-place update computes what the pure update computes. */
    @Test
    default void contract_updateInPlace_equalsPureUnderOneSeed() {
        try (NDManager m = NDManager.newBaseManager()) {
            Transform<S, B> t = transform(m);
            B batch = batch(m);
            Engine.getInstance().setRandomSeed(13);
            S s1 = t.init(initialParams(m));
            Engine.getInstance().setRandomSeed(14);
            S pure = t.update(s1, batch).state();
            pure = t.update(pure, batch).state();
            Engine.getInstance().setRandomSeed(13);
            S s2 = t.init(initialParams(m));
            List<NDArray> original = s2.arrays();
            Engine.getInstance().setRandomSeed(14);
            S inPlace = t.updateInPlace(s2, batch).state();
            inPlace = t.updateInPlace(inPlace, batch).state();
            assertEquals(pure.step(), inPlace.step());
            List<NDArray> a = pure.arrays();
            List<NDArray> b = inPlace.arrays();
            assertEquals(a.size(), b.size());
            for (int i = 0; i < a.size(); i++) {
                assertTrue(b.get(i) == original.get(i), "in-place update must reuse array " + i);
                assertTrue(
                        closeWithNaN(a.get(i), b.get(i), tolerance()),
                        "in-place and pure differ at array "
                                + i
                                + ": "
                                + a.get(i)
                                + " vs "
                                + b.get(i));
            }
        }
    }

    /** Checks that an update leaks no array into the manager. */
    @Test
    default void contract_update_leaksNoArray() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(15);
            Transform<S, B> t = transform(m);
            B batch = batch(m);
            S s = t.init(initialParams(m));
            // warm up: lazily created constants and caches are not leaks
            Step<S> warm = t.update(s, batch);
            warm.state().close();
            warm.aux().close();
            int before = m.getManagedArrays().size();
            for (int i = 0; i < 3; i++) {
                Step<S> step = t.update(s, batch);
                step.state().close();
                step.aux().close();
            }
            assertEquals(before, m.getManagedArrays().size(), "arrays leaked by pure updates");
            S cur = s;
            cur = t.updateInPlace(cur, batch).state();
            int afterWarm = m.getManagedArrays().size();
            for (int i = 0; i < 3; i++) {
                Step<S> step = t.updateInPlace(cur, batch);
                step.aux().close();
                cur = step.state();
            }
            assertTrue(
                    m.getManagedArrays().size() <= afterWarm,
                    "arrays leaked by in-place updates: "
                            + (m.getManagedArrays().size() - afterWarm));
        }
    }

    private static List<NDArray> copies(List<NDArray> arrays) {
        return arrays.stream().map(NDArray::duplicate).toList();
    }

    private static boolean equalWithNaN(NDArray a, NDArray b) {
        return closeWithNaN(a, b, 0);
    }

    private static boolean closeWithNaN(NDArray a, NDArray b, double tol) {
        if (!a.getShape().equals(b.getShape())) {
            return false;
        }
        double[] x = a.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).toDoubleArray();
        double[] y = b.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).toDoubleArray();
        for (int i = 0; i < x.length; i++) {
            if (Double.isNaN(x[i]) && Double.isNaN(y[i])) {
                continue;
            }
            if (!(Math.abs(x[i] - y[i]) <= tol * (1 + Math.abs(y[i])))) {
                return false;
            }
        }
        return true;
    }
}
