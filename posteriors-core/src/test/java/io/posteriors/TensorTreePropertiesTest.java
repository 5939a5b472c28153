package io.posteriors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.quicktheories.QuickTheory;
import org.quicktheories.core.Gen;

/**
 * Algebraic laws of {@link TensorTree} checked on random trees: one to four leaves (names in a
 * non-alphabetical order, so order preservation is tested), each of rank 0 to 3 with dimensions 1
 * to 4, float64 values from a seeded Java generator.
 */
class TensorTreePropertiesTest {

    /** Each example builds a few small arrays; 60 examples keep a property well under a second. */
    private static final int EXAMPLES = 60;

    private static final String[] NAMES = {"w", "a", "m", "b"};

    /** A tree to build: leaf shapes in order and the seed of its values. */
    record Spec(List<List<Integer>> shapes, long seed) {
        TensorTree build(NDManager m) {
            Random r = new Random(seed);
            Map<String, NDArray> leaves = new LinkedHashMap<>();
            for (int i = 0; i < shapes.size(); i++) {
                long[] dims = shapes.get(i).stream().mapToLong(Integer::longValue).toArray();
                leaves.put(NAMES[i], TestArrays.normal(m, r, new Shape(dims)));
            }
            return TensorTree.of(leaves);
        }
    }

    private static Gen<Spec> specs() {
        Gen<List<List<Integer>>> shapes =
                lists().of(lists().of(integers().between(1, 4)).ofSizeBetween(0, 3))
                        .ofSizeBetween(1, NAMES.length);
        return shapes.zip(longs().all(), Spec::new);
    }

    private static QuickTheory theory() {
        return qt().withFixedSeed(20240611L).withExamples(EXAMPLES);
    }

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** Runs a check on a fresh sub-manager so every example's arrays are freed. */
    private void scoped(Consumer<NDManager> check) {
        try (NDManager m = manager.newSubManager()) {
            check.accept(m);
        }
    }

    @Test
    void map_identity_returnsSameLeaves() {
        theory().forAll(specs())
                .checkAssert(
                        spec ->
                                scoped(
                                        m -> {
                                            TensorTree t = spec.build(m);
                                            TensorTree id = t.map(a -> a);
                                            assertEquals(t.names(), id.names());
                                            for (String k : t.names()) {
                                                assertSame(t.get(k), id.get(k));
                                            }
                                            assertTrue(t.map(NDArray::duplicate).allClose(t, 0, 0));
                                        }));
    }

    @Test
    void map_composition_equalsMapOfComposition() {
        UnaryOperator<NDArray> f = a -> a.mul(2).add(1);
        UnaryOperator<NDArray> g = NDArray::sin;
        theory().forAll(specs())
                .checkAssert(
                        spec ->
                                scoped(
                                        m -> {
                                            TensorTree t = spec.build(m);
                                            TensorTree twice = t.map(f).map(g);
                                            TensorTree once = t.map(a -> g.apply(f.apply(a)));
                                            assertEquals(t.shapes(), twice.shapes());
                                            assertTrue(twice.allClose(once, 0, 0));
                                        }));
    }

    @Test
    void zip_withProjection_returnsThatTree() {
        theory().forAll(specs())
                .checkAssert(
                        spec ->
                                scoped(
                                        m -> {
                                            TensorTree t = spec.build(m);
                                            TensorTree u = t.map(a -> a.mul(3));
                                            TensorTree left = t.zip(u, (a, b) -> a);
                                            TensorTree right = t.zip(u, (a, b) -> b);
                                            for (String k : t.names()) {
                                                assertSame(t.get(k), left.get(k));
                                                assertSame(u.get(k), right.get(k));
                                            }
                                            assertEquals(t.names(), right.names());
                                        }));
    }

    @Test
    void zip3_equalsTwoZips_andForEachZipVisitsInOrder() {
        theory().forAll(specs())
                .checkAssert(
                        spec ->
                                scoped(
                                        m -> {
                                            TensorTree a = spec.build(m);
                                            TensorTree b =
                                                    new Spec(spec.shapes(), spec.seed() + 1)
                                                            .build(m);
                                            TensorTree c =
                                                    new Spec(spec.shapes(), spec.seed() + 2)
                                                            .build(m);
                                            TensorTree three =
                                                    a.zip3(b, c, (x, y, z) -> x.add(y).mul(z));
                                            TensorTree two =
                                                    a.zip(b, NDArray::add).zip(c, NDArray::mul);
                                            assertTrue(three.allClose(two, 0, 0));
                                            List<NDArray> seen = new ArrayList<>();
                                            a.forEachZip(
                                                    b,
                                                    (x, y) -> {
                                                        seen.add(x);
                                                        seen.add(y);
                                                    });
                                            for (int i = 0; i < a.size(); i++) {
                                                String k = a.names().get(i);
                                                assertSame(a.get(k), seen.get(2 * i));
                                                assertSame(b.get(k), seen.get(2 * i + 1));
                                            }
                                        }));
    }

