package io.posteriors.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.TensorTree;
import io.posteriors.optim.OptimState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.quicktheories.core.Gen;

/**
 * Round trips of random trees: one to four leaves with names in a non-alphabetical order, each of a
 * random data type (every one a file can hold), rank 0 to 3 with dimensions 0 to 4 (empty arrays
 * included), and random bytes (every bit pattern: NaN payloads, subnormals, negative zero).
 */
class PosteriorFilesPropertiesTest {

    /** Each example writes and reads one small file; 80 examples take well under a second. */
    private static final int EXAMPLES = 80;

    private static final String[] NAMES = {"w", "layer.0.bias", "a", "m_[1]"};

    @TempDir Path dir;

    /** A tree to build: leaf data types and shapes in order, and the seed of its bytes. */
    record Spec(List<Integer> dtypes, List<List<Integer>> shapes, long seed) {
        TensorTree build(NDManager m) {
            Random r = new Random(seed);
            Map<String, NDArray> leaves = new LinkedHashMap<>();
            int n = Math.min(dtypes.size(), shapes.size());
            for (int i = 0; i < n; i++) {
                long[] dims = shapes.get(i).stream().mapToLong(Integer::longValue).toArray();
                DataType t = FileTestSupport.DTYPES.get(dtypes.get(i));
                leaves.put(NAMES[i], FileTestSupport.randomArray(m, r, t, dims));
            }
            return TensorTree.of(leaves);
        }
    }

    private static Gen<Spec> specs() {
        Gen<List<Integer>> dtypes =
                lists().of(integers().between(0, FileTestSupport.DTYPES.size() - 1))
                        .ofSizeBetween(1, NAMES.length);
        Gen<List<List<Integer>>> shapes =
                lists().of(lists().of(integers().between(0, 4)).ofSizeBetween(0, 3))
                        .ofSizeBetween(1, NAMES.length);
        return dtypes.zip(shapes, longs().all(), Spec::new);
    }

    @Test
    void randomTrees_roundTripBitForBit() {
        Path f = dir.resolve("tree");
        qt().withExamples(EXAMPLES)
                .withFixedSeed(14)
                .forAll(specs())
                .checkAssert(
                        spec -> {
                            try (NDManager m = NDManager.newBaseManager()) {
                                TensorTree tree = spec.build(m);
                                PosteriorFiles.save(f, tree);
                                long data = 0;
                                for (NDArray a : tree.leaves()) {
                                    data += a.size() * a.getDataType().getNumOfBytes();
                                }
                                long header = Files.size(f) - 8 - data;
                                assertEquals(0, (8 + header) % 8, "data section 8-byte aligned");
                                try (NDManager other = NDManager.newBaseManager()) {
                                    TensorTree back =
                                            PosteriorFiles.load(f, TensorTree.class, other);
                                    FileTestSupport.assertSameBits(tree, back, "tree");
                                    assertEquals(tree.size(), other.getManagedArrays().size());
                                }
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        });
    }

    /** A record holding a list of trees of any length and a count: the optimisers' state. */
    @Test
    void randomOptimStates_roundTripBitForBit() {
        Path f = dir.resolve("optim");
        qt().withExamples(EXAMPLES / 2)
                .withFixedSeed(15)
                .forAll(specs(), integers().between(0, 3), longs().between(0, Long.MAX_VALUE))
                .checkAssert(
                        (spec, slots, count) -> {
                            try (NDManager m = NDManager.newBaseManager()) {
                                List<TensorTree> trees = new ArrayList<>();
                                for (int k = 0; k < slots; k++) {
                                    trees.add(
                                            new Spec(spec.dtypes(), spec.shapes(), spec.seed() + k)
                                                    .build(m));
                                }
                                OptimState s = new OptimState(trees, count);
                                PosteriorFiles.save(f, s);
                                OptimState back = PosteriorFiles.load(f, OptimState.class, m);
                                assertEquals(count, back.count());
                                assertEquals(slots, back.slots().size());
                                for (int k = 0; k < slots; k++) {
                                    FileTestSupport.assertSameBits(
                                            s.slots().get(k), back.slots().get(k), "slot " + k);
                                }
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        });
    }
}
