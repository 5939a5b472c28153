package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** The per-step checks: messages that name the step and the leaf, and no arrays left behind. */
class ChecksTest {

    @Test
    void finiteScalar_float32_leavesNoArrayBehind() {
        // the check runs once per step of every transform: a converted copy left on the manager
        // leaked one array per step (found by the accelerator contract run on the CPU)
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray v = m.create(1.5f);
            int before = m.getManagedArrays().size();
            for (int i = 0; i < 5; i++) {
                Checks.finiteScalar(v, "log posterior", i);
            }
            assertEquals(before, m.getManagedArrays().size());
        }
    }

    @Test
    void finiteScalar_nan_namesWhatAndStep() {
        try (NDManager m = NDManager.newBaseManager()) {
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> Checks.finiteScalar(m.create(Float.NaN), "nelbo", 7));
            assertTrue(
                    e.getMessage().startsWith("nelbo must be finite, got NaN at step 7"),
                    e.getMessage());
        }
    }

    @Test
    void finite_tree_namesLeafIndexAndStep_andLeavesNoArrayBehind() {
        try (NDManager m = NDManager.newBaseManager()) {
            TensorTree t =
                    TensorTree.of(
                            java.util.Map.of(
                                    "a", m.ones(new Shape(3), DataType.FLOAT32),
                                    "b", m.create(new float[] {0, Float.POSITIVE_INFINITY, 1})));
            int before = m.getManagedArrays().size();
            Checks.finite(TensorTree.of("a", t.get("a")), "gradient", 2);
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class, () -> Checks.finite(t, "gradient", 3));
            assertEquals(
                    "gradient must be finite, got Infinity at leaf 'b' flat index 1 at step 3 (1"
                            + " non-finite entries)",
                    e.getMessage());
            assertEquals(before, m.getManagedArrays().size());
        }
    }
}