    @Test
    void ravel_concatenatesLeavesInOrder_andUnravelInvertsIt() {
        theory().forAll(specs())
                .checkAssert(
                        spec ->
                                scoped(
                                        m -> {
                                            TensorTree t = spec.build(m);
                                            NDArray flat = t.ravel();
                                            assertEquals(new Shape(t.numel()), flat.getShape());
                                            List<Double> expected = new ArrayList<>();
                                            for (NDArray leaf : t.leaves()) {
                                                for (double v : TestArrays.doubles(leaf)) {
                                                    expected.add(v);
                                                }
                                            }
                                            assertArrayEquals(
                                                    expected.stream()
                                                            .mapToDouble(Double::doubleValue)
                                                            .toArray(),
                                                    TestArrays.doubles(flat));
                                            TensorTree back = t.unravel(flat);
                                            assertEquals(t.names(), back.names());
                                            assertEquals(t.shapes(), back.shapes());
                                            assertTrue(back.allClose(t, 0, 0));
                                        }));
    }

    @Test
    void unravel_thenRavel_returnsTheVector() {
        theory().forAll(specs(), longs().all())
                .checkAssert(
                        (spec, seed) ->
                                scoped(
                                        m -> {
                                            TensorTree t = spec.build(m);
                                            NDArray v =
                                                    TestArrays.normal(
                                                            m,
                                                            new Random(seed),
                                                            new Shape(t.numel()));
                                            TensorTree u = t.unravel(v);
                                            assertEquals(t.shapes(), u.shapes());
                                            assertArrayEquals(
                                                    TestArrays.doubles(v), TestArrays.flat(u));
                                        }));
    }

    @Test
    void ravelBatched_rowsAreRaveledSamples() {
        theory().forAll(specs(), integers().between(1, 4))
                .checkAssert(
                        (spec, n) ->
                                scoped(
                                        m -> {
                                            TensorTree one = spec.build(m);
                                            TensorTree batched =
                                                    one.map(
                                                            a ->
                                                                    TestArrays.normal(
                                                                            m,
                                                                            new Random(spec.seed()),
                                                                            new Shape(n)
                                                                                    .addAll(
                                                                                            a
                                                                                                    .getShape())));
                                            NDArray rows = batched.ravelBatched(n);
                                            assertEquals(
                                                    new Shape(n, one.numel()), rows.getShape());
                                            for (int i = 0; i < n; i++) {
                                                int row = i;
                                                TensorTree sample = batched.map(a -> a.get(row));
                                                assertArrayEquals(
                                                        TestArrays.flat(sample),
                                                        TestArrays.doubles(rows.get(row)));
                                            }
                                        }));
    }

    @Test
    void subset_thenMerge_roundTrips() {
        theory().forAll(specs(), integers().between(1, (1 << NAMES.length) - 1))
                .checkAssert(
                        (spec, mask) ->
                                scoped(
                                        m -> {
                                            TensorTree t = spec.build(m);
                                            List<String> keep = new ArrayList<>();
                                            for (int i = 0; i < t.size(); i++) {
                                                if ((mask >> i & 1) == 1) {
                                                    keep.add(t.names().get(i));
                                                }
                                            }
                                            if (keep.isEmpty()) {
                                                keep.add(t.names().get(0));
                                            }
                                            TensorTree part = t.subset(Set.copyOf(keep)::contains);
                                            assertEquals(keep, part.names(), "subset keeps order");
                                            TensorTree same = t.merge(part);
                                            assertEquals(t.names(), same.names());
                                            for (String k : t.names()) {
                                                assertSame(t.get(k), same.get(k));
                                            }
                                            TensorTree changed = part.map(a -> a.add(1));
                                            TensorTree merged = t.merge(changed);
                                            assertEquals(t.names(), merged.names());
                                            for (String k : t.names()) {
                                                NDArray expected =
                                                        keep.contains(k)
                                                                ? changed.get(k)
                                                                : t.get(k);
                                                assertSame(expected, merged.get(k));
                                            }
                                            assertTrue(merged.subset(keep).allClose(changed, 0, 0));
                                        }));
    }

    @Test
    void copy_isDeep_andNumelCountsElements() {
        theory().forAll(specs())
                .checkAssert(
                        spec ->
                                scoped(
                                        m -> {
                                            TensorTree t = spec.build(m);
                                            long count = 0;
                                            for (List<Integer> s : spec.shapes()) {
                                                count +=
                                                        s.stream()
                                                                .mapToLong(i -> i)
                                                                .reduce(1, (x, y) -> x * y);
                                            }
                                            assertEquals(count, t.numel());
                                            TensorTree c = t.copy();
                                            double[] before = TestArrays.flat(t);
                                            c.forEach((k, a) -> a.addi(1));
                                            assertArrayEquals(before, TestArrays.flat(t));
                                            TensorTree z = t.zerosLike();
                                            TensorTree f = t.fullLike(2.5);
                                            for (double v : TestArrays.flat(z)) {
                                                assertEquals(0.0, v);
                                            }
                                            for (double v : TestArrays.flat(f)) {
                                                assertEquals(2.5, v);
                                            }
                                            z.setFrom(t);
                                            assertTrue(z.allClose(t, 0, 0));
                                        }));
    }
}
