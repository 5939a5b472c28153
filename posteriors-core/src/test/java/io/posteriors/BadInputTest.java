package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad input to the core: each case must fail early with a message naming what is wrong. */
class BadInputTest {

    private NDManager manager;
    private TensorTree tree;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        tree = tree(new Shape(2, 3), new Shape(4));
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private TensorTree tree(Shape w, Shape b) {
        Map<String, NDArray> m = new LinkedHashMap<>();
        m.put("w", manager.ones(w, DataType.FLOAT64));
        m.put("b", manager.ones(b, DataType.FLOAT64));
        return TensorTree.of(m);
    }

    private static String message(Class<? extends Throwable> type, Executable e) {
        return assertThrows(type, e).getMessage();
    }

    private static void assertMentions(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "'" + message + "' should mention " + p);
        }
    }

    @Test
    void differentShapes_inEveryCombinator_nameTheLeafAndBothShapes() {
        TensorTree other = tree(new Shape(3, 2), new Shape(4));
        String[] parts = {"'w'", "(3, 2)", "(2, 3)"};
        assertMentions(
                message(IllegalArgumentException.class, () -> tree.zip(other, NDArray::add)),
                parts);
        assertMentions(
                message(
                        IllegalArgumentException.class,
                        () -> tree.zip3(tree, other, (a, b, c) -> a)),
                parts);
        assertMentions(
                message(
                        IllegalArgumentException.class,
                        () -> tree.zip3(other, tree, (a, b, c) -> a)),
                parts);
        assertMentions(
                message(IllegalArgumentException.class, () -> tree.forEachZip(other, (a, b) -> {})),
                parts);
        assertMentions(
                message(
                        IllegalArgumentException.class,
                        () -> tree.merge(other.subset(k -> k.equals("w")))),
                parts);
        assertMentions(message(IllegalArgumentException.class, () -> tree.setFrom(other)), parts);
        assertMentions(
                message(
                        IllegalArgumentException.class,
                        () -> tree.requireSameStructure(other, "grad")),
                "grad",
                "'w'",
                "(3, 2)",
                "(2, 3)");
    }

    @Test
    void differentNames_orOrder_areReportedWithBothNameLists() {
        Map<String, NDArray> m = new LinkedHashMap<>();
        m.put("b", tree.get("b"));
        m.put("w", tree.get("w"));
        TensorTree swapped = TensorTree.of(m);
        assertMentions(
                message(IllegalArgumentException.class, () -> tree.zip(swapped, NDArray::add)),
                "[w, b]",
                "[b, w]");
        TensorTree fewer = tree.subset(k -> k.equals("w"));
        assertMentions(
                message(IllegalArgumentException.class, () -> tree.forEachZip(fewer, (a, b) -> {})),
                "[w, b]",
                "[w]");
        TensorTree stranger = TensorTree.of("v", manager.zeros(new Shape(1)));
        assertMentions(
                message(IllegalArgumentException.class, () -> tree.merge(stranger)),
                "'v'",
                "[w, b]");
    }

    @Test
    void emptyTree_andEmptySelections_areRejected() {
        assertMentions(
                message(IllegalArgumentException.class, () -> TensorTree.of(new HashMap<>())),
                "at least one leaf");
        assertMentions(
                message(IllegalArgumentException.class, () -> tree.subset(k -> false)),
                "no leaf",
                "[w, b]");
        assertMentions(
                message(IllegalArgumentException.class, () -> tree.get("bias")),
                "'bias'",
                "[w, b]");
        assertMentions(
                message(
                        IllegalArgumentException.class,
                        () -> tree.subset(java.util.List.of("w", "x"))),
                "'x'");
    }

    @Test
    void nullFunctionsAndArguments_throwNullPointerNamingThem() {
        assertEquals("f", message(NullPointerException.class, () -> tree.map(null)));
        assertEquals("f", message(NullPointerException.class, () -> tree.mapWithName(null)));
        assertEquals("f", message(NullPointerException.class, () -> tree.zip(tree, null)));
        assertEquals("f", message(NullPointerException.class, () -> tree.zip3(tree, tree, null)));
        assertEquals(
                "action", message(NullPointerException.class, () -> tree.forEachZip(tree, null)));
        assertEquals("action", message(NullPointerException.class, () -> tree.forEach(null)));
        assertEquals(
                "other", message(NullPointerException.class, () -> tree.zip(null, NDArray::add)));
        assertEquals(
                "keep",
                message(
                        NullPointerException.class,
                        () -> tree.subset((java.util.function.Predicate<String>) null)));
        assertEquals(
                "map",
                message(
                        NullPointerException.class,
                        () -> TensorTree.of((Map<String, NDArray>) null)));
        assertEquals("flat", message(NullPointerException.class, () -> tree.unravel(null)));
        Map<String, NDArray> withNull = new LinkedHashMap<>();
        withNull.put("w", null);
        assertMentions(message(NullPointerException.class, () -> TensorTree.of(withNull)), "'w'");
        assertMentions(message(NullPointerException.class, () -> tree.map(a -> null)), "w");
        assertEquals(
                "f", message(NullPointerException.class, () -> Autodiff.grad(null, tree, null)));
    }

    @Test
    void wrongLengths_inRavelAndUnravel_areReported() {
        assertMentions(
                message(
                        IllegalArgumentException.class,
                        () -> tree.unravel(manager.zeros(new Shape(9)))),
                "10",
                "(9)");
        assertMentions(
                message(
                        IllegalArgumentException.class,
                        () -> tree.unravel(manager.zeros(new Shape(2, 5)))),
                "10",
                "(2, 5)");
        assertMentions(
                message(IllegalArgumentException.class, () -> tree.ravelBatched(2)),
                "'b'",
                "leading dimension 2",
                "(4)");
        TensorTree batched = tree(new Shape(2, 3), new Shape(3, 4));
        assertMentions(
                message(IllegalArgumentException.class, () -> batched.ravelBatched(2)),
                "'b'",
                "(3, 4)");
    }

    @Test
    void closedManager_isReportedByLeafName() {
        NDManager sub = manager.newSubManager();
        Map<String, NDArray> m = new LinkedHashMap<>();
        m.put("w", sub.ones(new Shape(2), DataType.FLOAT64));
        TensorTree closed = TensorTree.of(m);
        NDArray leaf = closed.get("w");
        sub.close();
        assertMentions(
                message(IllegalStateException.class, () -> Checks.open(leaf, "params leaf 'w'")),
                "'w'",
                "closed");
        LogProbFn<Void> f = (p, b) -> LogProb.of(p.get("w").sum());
        assertMentions(
                message(IllegalStateException.class, () -> Autodiff.grad(f, closed, null)),
                "'w'",
                "closed");
        assertMentions(
                message(IllegalStateException.class, () -> Autodiff.hvp(f, closed, null, closed)),
                "'w'",
                "closed");
        assertMentions(
                message(
                        IllegalStateException.class,
                        () -> ConjugateGradients.solve(v -> v, closed)),
                "'w'",
                "closed");
        NDArray alone = manager.ones(new Shape(1));
        alone.close();
        assertMentions(
                message(IllegalStateException.class, () -> Checks.open(alone, "x")),
                "x has been closed");
    }

    @Test
    void checks_nameParameterRuleAndValue() {
        assertMentions(
                message(IllegalArgumentException.class, () -> Checks.positive(-0.1, "lr")),
                "lr",
                "positive",
                "-0.1");
        assertMentions(
                message(IllegalArgumentException.class, () -> Checks.positive(0, "lr")),
                "lr",
                "0.0");
        assertMentions(
                message(
                        IllegalArgumentException.class,
                        () -> Checks.nonNegative(Double.NaN, "temperature")),
                "temperature",
                "non-negative",
                "NaN");
        assertMentions(
                message(
                        IllegalArgumentException.class,
                        () -> Checks.finite(Double.NEGATIVE_INFINITY, "init")),
                "init",
                "finite",
                "-Infinity");
        assertMentions(
                message(IllegalArgumentException.class, () -> Checks.atLeast(0, 1, "n")),
                "n must be at least 1, got 0");
        assertMentions(
                message(IllegalArgumentException.class, () -> Checks.atLeast(-3L, 0L, "steps")),
                "steps",
                "-3");
        assertEquals(0.0, Checks.nonNegative(0, "temperature"));
        assertEquals(2.5, Checks.positive(2.5, "lr"));
        assertEquals("x", message(NullPointerException.class, () -> Checks.notNull(null, "x")));
        assertEquals("x", message(NullPointerException.class, () -> Checks.open(null, "x")));
        // messages use the root locale whatever the default is
        java.util.Locale saved = java.util.Locale.getDefault();
        try {
            java.util.Locale.setDefault(java.util.Locale.GERMANY);
            assertMentions(
                    message(
                            IllegalArgumentException.class,
                            () -> Checks.nonNegativeAt(s -> -1.5, 4, "lr")),
                    "-1.5",
                    "step 4");
        } finally {
            java.util.Locale.setDefault(saved);
        }
    }
}
