package io.posteriors.io;

import static io.posteriors.io.FileTestSupport.assertSameBits;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.TensorTree;
import io.posteriors.optim.OptimState;
import io.posteriors.optim.OptimizeState;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reads files written by format version 1 and checked in under {@code
 * src/test/resources/io/posteriors/io/}, and checks every value against the formulas below: a later
 * change of the format that breaks reading them fails here.
 *
 * <p>The files were written by this class: {@code mvn -o -pl posteriors-core test
 * -Dtest=GoldenFileTest
 * -Dposteriors.golden.write=$PWD/posteriors-core/src/test/resources/io/posteriors/io}. Do not
 * rewrite them when the format changes; add files for the new version instead. {@code
 * read_golden.py} beside them reads the tree file with numpy (or {@code safetensors} where
 * installed) as an independent check that Python can open them.
 */
class GoldenFileTest {

    static final String TREE_FILE = "golden-v1-tree.safetensors";
    static final String STATE_FILE = "golden-v1-optimize-state.safetensors";

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private NDArray of(ByteBuffer b, DataType t, long... shape) {
        return FileTestSupport.fromBytes(manager, b.array(), t, shape);
    }

    /** A tree with every data type, special values included, in a fixed leaf order. */
    TensorTree goldenTree() {
        Map<String, NDArray> m = new LinkedHashMap<>();
        ByteBuffer f64 = le(32);
        for (double d : new double[] {Math.PI, -0.0, Double.MIN_VALUE, 1e300}) {
            f64.putDouble(d);
        }
        m.put("f64", of(f64, DataType.FLOAT64, 2, 2));
        ByteBuffer f32 = le(24);
        for (float x :
                new float[] {1.5f, -2.25f, Float.MIN_VALUE, Float.MAX_VALUE, -0.0f, 3.0e-5f}) {
            f32.putFloat(x);
        }
        m.put("f32", of(f32, DataType.FLOAT32, 2, 3));
        ByteBuffer f16 = le(8);
        for (int bits : new int[] {0x3C00, 0xC000, 0x0001, 0x7BFF}) {
            f16.putShort((short) bits);
        }
        m.put("f16", of(f16, DataType.FLOAT16, 4));
        ByteBuffer i64 = le(24).putLong(Long.MIN_VALUE).putLong(-1).putLong(Long.MAX_VALUE);
        m.put("i64", of(i64, DataType.INT64, 3));
        ByteBuffer i32 = le(8).putInt(Integer.MIN_VALUE).putInt(123456789);
        m.put("i32", of(i32, DataType.INT32, 2));
        m.put("i8", of(ByteBuffer.wrap(new byte[] {-128, 0, 127}), DataType.INT8, 3));
        m.put("u8", of(ByteBuffer.wrap(new byte[] {0, (byte) 128, (byte) 255}), DataType.UINT8, 3));
        m.put("bool", of(ByteBuffer.wrap(new byte[] {1, 0, 0, 1}), DataType.BOOLEAN, 2, 2));
        m.put("scalar", of(le(4).putFloat(0.125f), DataType.FLOAT32));
        m.put("empty", of(le(0), DataType.FLOAT32, 0, 2));
        return TensorTree.of(m);
    }

    private TensorTree wb(float[] w, float b) {
        ByteBuffer wb = le(16);
        for (float x : w) {
            wb.putFloat(x);
        }
        Map<String, NDArray> m = new LinkedHashMap<>();
        m.put("w", of(wb, DataType.FLOAT32, 2, 2));
        m.put("b", of(le(4).putFloat(b), DataType.FLOAT32, 1));
        return TensorTree.of(m);
    }

    /** An Adam state after 7 steps, with exactly representable values. */
    OptimizeState goldenState() {
        TensorTree params = wb(new float[] {0.5f, -1f, 2f, 0.25f}, -0.75f);
        TensorTree m = wb(new float[] {0.125f, -0.25f, 0.5f, -1f}, 2f);
        TensorTree v = wb(new float[] {1f, 2f, 3f, 4f}, 0.0625f);
        NDArray lp = of(le(4).putFloat(-3.5f), DataType.FLOAT32);
        return new OptimizeState(params, new OptimState(List.of(m, v), 7), lp, 7);
    }

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(GoldenFileTest.class.getResource(name).toURI());
    }

    @Test
    void goldenTree_readsExactValues() throws Exception {
        TensorTree back = PosteriorFiles.load(resource(TREE_FILE), TensorTree.class, manager);
        assertSameBits(goldenTree(), back, "golden tree");
        FileTestSupport.Parts p = FileTestSupport.read(resource(TREE_FILE));
        assertEquals("posteriors-java", p.meta().get("format"));
        assertEquals("1", p.meta().get("format_version"));
        assertEquals(TensorTree.class.getName(), p.meta().get("type"));
    }

    @Test
    void goldenState_readsExactValues() throws Exception {
        OptimizeState back =
                PosteriorFiles.load(resource(STATE_FILE), OptimizeState.class, manager);
        OptimizeState expected = goldenState();
        assertSameBits(expected.params(), back.params(), "params");
        assertSameBits(expected.optimState().slots().get(0), back.optimState().slots().get(0), "m");
        assertSameBits(expected.optimState().slots().get(1), back.optimState().slots().get(1), "v");
        assertEquals(2, back.optimState().slots().size());
        assertSameBits(expected.logPosterior(), back.logPosterior(), "logPosterior");
        assertEquals(7, back.optimState().count());
        assertEquals(7, back.step());
    }

    /** Writes the golden files; runs only when {@code posteriors.golden.write} names a folder. */
    @Test
    void writeGoldenFiles() throws Exception {
        String out = System.getProperty("posteriors.golden.write");
        assumeTrue(out != null, "set -Dposteriors.golden.write=DIR to rewrite the golden files");
        PosteriorFiles.save(Path.of(out, TREE_FILE), goldenTree());
        PosteriorFiles.save(Path.of(out, STATE_FILE), goldenState());
    }
}
