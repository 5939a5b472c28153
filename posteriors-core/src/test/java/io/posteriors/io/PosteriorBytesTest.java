package io.posteriors.io;

import static io.posteriors.io.FileTestSupport.assertSameBits;
import static io.posteriors.io.FileTestSupport.randomArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.SamplePosterior;
import io.posteriors.TensorTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-memory face of posterior files: {@code toBytes} and {@code fromBytes}. */
class PosteriorBytesTest {

    /** A record with an array, a tree, a number and a list, as states are. */
    record Holder(NDArray matrix, TensorTree tree, long step, List<String> names) {}

    @TempDir Path dir;

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private TensorTree tree(long seed) {
        Random r = new Random(seed);
        Map<String, NDArray> leaves = new LinkedHashMap<>();
        for (DataType t : FileTestSupport.DTYPES) {
            leaves.put(
                    t.name().toLowerCase(java.util.Locale.ROOT), randomArray(manager, r, t, 2, 3));
        }
        leaves.put("scalar", randomArray(manager, r, DataType.FLOAT64));
        return TensorTree.of(leaves);
    }

    private static Set<Path> temporaries() throws IOException {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (Stream<Path> s = Files.list(tmp)) {
            return s.filter(p -> p.getFileName().toString().startsWith("posteriors-bytes"))
                    .collect(Collectors.toSet());
        }
    }

    @Test
    void toBytes_tree_equalsTheSavedFileBitForBit() throws IOException {
        TensorTree t = tree(1);
        byte[] bytes = PosteriorFiles.toBytes(t);
        Path f = dir.resolve("t.posterior");
        PosteriorFiles.save(f, t);
        byte[] file = Files.readAllBytes(f);
        // the library-version and CRC entries are the same; the bytes are the file's
        assertArrayEquals(file, bytes);
    }

    @Test
    void fromBytes_tree_roundTripsEveryDtypeBitForBitOnTheCallersManager() throws IOException {
        TensorTree t = tree(2);
        byte[] bytes = PosteriorFiles.toBytes(t);
        try (NDManager m = NDManager.newBaseManager()) {
            TensorTree back = PosteriorFiles.fromBytes(bytes, TensorTree.class, m);
            assertSameBits(t, back, "tree");
            for (NDArray a : back.leaves()) {
                assertSame(m, a.getManager(), "owned by the caller's manager");
            }
            assertEquals(back.size(), m.getManagedArrays().size(), "nothing else left on it");
        }
    }

    @Test
    void fromBytes_withDevice_putsArraysOnThatDevice() throws IOException {
        TensorTree t = tree(3);
        TensorTree back =
                PosteriorFiles.fromBytes(
                        PosteriorFiles.toBytes(t), TensorTree.class, manager, Device.cpu());
        assertEquals(Device.cpu(), back.anyLeaf().getDevice());
        assertSameBits(t, back, "tree");
    }

    @Test
    void fromBytes_samplePosterior_roundTripsSamplesAndMean() throws IOException {
        Random r = new Random(4);
        TensorTree stacked = TensorTree.of("w", randomArray(manager, r, DataType.FLOAT64, 5, 2));
        try (SamplePosterior p = SamplePosterior.ofStacked(stacked)) {
            SamplePosterior back =
                    PosteriorFiles.fromBytes(
                            PosteriorFiles.toBytes(p), SamplePosterior.class, manager);
            assertEquals(5, back.size());
            assertSameBits(p.samples(), back.samples(), "samples");
            assertSameBits(p.mean(), back.mean(), "mean");
        }
    }

    @Test
    void fromBytes_record_roundTrips() throws IOException {
        Random r = new Random(5);
        Holder h =
                new Holder(
                        randomArray(manager, r, DataType.FLOAT32, 3, 3),
                        tree(6),
                        42L,
                        List.of("a", "b"));
        Holder back = PosteriorFiles.fromBytes(PosteriorFiles.toBytes(h), Holder.class, manager);
        assertSameBits(h.matrix(), back.matrix(), "matrix");
        assertSameBits(h.tree(), back.tree(), "tree");
        assertEquals(42L, back.step());
        assertEquals(List.of("a", "b"), back.names());
    }

    @Test
    void toBytes_leavesInputsOpenAndNoTemporaryFiles() throws IOException {
        Set<Path> before = temporaries();
        TensorTree t = tree(7);
        int arrays = manager.getManagedArrays().size();
        byte[] bytes = PosteriorFiles.toBytes(t);
        PosteriorFiles.fromBytes(bytes, TensorTree.class, manager).close();
        assertThrows(
                PosteriorFileException.class,
                () -> PosteriorFiles.fromBytes(new byte[3], TensorTree.class, manager));
        assertFalse(t.anyLeaf().isReleased());
        assertEquals(arrays, manager.getManagedArrays().size(), "no arrays left behind");
        assertEquals(before, temporaries(), "no temporary files left behind");
    }

    @Test
    void fromBytes_otherType_refusedAsTypeMismatch() throws IOException {
        byte[] bytes = PosteriorFiles.toBytes(tree(8));
        PosteriorFileException e =
                assertThrows(
                        PosteriorFileException.class,
                        () -> PosteriorFiles.fromBytes(bytes, SamplePosterior.class, manager));
        assertEquals(PosteriorFileException.Problem.TYPE_MISMATCH, e.problem());
    }

    @Test
    void fromBytes_corruptedOrTruncated_refusedAndNothingLoaded() throws IOException {
        byte[] bytes = PosteriorFiles.toBytes(tree(9));
        byte[] flipped = bytes.clone();
        flipped[flipped.length - 1] ^= 0x10;
        byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length - 5);
        try (NDManager m = NDManager.newBaseManager()) {
            assertThrows(
                    PosteriorFileException.class,
                    () -> PosteriorFiles.fromBytes(flipped, TensorTree.class, m));
            assertThrows(
                    PosteriorFileException.class,
                    () -> PosteriorFiles.fromBytes(truncated, TensorTree.class, m));
            assertEquals(0, m.getManagedArrays().size(), "nothing half-loaded");
        }
    }

    @Test
    void bytes_badArguments_throwWithTheParameterName() {
        NullPointerException e =
                assertThrows(NullPointerException.class, () -> PosteriorFiles.toBytes(null));
        assertEquals("value", e.getMessage());
        assertThrows(
                NullPointerException.class,
                () -> PosteriorFiles.fromBytes(null, TensorTree.class, manager));
        assertThrows(
                NullPointerException.class,
                () -> PosteriorFiles.fromBytes(new byte[0], null, manager));
        assertThrows(IllegalArgumentException.class, () -> PosteriorFiles.toBytes("not a tree"));
        NDManager closed = NDManager.newBaseManager();
        closed.close();
        assertThrows(
                IllegalStateException.class,
                () -> PosteriorFiles.fromBytes(new byte[0], TensorTree.class, closed));
    }
}
