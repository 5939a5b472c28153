package io.posteriors.io;

import static io.posteriors.io.FileTestSupport.assertSameBits;
import static io.posteriors.io.FileTestSupport.randomArray;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.SamplePosterior;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.io.PosteriorFileException.Problem;
import io.posteriors.optim.Adam;
import io.posteriors.optim.Optimize;
import io.posteriors.optim.OptimizeState;
import io.posteriors.optim.Sgd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PosteriorFilesTest {

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

    // ------------------------------------------------------------ test-only records

    enum Mode {
        FAST,
        EXACT
    }

    record Inner(NDArray matrix, List<TensorTree> slots, long count) {}

    record Everything(
            TensorTree params,
            NDArray scalar,
            SamplePosterior samples,
            Inner inner,
            List<Inner> inners,
            List<List<NDArray>> nested,
            double d,
            float f,
            long l,
            int i,
            short s,
            byte b,
            boolean z,
            Double boxedD,
            Float boxedF,
            Long boxedL,
            Integer boxedI,
            Short boxedS,
            Byte boxedB,
            Boolean boxedZ,
            String name,
            Mode mode,
            String nullString,
            NDArray nullArray,
            Inner nullRecord,
            List<String> names,
            List<Double> doubles) {}

    record WithMap(Map<String, NDArray> m) {}

    record WithGeneric<T>(T value) {}

    record WithRawList(@SuppressWarnings("rawtypes") List values) {}

    // ------------------------------------------------------------ trees

    @Test
    void save_treeOfEveryDtype_loadsBitForBit() throws IOException {
        Random r = new Random(1);
        Map<String, NDArray> leaves = new LinkedHashMap<>();
        for (DataType t : FileTestSupport.DTYPES) {
            leaves.put(
                    "z_" + t.name().toLowerCase(java.util.Locale.ROOT),
                    randomArray(manager, r, t, 3, 5));
        }
        leaves.put("scalar", randomArray(manager, r, DataType.FLOAT32));
        leaves.put("empty", randomArray(manager, r, DataType.FLOAT32, 0, 3));
        leaves.put("layer.0.weight", randomArray(manager, r, DataType.FLOAT64, 2, 1, 2, 1));
        TensorTree tree = TensorTree.of(leaves);
        Path f = dir.resolve("tree.safetensors");
        PosteriorFiles.save(f, tree);
        try (NDManager m = NDManager.newBaseManager()) {
            TensorTree back = PosteriorFiles.load(f, TensorTree.class, m);
            assertSameBits(tree, back, "tree");
            for (NDArray a : back.leaves()) {
                assertSame(m, a.getManager(), "loaded arrays belong to the caller's manager");
            }
        }
    }

    @Test
    void save_nestedLeafNames_roundTripAndPathTricksAreRefused() throws IOException {
        Map<String, NDArray> leaves = new LinkedHashMap<>();
        leaves.put("mean/weight", manager.arange(4f).reshape(2, 2));
        leaves.put("logSd/weight", manager.ones(new Shape(2, 2)));
        TensorTree tree = TensorTree.of(leaves);
        Path f = dir.resolve("nested.safetensors");
        PosteriorFiles.save(f, tree);
        TensorTree back = PosteriorFiles.load(f, TensorTree.class, manager);
        assertEquals(List.of("mean/weight", "logSd/weight"), back.names());
        assertSameBits(tree, back, "nested tree");
        for (String bad : List.of("a//b", "a/../b", "/a", "a/")) {
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    PosteriorFiles.save(
                                            dir.resolve("bad"),
                                            TensorTree.of(bad, manager.ones(new Shape(1)))));
            assertTrue(e.getMessage().contains("cannot be saved"), e.getMessage());
        }
    }

    @Test
    void save_nonContiguousView_savesItsLogicalValues() throws IOException {
        NDArray a = manager.arange(6f).reshape(2, 3);
        NDArray t = a.transpose();
        PosteriorFiles.save(dir.resolve("t"), TensorTree.of("t", t));
        TensorTree back = PosteriorFiles.load(dir.resolve("t"), TensorTree.class, manager);
        assertEquals(new Shape(3, 2), back.get("t").getShape());
        assertTrue(Arrays.equals(t.toFloatArray(), back.get("t").toFloatArray()));
    }

    @Test
    void load_withDevice_putsArraysOnThatDevice() throws IOException {
        TensorTree tree = TensorTree.of("w", manager.ones(new Shape(2, 2)));
        PosteriorFiles.save(dir.resolve("w"), tree);
        TensorTree back =
                PosteriorFiles.load(dir.resolve("w"), TensorTree.class, manager, Device.cpu());
        assertEquals(Device.cpu(), back.get("w").getDevice());
        assertSameBits(tree, back, "tree");
    }

    @Test
    void save_replacesAnExistingFileAtomicallyAndLeavesNoTemporaryFile() throws IOException {
        Path f = dir.resolve("p.safetensors");
        PosteriorFiles.save(f, TensorTree.of("a", manager.ones(new Shape(2))));
        PosteriorFiles.save(f, TensorTree.of("b", manager.zeros(new Shape(3))));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(f), files.toList());
        }
        TensorTree back = PosteriorFiles.load(f, TensorTree.class, manager);
        assertEquals(List.of("b"), back.names());
    }

    @Test
    void save_leavesInputsOpenAndUnchanged() throws IOException {
        NDArray a = randomArray(manager, new Random(3), DataType.FLOAT32, 4);
        byte[] before = FileTestSupport.bytes(a);
        int arrays = manager.getManagedArrays().size();
        PosteriorFiles.save(dir.resolve("a"), TensorTree.of("a", a));
        assertFalse(a.isReleased());
        assertEquals(arrays, manager.getManagedArrays().size(), "no temporaries left behind");
        assertTrue(Arrays.equals(before, FileTestSupport.bytes(a)));
    }

    // ------------------------------------------------------------ states

    @Test
    void save_optimizeStateWithAdam_loadsBitForBit() throws IOException {
        TensorTree params = params(manager, 5);
        Optimize<Void> t = Optimize.builder(quadratic(), Adam.of(0.05)).build();
        OptimizeState s = t.init(params);
        for (int k = 0; k < 3; k++) {
            s = step(t, s);
        }
        Path f = dir.resolve("adam.safetensors");
        PosteriorFiles.save(f, s);
        try (NDManager m = NDManager.newBaseManager()) {
            OptimizeState back = PosteriorFiles.load(f, OptimizeState.class, m);
            assertStatesEqual(s, back);
            assertEquals(s.arrays().size(), m.getManagedArrays().size(), "owned by the caller");
        }
    }

    @Test
    void save_optimizeStateWithPlainSgd_roundTripsEmptySlotList() throws IOException {
        Optimize<Void> t = Optimize.builder(quadratic(), Sgd.of(0.1)).build();
        OptimizeState s = step(t, t.init(params(manager, 6)));
        PosteriorFiles.save(dir.resolve("sgd"), s);
        OptimizeState back = PosteriorFiles.load(dir.resolve("sgd"), OptimizeState.class, manager);
        assertStatesEqual(s, back);
        assertTrue(back.optimState().slots().isEmpty());
    }

    @Test
    void save_samplePosterior_loadsSamplesAndMean() throws IOException {
        Random r = new Random(7);
        Map<String, NDArray> m = new LinkedHashMap<>();
        m.put("w", randomFloats(r, 4, 2, 3));
        m.put("b", randomFloats(r, 4, 3));
        try (SamplePosterior p = SamplePosterior.ofStacked(TensorTree.of(m))) {
            PosteriorFiles.save(dir.resolve("s"), p);
            try (NDManager other = NDManager.newBaseManager()) {
                SamplePosterior back =
                        PosteriorFiles.load(dir.resolve("s"), SamplePosterior.class, other);
                assertEquals(4, back.size());
                assertSameBits(p.samples(), back.samples(), "samples");
                assertSameBits(p.mean(), back.mean(), "mean");
                assertEquals(
                        back.samples().size() + back.mean().size(),
                        other.getManagedArrays().size(),
                        "only the posterior's arrays stay on the caller's manager");
            }
        }
    }

    @Test
    void save_recordOfEverySupportedKind_loadsEqual() throws IOException {
        Random r = new Random(11);
        Everything e = everything(r);
        Path f = dir.resolve("everything");
        PosteriorFiles.save(f, e);
        try (NDManager m = NDManager.newBaseManager()) {
            Everything back = PosteriorFiles.load(f, Everything.class, m);
            assertSameBits(e.params(), back.params(), "params");
            assertSameBits(e.scalar(), back.scalar(), "scalar");
            assertSameBits(e.samples().samples(), back.samples().samples(), "samples");
            assertInnerEqual(e.inner(), back.inner());
            assertEquals(e.inners().size(), back.inners().size());
            for (int k = 0; k < e.inners().size(); k++) {
                assertInnerEqual(e.inners().get(k), back.inners().get(k));
            }
            assertEquals(e.nested().size(), back.nested().size());
            for (int k = 0; k < e.nested().size(); k++) {
                assertEquals(e.nested().get(k).size(), back.nested().get(k).size());
                for (int j = 0; j < e.nested().get(k).size(); j++) {
                    assertSameBits(e.nested().get(k).get(j), back.nested().get(k).get(j), "nested");
                }
            }
            assertEquals(Double.doubleToRawLongBits(e.d()), Double.doubleToRawLongBits(back.d()));
            assertEquals(Float.floatToRawIntBits(e.f()), Float.floatToRawIntBits(back.f()));
            assertEquals(e.l(), back.l());
            assertEquals(e.i(), back.i());
            assertEquals(e.s(), back.s());
            assertEquals(e.b(), back.b());
            assertEquals(e.z(), back.z());
            assertEquals(e.boxedD(), back.boxedD());
            assertEquals(e.boxedF(), back.boxedF());
            assertEquals(e.boxedL(), back.boxedL());
            assertEquals(e.boxedI(), back.boxedI());
            assertEquals(e.boxedS(), back.boxedS());
            assertEquals(e.boxedB(), back.boxedB());
            assertEquals(e.boxedZ(), back.boxedZ());
            assertEquals(e.name(), back.name());
            assertEquals(e.mode(), back.mode());
            assertNull(back.nullString());
            assertNull(back.nullArray());
            assertNull(back.nullRecord());
            assertEquals(e.names(), back.names());
            assertEquals(e.doubles(), back.doubles());
            List<NDArray> all = new ArrayList<>();
            Codec.arrays(back, all);
            for (NDArray a : all) {
                assertSame(m, a.getManager());
            }
            assertEquals(all.size(), m.getManagedArrays().size(), "nothing else left on it");
        }
    }

    @Test
    void load_failure_closesEverythingItCreated() throws IOException {
        Path f = dir.resolve("everything");
        PosteriorFiles.save(f, everything(new Random(12)));
        byte[] bytes = Files.readAllBytes(f);
        bytes[bytes.length - 1] ^= 1; // the last tensor's data: fails after the others loaded
        Files.write(f, bytes);
        try (NDManager m = NDManager.newBaseManager()) {
            PosteriorFileException e =
                    assertThrows(
                            PosteriorFileException.class,
                            () -> PosteriorFiles.load(f, Everything.class, m));
            assertEquals(Problem.TENSOR_CHECKSUM, e.problem());
            assertEquals(0, m.getManagedArrays().size(), "no array left behind");
        }
    }

    @Test
    void load_anotherType_isRefusedNamingBoth() throws IOException {
        Optimize<Void> t = Optimize.builder(quadratic(), Sgd.of(0.1)).build();
        PosteriorFiles.save(dir.resolve("s"), t.init(params(manager, 1)));
        PosteriorFileException e =
                assertThrows(
                        PosteriorFileException.class,
                        () -> PosteriorFiles.load(dir.resolve("s"), Inner.class, manager));
        assertEquals(Problem.TYPE_MISMATCH, e.problem());
        assertTrue(e.getMessage().contains(OptimizeState.class.getName()), e.getMessage());
        assertTrue(e.getMessage().contains(Inner.class.getName()), e.getMessage());
        assertThrows(
                PosteriorFileException.class,
                () -> PosteriorFiles.load(dir.resolve("s"), TensorTree.class, manager));
    }

    @Test
    void save_unsupportedValues_areRefusedNamingThem() {
        Path f = dir.resolve("x");
        NDArray a = manager.ones(new Shape(2));
        var map =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PosteriorFiles.save(f, new WithMap(Map.of("a", a))));
        assertTrue(map.getMessage().contains("'m'"), map.getMessage());
        var generic =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PosteriorFiles.save(f, new WithGeneric<>(a)));
        assertTrue(generic.getMessage().contains("'value'"), generic.getMessage());
        var raw =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PosteriorFiles.save(f, new WithRawList(List.of(a))));
        assertTrue(raw.getMessage().contains("raw List"), raw.getMessage());
        var type = assertThrows(IllegalArgumentException.class, () -> PosteriorFiles.save(f, a));
        assertTrue(type.getMessage().contains("record"), type.getMessage());
        var name =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PosteriorFiles.save(f, TensorTree.of("../etc/passwd", a)));
        assertTrue(name.getMessage().contains("../etc/passwd"), name.getMessage());
        var control =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PosteriorFiles.save(f, TensorTree.of("a\nb", a)));
        assertTrue(control.getMessage().contains("a\\u000ab"), control.getMessage());
        NDArray closed = manager.ones(new Shape(2));
        closed.close();
        assertThrows(
                IllegalStateException.class,
                () -> PosteriorFiles.save(f, TensorTree.of("c", closed)));
        assertFalse(Files.exists(f), "nothing written");
        var loadType =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PosteriorFiles.load(f, String.class, manager));
        assertTrue(loadType.getMessage().contains("java.lang.String"), loadType.getMessage());
    }

    // ------------------------------------------------------------ continues exactly

    /**
     * Adam on a small regression for N steps, saved, loaded into another manager and run M more
     * steps equals N + M steps in one go, bit for bit (params, both moment trees, the last log
     * posterior, count and step).
     */
    @Test
    void loadedAdamState_continuesExactly() throws IOException {
        int n = 7;
        int mSteps = 5;
        List<NDArray[]> batches = batches(manager, 4);
        LogProbFn<NDArray[]> lp =
                (p, batch) -> {
                    NDArray pred = batch[0].matMul(p.get("w")).add(p.get("b"));
                    NDArray err = pred.sub(batch[1]);
                    NDArray value =
                            err.mul(err).mean().neg().sub(p.get("w").square().sum().mul(0.01));
                    return LogProb.of(value);
                };
        Optimize<NDArray[]> t = Optimize.builder(lp, Adam.of(0.05).weightDecay(0.01)).build();

        Engine.getInstance().setRandomSeed(42);
        OptimizeState straight = t.init(regressionParams(manager));
        for (int k = 0; k < n + mSteps; k++) {
            straight = step(t, straight, batches.get(k % batches.size()));
        }

        Engine.getInstance().setRandomSeed(42);
        OptimizeState first = t.init(regressionParams(manager));
        for (int k = 0; k < n; k++) {
            first = step(t, first, batches.get(k % batches.size()));
        }
        Path f = dir.resolve("checkpoint");
        PosteriorFiles.save(f, first);
        first.close();
        try (NDManager other = NDManager.newBaseManager()) {
            OptimizeState resumed = PosteriorFiles.load(f, OptimizeState.class, other);
            assertEquals(n, resumed.step());
            for (int k = n; k < n + mSteps; k++) {
                resumed = step(t, resumed, batches.get(k % batches.size()));
            }
            assertStatesEqual(straight, resumed);
        }
    }

    // ------------------------------------------------------------ helpers

    private static void assertStatesEqual(OptimizeState expected, OptimizeState actual) {
        assertSameBits(expected.params(), actual.params(), "params");
        assertEquals(expected.optimState().slots().size(), actual.optimState().slots().size());
        for (int k = 0; k < expected.optimState().slots().size(); k++) {
            assertSameBits(
                    expected.optimState().slots().get(k),
                    actual.optimState().slots().get(k),
                    "slot " + k);
        }
        assertSameBits(expected.logPosterior(), actual.logPosterior(), "logPosterior");
        assertEquals(expected.optimState().count(), actual.optimState().count(), "count");
        assertEquals(expected.step(), actual.step(), "step");
    }

    private static void assertInnerEqual(Inner e, Inner a) {
        assertSameBits(e.matrix(), a.matrix(), "matrix");
        assertEquals(e.slots().size(), a.slots().size());
        for (int k = 0; k < e.slots().size(); k++) {
            assertSameBits(e.slots().get(k), a.slots().get(k), "slot " + k);
        }
        assertEquals(e.count(), a.count());
    }

    private NDArray randomFloats(Random r, long... shape) {
        return randomArray(manager, r, DataType.FLOAT32, shape);
    }

    private Everything everything(Random r) {
        Map<String, NDArray> p = new LinkedHashMap<>();
        p.put("w", randomFloats(r, 2, 3));
        p.put("b", randomArray(manager, r, DataType.FLOAT64, 3));
        TensorTree params = TensorTree.of(p);
        SamplePosterior samples =
                SamplePosterior.ofStacked(TensorTree.of("x", randomFloats(r, 3, 2)));
        Inner inner =
                new Inner(
                        randomArray(manager, r, DataType.INT64, 2, 2),
                        List.of(
                                TensorTree.of("m", randomFloats(r, 2)),
                                TensorTree.of("v", randomFloats(r, 2))),
                        17);
        List<Inner> inners =
                List.of(
                        new Inner(randomArray(manager, r, DataType.BOOLEAN, 3), List.of(), 0),
                        new Inner(
                                randomArray(manager, r, DataType.FLOAT16, 1),
                                List.of(
                                        TensorTree.of(
                                                "u", randomArray(manager, r, DataType.UINT8, 4))),
                                Long.MAX_VALUE));
        List<List<NDArray>> nested =
                List.of(
                        List.of(randomArray(manager, r, DataType.INT8, 2), randomFloats(r)),
                        List.of(),
                        List.of(randomArray(manager, r, DataType.INT32, 1, 1)));
        return new Everything(
                params,
                randomFloats(r),
                samples,
                inner,
                inners,
                nested,
                -0.1 * Math.PI,
                Float.MIN_VALUE,
                Long.MIN_VALUE,
                -42,
                (short) 7,
                (byte) -3,
                true,
                Double.NEGATIVE_INFINITY,
                -0.0f,
                123L,
                Integer.MAX_VALUE,
                (short) -1,
                (byte) 127,
                Boolean.FALSE,
                "an \"odd\" name\n\u00e9\u4e2d/../x",
                Mode.EXACT,
                null,
                null,
                null,
                List.of("a", "", "c"),
                List.of(1.0e-300, Double.NaN, 4.9e-324));
    }

    static TensorTree params(NDManager m, long seed) {
        Random r = new Random(seed);
        Map<String, NDArray> p = new LinkedHashMap<>();
        p.put("w", FileTestSupport.fromDoubles(m, r, 2, 2));
        p.put("b", FileTestSupport.fromDoubles(m, r, 1));
        return TensorTree.of(p);
    }

    private static TensorTree regressionParams(NDManager m) {
        Map<String, NDArray> p = new LinkedHashMap<>();
        p.put("w", m.randomNormal(new Shape(3, 2)));
        p.put("b", m.zeros(new Shape(2)));
        return TensorTree.of(p);
    }

    private static List<NDArray[]> batches(NDManager m, int count) {
        Engine.getInstance().setRandomSeed(5);
        List<NDArray[]> out = new ArrayList<>();
        for (int k = 0; k < count; k++) {
            out.add(
                    new NDArray[] {
                        m.randomNormal(new Shape(8, 3)), m.randomNormal(new Shape(8, 2))
                    });
        }
        return out;
    }

    /** log p(x) = -1/2 |x - 1|^2 over every leaf. */
    static LogProbFn<Void> quadratic() {
        return (p, batch) -> {
            NDArray r = p.ravel().sub(1.0);
            return LogProb.of(r.mul(r).sum().mul(-0.5));
        };
    }

    static <B> OptimizeState step(Optimize<B> t, OptimizeState s, B batch) {
        Step<OptimizeState> st = t.updateInPlace(s, batch);
        st.aux().close();
        return st.state();
    }

    static OptimizeState step(Optimize<Void> t, OptimizeState s) {
        return step(t, s, null);
    }
}
