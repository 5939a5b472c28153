package io.posteriors.io;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Checks;
import io.posteriors.SamplePosterior;
import io.posteriors.TensorTree;
import io.posteriors.io.PosteriorFileException.Problem;
import io.posteriors.io.SafetensorsFormat.Entry;
import io.posteriors.io.SafetensorsFormat.Header;
import io.posteriors.io.SafetensorsFormat.Outgoing;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Saves and loads tensor trees, sample posteriors and states to and from single files that Python's
 * {@code safetensors} can open, exactly (bit for bit) and safely with untrusted files.
 *
 * <pre>{@code
 * PosteriorFiles.save(Path.of("book-3.posterior"), laplaceState);
 * try (NDManager m = NDManager.newBaseManager()) {
 *     DiagLaplaceState prior =
 *             PosteriorFiles.load(Path.of("book-3.posterior"), DiagLaplaceState.class, m);
 *     ...
 * }
 * }</pre>
 *
 * <p>What can be saved: a {@link TensorTree}, a {@link SamplePosterior}, and any record (every
 * state of every method) whose components are trees, sample posteriors, {@link NDArray}s, nested
 * records, primitive or boxed numbers and booleans, strings, enums, or {@code List}s of these (null
 * references are kept). Loading takes the expected class from the caller, never a class name from
 * the file, and refuses a file that holds another type.
 *
 * <p>The file is safetensors: an 8-byte little-endian header length, a JSON header giving each
 * tensor's dtype, shape and byte range, then the raw little-endian tensor bytes. The header's
 * {@code __metadata__} holds the format name and version, the library version, the type, the
 * structure (field names, kinds, scalar values), a CRC32C per tensor and a CRC32C of the header.
 * {@code docs/persistence.md} documents every entry.
 *
 * <p>Loading checks, before allocating more than the header: the header length against the file
 * size and {@link #MAX_HEADER_BYTES}; strict UTF-8 JSON without duplicate keys; the format and
 * version; the header checksum; every tensor's name (no path tricks or control characters), dtype,
 * shape (non-negative, no overflow) and byte range (contiguous, no overlap, gap or trailing bytes,
 * inside the file); and the structure against the expected class (every component present, of the
 * right kind, every tensor used once). Then it reads each tensor and checks its checksum. Any
 * failure throws {@link PosteriorFileException} naming the file and the item, after closing every
 * array created so far: nothing half-loaded is returned and the caller's objects are untouched.
 */
public final class PosteriorFiles {

    /** The value of the {@code format} metadata entry of every posterior file. */
    public static final String FORMAT = SafetensorsFormat.FORMAT;

    /** The format version this library writes, and the newest it reads. */
    public static final int FORMAT_VERSION = SafetensorsFormat.VERSION;

    /** The largest JSON header a file may have, in bytes (16 MiB). */
    public static final long MAX_HEADER_BYTES = SafetensorsFormat.MAX_HEADER_BYTES;

    private static final String LIBRARY_VERSION = findVersion();

    private PosteriorFiles() {}

    /**
     * Returns the library version written into every file: the version of the posteriors-core jar,
     * or {@code "development"} when running from classes outside a jar.
     *
     * @return the version
     */
    public static String libraryVersion() {
        return LIBRARY_VERSION;
    }

    private static String findVersion() {
        try (InputStream in =
                PosteriorFiles.class.getResourceAsStream(
                        "/META-INF/maven/io.posteriors/posteriors-core/pom.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version");
                if (v != null && !v.isBlank()) {
                    return v;
                }
            }
        } catch (IOException e) {
            // fall through: the version is informative only
        }
        return "development";
    }

    /**
     * Saves a tensor tree, a sample posterior or a record (for example any state) to {@code path}.
     *
     * <p>The file is written to a temporary file in the same directory, flushed to the storage
     * device, then moved over {@code path} atomically (where the file system supports it), so a
     * reader sees the old file or the new one, never a partial one. The arrays are read, never
     * changed; arrays on an accelerator are copied to the host for writing.
     *
     * @param path the file to write (replaced if it exists); its directory must exist
     * @param value a {@link TensorTree}, a {@link SamplePosterior} or a record
     * @throws NullPointerException when an argument is null
     * @throws IllegalArgumentException when {@code value} is of another type, a component's type
     *     cannot be saved, a leaf name is not allowed (leaf names are 1 to 256 characters from
     *     {@code A-Z a-z 0-9 _ . - [ ] $}, not {@code .} or {@code ..}) or an array's data type is
     *     not one of float64, float32, float16, int64, int32, int8, uint8, boolean
     * @throws IllegalStateException when an array or its manager is closed
     * @throws IOException when writing fails (the temporary file is removed)
     */
    public static void save(Path path, Object value) throws IOException {
        Checks.notNull(path, "path");
        Checks.notNull(value, "value");
        List<Outgoing> tensors = new ArrayList<>();
        Map<String, Object> structure = Codec.encodeRoot(value, tensors);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(SafetensorsFormat.KEY_FORMAT, FORMAT);
        meta.put(SafetensorsFormat.KEY_VERSION, Integer.toString(FORMAT_VERSION));
        meta.put(SafetensorsFormat.KEY_LIBRARY, LIBRARY_VERSION);
        meta.put(SafetensorsFormat.KEY_TYPE, value.getClass().getName());
        meta.put(SafetensorsFormat.KEY_STRUCTURE, Json.write(structure));
        SafetensorsFormat.write(path, meta, tensors);
    }

    /**
     * Loads a value of the expected type onto {@code manager}'s device.
     *
     * @param path the file
     * @param type the expected class: {@code TensorTree.class}, {@code SamplePosterior.class} or a
     *     record class such as {@code SghmcState.class}
     * @param manager the manager that owns every loaded array
     * @param <T> the type
     * @return the value; the caller owns its arrays (closing {@code manager} frees them)
     * @throws PosteriorFileException when the file is truncated, corrupted, hostile, of another
     *     format or version, or holds another type; its {@link PosteriorFileException#problem()}
     *     says which check failed
     * @throws IOException when the file cannot be read
     * @throws IllegalArgumentException when {@code type} cannot be loaded (not a tree, sample
     *     posterior or record, or a record with a component type that cannot be saved)
     * @throws NullPointerException when an argument is null
     */
    public static <T> T load(Path path, Class<T> type, NDManager manager) throws IOException {
        Checks.notNull(manager, "manager");
        return load(path, type, manager, manager.getDevice());
    }

    /**
     * Loads a value of the expected type onto {@code device}, owned by {@code manager}.
     *
     * @param path the file
     * @param type the expected class: {@code TensorTree.class}, {@code SamplePosterior.class} or a
     *     record class such as {@code SghmcState.class}
     * @param manager the manager that owns every loaded array
     * @param device the device the arrays are created on
     * @param <T> the type
     * @return the value; the caller owns its arrays (closing {@code manager} frees them)
     * @throws PosteriorFileException when the file is truncated, corrupted, hostile, of another
     *     format or version, or holds another type; its {@link PosteriorFileException#problem()}
     *     says which check failed
     * @throws IOException when the file cannot be read
     * @throws IllegalArgumentException when {@code type} cannot be loaded (not a tree, sample
     *     posterior or record, or a record with a component type that cannot be saved)
     * @throws IllegalStateException when {@code manager} is closed
     * @throws NullPointerException when an argument is null
     */
    public static <T> T load(Path path, Class<T> type, NDManager manager, Device device)
            throws IOException {
        Checks.notNull(path, "path");
        Checks.notNull(type, "type");
        Checks.notNull(manager, "manager");
        Checks.notNull(device, "device");
        Codec.checkRootType(type);
        if (!manager.isOpen()) {
            throw new IllegalStateException("manager has been closed");
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            Header header = SafetensorsFormat.readHeader(path, ch);
            Codec.Plan plan = plan(path, header, type);
            // every array is created on a private sub-manager: a failure closes it and with it
            // whatever was loaded; success moves the result's arrays to the caller's manager
            try (NDManager scratch = manager.newSubManager(device)) {
                Map<String, NDArray> arrays = new HashMap<>();
                for (Entry e : header.tensors().values()) {
                    arrays.put(e.name(), create(scratch, e, path, ch, header));
                }
                Object value = plan.build(arrays);
                List<NDArray> owned = new ArrayList<>();
                Codec.arrays(value, owned);
                owned.forEach(a -> a.attach(manager));
                return type.cast(value);
            }
        }
    }

    /**
     * Returns the bytes of the file that {@link #save(Path, Object)} writes for {@code value}, in
     * the same format and bit for bit, for sending a value to another process (a Spark task's
     * result or broadcast, a message) where {@link #fromBytes(byte[], Class, NDManager)} reads it
     * back with every check of {@link #load(Path, Class, NDManager)}.
     *
     * <p>The format's writer works on files: the bytes pass through a file in a new private
     * directory under {@code java.io.tmpdir}, removed before this returns.
     *
     * @param value a {@link TensorTree}, a {@link SamplePosterior} or a record
     * @return the bytes of a posterior file
     * @throws NullPointerException when {@code value} is null
     * @throws IllegalArgumentException as {@link #save(Path, Object)}
     * @throws IllegalStateException when an array or its manager is closed
     * @throws IOException when the temporary file cannot be written or read
     */
    public static byte[] toBytes(Object value) throws IOException {
        Checks.notNull(value, "value");
        Path dir = Files.createTempDirectory("posteriors-bytes");
        Path file = dir.resolve("value.posterior");
        try {
            save(file, value);
            return Files.readAllBytes(file);
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * Loads a value of the expected type from the bytes of a posterior file (as {@link
     * #toBytes(Object)} returns them) onto {@code manager}'s device, with every check of {@link
     * #load(Path, Class, NDManager)}.
     *
     * @param bytes the bytes of a posterior file; not modified
     * @param type the expected class: {@code TensorTree.class}, {@code SamplePosterior.class} or a
     *     record class such as {@code SghmcState.class}
     * @param manager the manager that owns every loaded array
     * @param <T> the type
     * @return the value; the caller owns its arrays (closing {@code manager} frees them)
     * @throws PosteriorFileException when the bytes are truncated, corrupted, hostile, of another
     *     format or version, or hold another type (its message names a temporary file, which is
     *     removed)
     * @throws IOException when the temporary file cannot be written or read
     * @throws IllegalArgumentException when {@code type} cannot be loaded
     * @throws IllegalStateException when {@code manager} is closed
     * @throws NullPointerException when an argument is null
     */
    public static <T> T fromBytes(byte[] bytes, Class<T> type, NDManager manager)
            throws IOException {
        Checks.notNull(manager, "manager");
        return fromBytes(bytes, type, manager, manager.getDevice());
    }

    /**
     * Loads a value of the expected type from the bytes of a posterior file onto {@code device},
     * owned by {@code manager}, with every check of {@link #load(Path, Class, NDManager, Device)}.
     *
     * @param bytes the bytes of a posterior file; not modified
     * @param type the expected class
     * @param manager the manager that owns every loaded array
     * @param device the device the arrays are created on
     * @param <T> the type
     * @return the value; the caller owns its arrays
     * @throws PosteriorFileException when the bytes are truncated, corrupted, hostile, of another
     *     format or version, or hold another type
     * @throws IOException when the temporary file cannot be written or read
     * @throws IllegalArgumentException when {@code type} cannot be loaded
     * @throws IllegalStateException when {@code manager} is closed
     * @throws NullPointerException when an argument is null
     */
    public static <T> T fromBytes(byte[] bytes, Class<T> type, NDManager manager, Device device)
            throws IOException {
        Checks.notNull(bytes, "bytes");
        Checks.notNull(type, "type");
        Checks.notNull(manager, "manager");
        Checks.notNull(device, "device");
        Codec.checkRootType(type);
        if (!manager.isOpen()) {
            throw new IllegalStateException("manager has been closed");
        }
        Path dir = Files.createTempDirectory("posteriors-bytes");
        Path file = dir.resolve("value.posterior");
        try {
            Files.write(file, bytes);
            return load(file, type, manager, device);
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    private static Codec.Plan plan(Path path, Header header, Class<?> type)
            throws PosteriorFileException {
        String recorded = header.metadata().get(SafetensorsFormat.KEY_TYPE);
        if (!type.getName().equals(recorded)) {
            throw new PosteriorFileException(
                    Problem.TYPE_MISMATCH,
                    Checks.format(
                            "%s: file holds a %s, expected %s",
                            path,
                            recorded == null
                                    ? "value of no recorded type"
                                    : Json.printable(recorded),
                            type.getName()));
        }
        String structure = header.metadata().get(SafetensorsFormat.KEY_STRUCTURE);
        if (structure == null) {
            throw new PosteriorFileException(
                    Problem.STRUCTURE, path + ": metadata has no structure entry");
        }
        Object node;
        try {
            node = Json.parse(structure);
        } catch (Json.SyntaxException e) {
            throw new PosteriorFileException(
                    Problem.JSON, path + ": structure is not valid JSON: " + e.getMessage());
        }
        return new Codec.Planner(path, header.tensors()).root(type, node);
    }

    private static NDArray create(
            NDManager scratch, Entry e, Path path, FileChannel ch, Header header)
            throws IOException {
        Shape shape = new Shape(e.shape());
        if (e.bytes() == 0) {
            return scratch.create(shape, e.dtype().djl);
        }
        ByteBuffer data = SafetensorsFormat.readTensor(path, ch, header, e);
        return scratch.create(data, shape, e.dtype().djl);
    }
}
