package io.posteriors.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.SamplePosterior;
import io.posteriors.TensorTree;
import io.posteriors.io.FileTestSupport.Parts;
import io.posteriors.io.PosteriorFileException.Problem;
import io.posteriors.optim.Adam;
import io.posteriors.optim.Optimize;
import io.posteriors.optim.OptimizeState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated, truncated, extended and hostile files: each must be refused with a {@link
 * PosteriorFileException} that names the file and the problem, none may load wrong data or crash
 * the JVM, and no array may be left behind.
 *
 * <p>The random part runs {@value #CI_CASES} cases with a fixed seed (about a second); set {@code
 * -Dposteriors.fuzz.cases=200000} (and optionally {@code -Dposteriors.fuzz.seed=...}) for a longer
 * run.
 */
class PosteriorFilesFuzzTest {

    private static final int CI_CASES = 3000;

    @TempDir Path dir;

    private NDManager manager;
    private final List<Base> bases = new ArrayList<>();

    /**
     * A valid file, the type to load it as, and a check that a loaded value equals the original.
     */
    private record Base(String name, byte[] bytes, Class<?> type, Consumer<Object> sameAsSaved) {}

    @BeforeEach
    void setUp() throws IOException {
        manager = NDManager.newBaseManager();
        Random r = new Random(99);
        Map<String, NDArray> leaves = new LinkedHashMap<>();
        for (DataType t : FileTestSupport.DTYPES) {
            leaves.put(
                    t.name().toLowerCase(java.util.Locale.ROOT),
                    FileTestSupport.randomArray(manager, r, t, 2, 3));
        }
        leaves.put("scalar", FileTestSupport.randomArray(manager, r, DataType.FLOAT32));
        TensorTree tree = TensorTree.of(leaves);
        bases.add(
                base(
                        "tree",
                        tree,
                        TensorTree.class,
                        v -> FileTestSupport.assertSameBits(tree, (TensorTree) v, "tree")));

        Optimize<Void> t = Optimize.builder(PosteriorFilesTest.quadratic(), Adam.of(0.1)).build();
        OptimizeState s = t.init(PosteriorFilesTest.params(manager, 3));
        s = PosteriorFilesTest.step(t, s);
        s = PosteriorFilesTest.step(t, s);
        OptimizeState state = s;
        bases.add(
                base(
                        "adam",
                        state,
                        OptimizeState.class,
                        v -> {
                            OptimizeState o = (OptimizeState) v;
                            FileTestSupport.assertSameBits(state.params(), o.params(), "params");
                            assertEquals(state.step(), o.step());
                            assertEquals(state.optimState().count(), o.optimState().count());
                        }));

        SamplePosterior p =
                SamplePosterior.ofStacked(
                        TensorTree.of(
                                "w",
                                FileTestSupport.randomArray(manager, r, DataType.FLOAT64, 3, 2)));
        bases.add(
                base(
                        "samples",
                        p,
                        SamplePosterior.class,
                        v ->
                                FileTestSupport.assertSameBits(
                                        p.samples(), ((SamplePosterior) v).samples(), "samples")));
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private Base base(String name, Object value, Class<?> type, Consumer<Object> same)
            throws IOException {
        Path f = dir.resolve("base-" + name);
        PosteriorFiles.save(f, value);
        return new Base(name, Files.readAllBytes(f), type, same);
    }

    // ------------------------------------------------------------ random mutations

    @Test
    void randomlyMutatedFiles_areAllRefusedNamingTheProblem() throws IOException {
        int cases = Integer.getInteger("posteriors.fuzz.cases", CI_CASES);
        long seed = Long.getLong("posteriors.fuzz.seed", 20261130L);
        Random r = new Random(seed);
        Path f = dir.resolve("mutant.safetensors");
        Map<Problem, Integer> seen = new EnumMap<>(Problem.class);
        int before = manager.getManagedArrays().size();
        long t0 = System.nanoTime();
        for (int c = 0; c < cases; c++) {
            Base b = bases.get(r.nextInt(bases.size()));
            String[] how = new String[1];
            byte[] m = mutate(b.bytes(), r, how);
            Files.write(f, m);
            try {
                Object v = PosteriorFiles.load(f, b.type(), manager);
                // only an unchanged file may load, and then only to the saved values
                if (!java.util.Arrays.equals(m, b.bytes())) {
                    fail("case " + c + " (" + b.name() + ", " + how[0] + ") loaded a changed file");
                }
                b.sameAsSaved().accept(v);
                fail("mutation left the file unchanged: " + how[0]);
            } catch (PosteriorFileException e) {
                seen.merge(e.problem(), 1, Integer::sum);
                assertTrue(
                        e.getMessage().startsWith(f.toString() + ": ")
                                && e.getMessage().length() > f.toString().length() + 10,
                        "message names the file and the problem: " + e.getMessage());
            } catch (RuntimeException | IOException e) {
                throw new AssertionError(
                        "case " + c + " (" + b.name() + ", " + how[0] + ") threw " + e, e);
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(before, manager.getManagedArrays().size(), "no array left behind");
        System.out.printf(
                java.util.Locale.ROOT,
                "fuzz: %d mutated files refused in %.2f s (seed %d): %s%n",
                cases,
                seconds,
                seed,
                seen);
    }

    /** Returns a different file: bit flips, byte changes, bursts, truncations, extensions. */
    private static byte[] mutate(byte[] original, Random r, String[] how) {
        long headerEnd =
                8 + ByteBuffer.wrap(original, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] m = original.clone();
        switch (r.nextInt(8)) {
            case 0 -> {
                int at = r.nextInt(m.length);
                m[at] ^= (byte) (1 << r.nextInt(8));
                how[0] = "bit flip at " + at;
            }
            case 1 -> {
                int at = 8 + r.nextInt((int) headerEnd - 8);
                m[at] ^= (byte) (1 << r.nextInt(8));
                how[0] = "header bit flip at " + at;
            }
            case 2 -> {
                int at = (int) headerEnd + r.nextInt(m.length - (int) headerEnd);
                m[at] ^= (byte) (1 + r.nextInt(255));
                how[0] = "data byte change at " + at;
            }
            case 3 -> {
                int at = r.nextInt(m.length);
                m[at] ^= (byte) (1 + r.nextInt(255));
                how[0] = "byte change at " + at;
            }
            case 4 -> {
                int at = r.nextInt(m.length - 4);
                int len = 2 + r.nextInt(3);
                for (int k = 0; k < len; k++) {
                    m[at + k] = (byte) r.nextInt(256);
                }
                m[at] = (byte) ~original[at];
                how[0] = "burst of " + len + " at " + at;
            }
            case 5 -> {
                int len = r.nextInt(m.length);
                m = java.util.Arrays.copyOf(m, len);
                how[0] = "truncated to " + len;
            }
            case 6 -> {
                int extra = 1 + r.nextInt(64);
                m = java.util.Arrays.copyOf(m, m.length + extra);
                for (int k = original.length; k < m.length; k++) {
                    m[k] = (byte) r.nextInt(256);
                }
                how[0] = "extended by " + extra;
            }
            default -> {
                int at = r.nextInt(8);
                m[at] = (byte) (m[at] + 1 + r.nextInt(255));
                how[0] = "header length byte " + at + " changed";
            }
        }
        return m;
    }

    // ------------------------------------------------------------ hostile headers

    /** A header edit (the header checksum is recomputed, so the semantic checks are reached). */
    private interface Edit {
        void apply(Parts p) throws Exception;
    }

    private void assertRefused(String base, Edit edit, Problem problem, String... fragments)
            throws Exception {
        Base b = bases.stream().filter(x -> x.name().equals(base)).findFirst().orElseThrow();
        Path src = dir.resolve("src");
        Files.write(src, b.bytes());
        Parts p = FileTestSupport.read(src);
        edit.apply(p);
        Path f = dir.resolve("hostile");
        p.write(f);
        assertRefused(f, b.type(), problem, fragments);
    }

    private void assertRefused(Path f, Class<?> type, Problem problem, String... fragments) {
        int before = manager.getManagedArrays().size();
        try {
            PosteriorFiles.load(f, type, manager);
            fail("loaded a hostile file; expected " + problem);
        } catch (PosteriorFileException e) {
            assertEquals(problem, e.problem(), e.getMessage());
            for (String s : fragments) {
                assertTrue(
                        e.getMessage().contains(s), "message names '" + s + "': " + e.getMessage());
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        assertEquals(before, manager.getManagedArrays().size(), "no array left behind");
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        return (List<Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    private static void rename(Parts p, String from, String to) {
        Map<String, Object> h = new LinkedHashMap<>();
        p.header.forEach((k, v) -> h.put(k.equals(from) ? to : k, v));
        p.header.clear();
        p.header.putAll(h);
        Map<String, Object> crcs;
        try {
            crcs = map(Json.parse((String) p.meta().get("tensor_crc32c")));
        } catch (Json.SyntaxException e) {
            throw new AssertionError(e);
        }
        Map<String, Object> c2 = new LinkedHashMap<>();
        crcs.forEach((k, v) -> c2.put(k.equals(from) ? to : k, v));
        p.meta().put("tensor_crc32c", Json.write(c2));
    }

    @Test
    void hostileShapesAndSizes_areRefusedBeforeAllocating() throws Exception {
        assertRefused(
                "tree",
                p -> p.tensor("float32").put("shape", List.of(1L << 40, 1L << 40)),
                Problem.TENSOR_ENTRY,
                "float32",
                "more elements than a long");
        assertRefused(
                "tree",
                p -> p.tensor("float32").put("shape", List.of(1L << 31, 4L)),
                Problem.TENSOR_ENTRY,
                "float32",
                "too large");
        assertRefused(
                "tree",
                p -> p.tensor("float32").put("shape", List.of(-2L, -3L)),
                Problem.TENSOR_ENTRY,
                "float32",
                "non-negative");
        assertRefused(
                "tree",
                p -> p.tensor("float32").put("shape", List.of(2L, 4L)),
                Problem.OFFSETS,
                "float32");
        assertRefused(
                "tree",
                p -> p.tensor("float32").put("shape", "2x3"),
                Problem.TENSOR_ENTRY,
                "float32");
        assertRefused(
                "tree",
                p -> p.tensor("float32").put("dtype", "F8"),
                Problem.TENSOR_ENTRY,
                "float32",
                "F8");
        assertRefused(
                "tree",
                p -> p.tensor("float32").put("dtype", "BF16"),
                Problem.TENSOR_ENTRY,
                "BF16");
        assertRefused(
                "tree", p -> p.tensor("float32").put("dtype", "F64"), Problem.OFFSETS, "float32");
        assertRefused(
                "tree", p -> p.tensor("float32").put("extra", 1L), Problem.TENSOR_ENTRY, "float32");
        assertRefused(
                "tree",
                p -> p.tensor("float32").put("data_offsets", List.of(-8L, 16L)),
                Problem.OFFSETS,
                "float32");
        assertRefused(
                "tree",
                p ->
                        p.tensor("float32")
                                .put(
                                        "data_offsets",
                                        List.of(Long.MAX_VALUE - 8, Long.MAX_VALUE + 16)),
                Problem.OFFSETS,
                "float32");
        assertRefused(
                "tree",
                p -> p.tensor("float32").put("data_offsets", List.of(40L, 64L)),
                Problem.OFFSETS,
                "overlaps");
        assertRefused(
                "tree",
                p -> p.tensor("int32").put("data_offsets", p.tensor("float32").get("data_offsets")),
                Problem.OFFSETS,
                "overlaps");
        assertRefused(
                "tree",
                p -> {
                    for (Object e : p.header.values()) {
                        if (map(e).containsKey("data_offsets")) {
                            List<Object> off = list(map(e).get("data_offsets"));
                            map(e).put(
                                            "data_offsets",
                                            List.of((Long) off.get(0) + 8, (Long) off.get(1) + 8));
                        }
                    }
                },
                Problem.OFFSETS,
                "gap");
        assertRefused(
                "tree",
                p -> {
                    List<Object> off = list(p.tensor("scalar").get("data_offsets"));
                    p.tensor("scalar").put("shape", List.of(1000L));
                    p.tensor("scalar")
                            .put("data_offsets", List.of(off.get(0), (Long) off.get(0) + 4000));
                },
                Problem.TRUNCATED,
                "tensors need");
    }

    @Test
    void hostileNames_areRefused() throws Exception {
        for (String bad :
                List.of(
                        "../etc/passwd",
                        "/abs",
                        "a/../b",
                        "a//b",
                        "..",
                        "a\u0000b",
                        "a\nb",
                        "c:\\win",
                        "a b",
                        "\u202eevil",
                        "x".repeat(300))) {
            assertRefused("tree", p -> rename(p, "float32", bad), Problem.NAME, "not allowed");
        }
    }

    @Test
    void hostileJson_isRefused() throws Exception {
        Base b = bases.get(0);
        Path f = dir.resolve("json");
        byte[] deep =
                ("[".repeat(100) + "]".repeat(100) + "      ").getBytes(StandardCharsets.UTF_8);
        FileTestSupport.writeRaw(f, deep, new byte[0]);
        assertRefused(f, b.type(), Problem.JSON, "nesting");
        FileTestSupport.writeRaw(
                f, "{\"a\":1,\"a\":2}   ".getBytes(StandardCharsets.UTF_8), new byte[0]);
        assertRefused(f, b.type(), Problem.JSON, "duplicate key");
        FileTestSupport.writeRaw(
                f, new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}', ' '}, new byte[0]);
        assertRefused(f, b.type(), Problem.JSON, "UTF-8");
        FileTestSupport.writeRaw(
                f, "{\"__metadata__\":{}}".getBytes(StandardCharsets.UTF_8), new byte[0]);
        assertRefused(f, b.type(), Problem.FORMAT, "posteriors-java");
        FileTestSupport.writeRaw(
                f,
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}"
                        .getBytes(StandardCharsets.UTF_8),
                new byte[4]);
        assertRefused(f, b.type(), Problem.FORMAT, "__metadata__");
        FileTestSupport.writeRaw(f, "1.5e3   ".getBytes(StandardCharsets.UTF_8), new byte[0]);
        assertRefused(f, b.type(), Problem.JSON, "integers");
        Files.write(f, new byte[] {1, 2, 3});
        assertRefused(f, b.type(), Problem.TRUNCATED, "too short");
        ByteBuffer huge =
                ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE);
        Files.write(f, huge.array());
        assertRefused(f, b.type(), Problem.HEADER_LENGTH);
        ByteBuffer neg = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5);
        Files.write(f, neg.array());
        assertRefused(f, b.type(), Problem.HEADER_LENGTH);
        ByteBuffer past = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(100);
        Files.write(f, past.array());
        assertRefused(f, b.type(), Problem.TRUNCATED, "exceeds");
    }

    @Test
    void otherFormatVersionOrType_areRefused() throws Exception {
        assertRefused("tree", p -> p.meta().put("format", "pickle"), Problem.FORMAT, "pickle");
        assertRefused("tree", p -> p.meta().put("format_version", "2"), Problem.VERSION, "2");
        assertRefused("tree", p -> p.meta().put("format_version", "1.0"), Problem.VERSION);
        assertRefused(
                "tree", p -> p.meta().remove("tensor_crc32c"), Problem.FORMAT, "tensor_crc32c");
        assertRefused(
                "tree",
                p -> p.meta().put("type", "java.lang.Runtime"),
                Problem.TYPE_MISMATCH,
                "java.lang.Runtime",
                TensorTree.class.getName());
        assertRefused(
                "adam",
                p -> p.meta().put("type", TensorTree.class.getName()),
                Problem.TYPE_MISMATCH);
        Path f = dir.resolve("adam");
        Files.write(f, bases.get(1).bytes());
        assertRefused(
                f,
                SamplePosterior.class,
                Problem.TYPE_MISMATCH,
                OptimizeState.class.getName(),
                SamplePosterior.class.getName());
    }

    @Test
    void structuresThatDoNotFitTheType_areRefusedNamingTheField() throws Exception {
        // OptimizeState(params, optimState(slots, count), logPosterior, step)
        assertRefused(
                "adam",
                p -> {
                    var s = p.structure();
                    list(s.get("fields")).remove(3);
                    p.setStructure(s);
                },
                Problem.STRUCTURE,
                "4 components");
        assertRefused(
                "adam",
                p -> {
                    var s = p.structure();
                    map(list(s.get("fields")).get(3)).put("name", "steps");
                    p.setStructure(s);
                },
                Problem.STRUCTURE,
                "'step'",
                "'steps'");
        assertRefused(
                "adam",
                p -> {
                    var s = p.structure();
                    map(list(s.get("fields")).get(3)).put("kind", "double");
                    p.setStructure(s);
                },
                Problem.STRUCTURE,
                "step",
                "long",
                "'double'");
        assertRefused(
                "adam",
                p -> {
                    var s = p.structure();
                    map(list(s.get("fields")).get(3)).put("value", "12abc");
                    p.setStructure(s);
                },
                Problem.VALUE,
                "step",
                "12abc");
        assertRefused(
                "adam",
                p -> {
                    var s = p.structure();
                    map(list(s.get("fields")).get(3)).put("value", "99999999999999999999");
                    p.setStructure(s);
                },
                Problem.VALUE,
                "step");
        assertRefused(
                "adam",
                p -> {
                    var s = p.structure();
                    map(list(s.get("fields")).get(3)).put("value", "-1");
                    p.setStructure(s);
                },
                Problem.VALUE,
                "refused",
                "step must be non-negative");
        assertRefused(
                "adam",
                p -> {
                    var s = p.structure();
                    map(list(s.get("fields")).get(1)).put("type", "io.posteriors.Evil");
                    p.setStructure(s);
                },
                Problem.TYPE_MISMATCH,
                "optimState",
                "io.posteriors.Evil");
        assertRefused(
                "adam",
                p -> {
                    var s = p.structure();
                    map(list(s.get("fields")).get(2)).put("kind", "null");
                    p.setStructure(s);
                },
                Problem.STRUCTURE,
                "logPosterior");
        assertRefused(
                "adam",
                p -> {
                    var s = p.structure();
                    map(list(s.get("fields")).get(3)).put("kind", "null");
                    p.setStructure(s);
                },
                Problem.STRUCTURE,
                "step",
                "primitive");
        assertRefused(
                "adam",
                p -> {
                    var s = p.structure();
                    list(map(list(s.get("fields")).get(0)).get("leaves")).add("ghost");
                    p.setStructure(s);
                },
                Problem.STRUCTURE,
                "params/ghost");
        assertRefused(
                "adam",
                p -> {
                    var s = p.structure();
                    list(map(list(s.get("fields")).get(0)).get("leaves")).remove(0);
                    p.setStructure(s);
                },
                Problem.STRUCTURE,
                "params/w",
                "not part of");
        assertRefused(
                "adam", p -> p.meta().put("structure", "{\"kind\":"), Problem.JSON, "structure");
    }

    @Test
    void corruptedDataWithValidHeader_isRefusedByTheTensorChecksum() throws Exception {
        assertRefused(
                "tree", p -> p.data[3] ^= 0x10, Problem.TENSOR_CHECKSUM, "float64", "corrupted");
        assertRefused(
                "tree",
                p -> {
                    int at =
                            (int)
                                    (long)
                                            (Long)
                                                    list(p.tensor("boolean").get("data_offsets"))
                                                            .get(0);
                    p.data[at] = 2;
                    p.recomputeTensorCrcs();
                },
                Problem.VALUE,
                "boolean",
                "BOOL");
        Path f = dir.resolve("flipped");
        byte[] b = bases.get(0).bytes().clone();
        b[40] ^= 0x01;
        Files.write(f, b);
        assertRefused(f, TensorTree.class, Problem.HEADER_CHECKSUM, "header checksum mismatch");
    }
}
