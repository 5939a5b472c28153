package io.posteriors.io;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.posteriors.Checks;
import io.posteriors.io.PosteriorFileException.Problem;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * The byte layout of a posterior file: safetensors (an 8-byte little-endian header length, a JSON
 * header, then the tensors' raw little-endian bytes back to back) with the posteriors metadata and
 * CRC32C checksums in the header's {@code __metadata__}. See {@code docs/persistence.md}.
 */
final class SafetensorsFormat {

    /** The value of the {@code format} metadata entry. */
    static final String FORMAT = "posteriors-java";

    /** The format version this library writes and the newest it reads. */
    static final int VERSION = 1;

    /** The largest header accepted, in bytes. */
    static final long MAX_HEADER_BYTES = 16L << 20;

    /** The largest tensor, in bytes (one Java buffer). */
    static final long MAX_TENSOR_BYTES = Integer.MAX_VALUE - 8L;

    /** The largest rank of a tensor. */
    static final int MAX_RANK = 32;

    static final String META = "__metadata__";
    static final String KEY_FORMAT = "format";
    static final String KEY_VERSION = "format_version";
    static final String KEY_LIBRARY = "library_version";
    static final String KEY_TYPE = "type";
    static final String KEY_STRUCTURE = "structure";
    static final String KEY_TENSOR_CRC = "tensor_crc32c";
    static final String KEY_HEADER_CRC = "header_crc32c";

    private static final String ZERO_CRC = "00000000";
    private static final byte[] HEADER_CRC_MARK =
            ("\"" + KEY_HEADER_CRC + "\":\"").getBytes(StandardCharsets.US_ASCII);
    private static final Pattern HEX8 = Pattern.compile("[0-9a-f]{8}");
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_.\\-\\[\\]$]{1,256}");
    private static final int MAX_NAME = 4096;

    private SafetensorsFormat() {}

    /**
     * The element types a file can hold, with their safetensors names. BF16 and I16 are valid
     * safetensors types but are left out: the PyTorch engine of DJL 0.36 aborts the JVM when it
     * creates such an array, so a file that declares them is refused before any array is made.
     */
    enum Dtype {
        F64("F64", DataType.FLOAT64),
        F32("F32", DataType.FLOAT32),
        F16("F16", DataType.FLOAT16),
        I64("I64", DataType.INT64),
        I32("I32", DataType.INT32),
        I8("I8", DataType.INT8),
        U8("U8", DataType.UINT8),
        BOOL("BOOL", DataType.BOOLEAN);

        final String code;
        final DataType djl;
        final int bytes;

        Dtype(String code, DataType djl) {
            this.code = code;
            this.djl = djl;
            this.bytes = djl.getNumOfBytes();
        }

        static Dtype ofCode(String code) {
            for (Dtype d : values()) {
                if (d.code.equals(code)) {
                    return d;
                }
            }
            return null;
        }

        static Dtype of(DataType t) {
            for (Dtype d : values()) {
                if (d.djl == t) {
                    return d;
                }
            }
            return null;
        }
    }

    /**
     * A tensor to write.
     *
     * @param name its key in the file
     * @param array the array (read, never modified or closed)
     */
    record Outgoing(String name, NDArray array) {}

    /**
     * A tensor's entry in a validated header.
     *
     * @param name its key
     * @param dtype its element type
     * @param shape its shape
     * @param begin the offset of its first byte in the data section
     * @param end the offset after its last byte
     * @param crc its recorded CRC32C
     */
    record Entry(String name, Dtype dtype, long[] shape, long begin, long end, int crc) {
        long bytes() {
            return end - begin;
        }
    }

    /**
     * A validated header.
     *
     * @param metadata the {@code __metadata__} entries
     * @param tensors the tensors by name, in file (offset) order
     * @param dataStart the file offset of the data section
     */
    record Header(Map<String, String> metadata, Map<String, Entry> tensors, long dataStart) {}

    /**
     * Returns whether {@code name} is an allowed tensor key: {@code /}-separated segments of 1 to
     * 256 characters from {@code A-Z a-z 0-9 _ . - [ ] $}, none of them {@code .} or {@code ..}, at
     * most 4096 characters in all.
     *
     * @param name the key
     * @return true when allowed
     */
    static boolean validName(String name) {
        if (name.isEmpty() || name.length() > MAX_NAME) {
            return false;
        }
        for (String seg : name.split("/", -1)) {
            if (!validSegment(seg)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Returns whether {@code seg} is an allowed segment of a tensor key (a leaf name or a field
     * name).
     *
     * @param seg the segment
     * @return true when allowed
     */
    static boolean validSegment(String seg) {
        return SEGMENT.matcher(seg).matches() && !seg.equals(".") && !seg.equals("..");
    }

    // ---------------------------------------------------------------- writing

    /**
     * Writes a file: to a temporary file next to {@code target}, flushed to the device, then moved
     * over {@code target} atomically where the file system allows.
     *
     * @param target the file to write
     * @param metadata the metadata (without the checksum entries, which this adds)
     * @param tensors the tensors, in order
     * @throws IOException when writing fails (the temporary file is removed)
     */
    static void write(Path target, Map<String, String> metadata, List<Outgoing> tensors)
            throws IOException {
        List<Dtype> dtypes = new ArrayList<>(tensors.size());
        long[] offsets = new long[tensors.size() + 1];
        for (int k = 0; k < tensors.size(); k++) {
            NDArray a = tensors.get(k).array();
            Dtype d = Dtype.of(a.getDataType());
            if (d == null) {
                throw new IllegalArgumentException(
                        String.format(
                                Locale.ROOT,
                                "tensor '%s' has data type %s, which cannot be saved; supported:"
                                        + " float64, float32, float16, int64, int32, int8, uint8,"
                                        + " boolean",
                                tensors.get(k).name(),
                                a.getDataType()));
            }
            if (a.getShape().dimension() > MAX_RANK) {
                throw new IllegalArgumentException(
                        String.format(
                                Locale.ROOT,
                                "tensor '%s' has rank %d; at most %d can be saved",
                                tensors.get(k).name(),
                                a.getShape().dimension(),
                                MAX_RANK));
            }
            dtypes.add(d);
            long bytes = Math.multiplyExact(a.getShape().size(), d.bytes);
            offsets[k + 1] = Math.addExact(offsets[k], bytes);
        }
        String[] crcs = new String[tensors.size()];
        java.util.Arrays.fill(crcs, ZERO_CRC);
        byte[] placeholder = header(metadata, tensors, dtypes, offsets, crcs);

        Path dir = target.toAbsolutePath().getParent();
        // opened directly rather than by Files.createTempFile, whose owner-only permissions would
        // stay on the saved file; the random suffix keeps concurrent writers apart
        Path tmp =
                dir.resolve(
                        Checks.format(
                                ".%s.%016x.tmp",
                                target.getFileName(),
                                java.util.concurrent.ThreadLocalRandom.current().nextLong()));
        boolean done = false;
        try {
            try (FileChannel ch =
                    FileChannel.open(
                            tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
                long dataStart = 8L + placeholder.length;
                for (int k = 0; k < tensors.size(); k++) {
                    crcs[k] =
                            hex(
                                    writeTensor(
                                            ch,
                                            tensors.get(k).array(),
                                            dtypes.get(k),
                                            dataStart + offsets[k],
                                            offsets[k + 1] - offsets[k]));
                }
                byte[] header = header(metadata, tensors, dtypes, offsets, crcs);
                if (header.length != placeholder.length) {
                    throw new IllegalStateException("header length changed while writing");
                }
                ByteBuffer head = ByteBuffer.allocate(8 + header.length);
                head.order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).put(header).flip();
                writeFully(ch, head, 0);
                ch.force(true);
            }
            try {
                Files.move(
                        tmp,
                        target,
                        StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Builds the header bytes, padded with spaces to a multiple of 8 and sealed by its CRC. */
    private static byte[] header(
            Map<String, String> metadata,
            List<Outgoing> tensors,
            List<Dtype> dtypes,
            long[] offsets,
            String[] crcs) {
        Map<String, Object> crcMap = new LinkedHashMap<>();
        for (int k = 0; k < tensors.size(); k++) {
            crcMap.put(tensors.get(k).name(), crcs[k]);
        }
        Map<String, Object> meta = new LinkedHashMap<>(metadata);
        meta.put(KEY_TENSOR_CRC, Json.write(crcMap));
        meta.put(KEY_HEADER_CRC, ZERO_CRC);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put(META, meta);
        for (int k = 0; k < tensors.size(); k++) {
            NDArray a = tensors.get(k).array();
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("dtype", dtypes.get(k).code);
            List<Object> shape = new ArrayList<>();
            for (long s : a.getShape().getShape()) {
                shape.add(s);
            }
            e.put("shape", shape);
            e.put("data_offsets", List.of(offsets[k], offsets[k + 1]));
            root.put(tensors.get(k).name(), e);
        }
        byte[] json = Json.write(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] bytes = java.util.Arrays.copyOf(json, padded);
        java.util.Arrays.fill(bytes, json.length, padded, (byte) ' ');
        return seal(bytes);
    }

    /**
     * Writes the CRC32C of {@code header} (computed with its {@code header_crc32c} value set to
     * eight zeros) into that value, in place.
     *
     * @param header header bytes holding exactly one {@code "header_crc32c":"........"}
     * @return {@code header}
     */
    static byte[] seal(byte[] header) {
        int at = markAt(header);
        if (at < 0) {
            throw new IllegalStateException("header has no single header_crc32c entry");
        }
        byte[] zeros = ZERO_CRC.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(zeros, 0, header, at, 8);
        CRC32C crc = new CRC32C();
        crc.update(header);
        byte[] h = hex((int) crc.getValue()).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(h, 0, header, at, 8);
        return header;
    }

    /** Returns the offset of the 8 hex digits after the only header-CRC key, or -1. */
    private static int markAt(byte[] header) {
        int found = -1;
        outer:
        for (int i = 0; i + HEADER_CRC_MARK.length + 9 <= header.length; i++) {
            for (int j = 0; j < HEADER_CRC_MARK.length; j++) {
                if (header[i + j] != HEADER_CRC_MARK[j]) {
                    continue outer;
                }
            }
            if (found >= 0) {
                return -1;
            }
            found = i + HEADER_CRC_MARK.length;
        }
        if (found >= 0 && header[found + 8] != '"') {
            return -1;
        }
        return found;
    }

    private static int writeTensor(
            FileChannel ch, NDArray array, Dtype dtype, long position, long bytes)
            throws IOException {
        if (bytes == 0) {
            return (int) new CRC32C().getValue();
        }
        // temporaries made for the copy (a host copy, a contiguous copy) are freed with the scope;
        // the array itself goes back to its manager
        try (NDManager scope = NDManager.subManagerOf(array)) {
            scope.tempAttachAll(array);
            NDArray host =
                    array.getDevice().equals(Device.cpu())
                            ? array
                            : array.toDevice(Device.cpu(), false);
            ByteBuffer data = host.toByteBuffer(true);
            data = littleEndian(data, dtype.bytes);
            if (data.remaining() != bytes) {
                throw new IllegalStateException(
                        "array gave " + data.remaining() + " bytes, expected " + bytes);
            }
            CRC32C crc = new CRC32C();
            crc.update(data.duplicate());
            writeFully(ch, data, position);
            return (int) crc.getValue();
        }
    }

    private static ByteBuffer littleEndian(ByteBuffer data, int width) {
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN || width == 1) {
            return data;
        }
        ByteBuffer out = ByteBuffer.allocateDirect(data.remaining());
        byte[] el = new byte[width];
        ByteBuffer src = data.duplicate();
        while (src.hasRemaining()) {
            src.get(el);
            for (int j = width - 1; j >= 0; j--) {
                out.put(el[j]);
            }
        }
        return out.flip();
    }

    private static void writeFully(FileChannel ch, ByteBuffer data, long position)
            throws IOException {
        long p = position;
        while (data.hasRemaining()) {
            p += ch.write(data, p);
        }
    }

    static String hex(int crc) {
        return String.format(Locale.ROOT, "%08x", crc);
    }

    // ---------------------------------------------------------------- reading

    private static PosteriorFileException fail(Path file, Problem p, String fmt, Object... args) {
        return new PosteriorFileException(p, file + ": " + String.format(Locale.ROOT, fmt, args));
    }

    /**
     * Reads and validates the header: lengths, JSON, format and version, the header checksum, every
     * tensor entry (name, dtype, shape, size) and the byte ranges (contiguous from 0 to the end of
     * the file, no overlaps, gaps, overflow or trailing bytes). Allocates at most the header's
     * size.
     *
     * @param file the file, for messages
     * @param ch an open channel on it
     * @return the header
     * @throws PosteriorFileException when a check fails
     * @throws IOException when reading fails
     */
    static Header readHeader(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw fail(
                    file,
                    Problem.TRUNCATED,
                    "file is %d bytes, too short for the 8-byte header length",
                    size);
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, ch, lenBuf, 0);
        long n = lenBuf.flip().getLong();
        if (n < 2 || n > MAX_HEADER_BYTES) {
            throw fail(
                    file,
                    Problem.HEADER_LENGTH,
                    "header length must be between 2 and %d bytes, got %d",
                    MAX_HEADER_BYTES,
                    n);
        }
        if (n > size - 8) {
            throw fail(
                    file,
                    Problem.TRUNCATED,
                    "header length %d exceeds the %d bytes that follow it",
                    n,
                    size - 8);
        }
        ByteBuffer hb = ByteBuffer.allocate((int) n);
        readFully(file, ch, hb, 8);
        byte[] bytes = hb.array();
        // checked first, so that a corrupted header is reported as such, whatever it broke
        String sealedWith = verifyHeaderCrc(file, bytes);
        String text;
        try {
            CharBuffer cb =
                    StandardCharsets.UTF_8
                            .newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
                            .decode(ByteBuffer.wrap(bytes));
            text = cb.toString();
        } catch (CharacterCodingException e) {
            throw fail(file, Problem.JSON, "header is not valid UTF-8");
        }
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (Json.SyntaxException e) {
            throw fail(file, Problem.JSON, "header is not valid JSON: %s", e.getMessage());
        }
        if (!(parsed instanceof Map<?, ?>)) {
            throw fail(file, Problem.JSON, "header must be a JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> root = (Map<String, Object>) parsed;
        Map<String, String> meta = metadata(file, root.get(META));
        checkFormat(file, meta);
        if (sealedWith == null || !sealedWith.equals(meta.get(KEY_HEADER_CRC))) {
            throw fail(
                    file,
                    Problem.HEADER_CHECKSUM,
                    "header must hold exactly one \"header_crc32c\":\"<8 hex digits>\" entry"
                            + " in its metadata");
        }
        Map<String, Integer> crcs = tensorCrcs(file, meta);

        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, Object> e : root.entrySet()) {
            if (e.getKey().equals(META)) {
                continue;
            }
            entries.add(entry(file, e.getKey(), e.getValue(), crcs));
        }
        for (String name : crcs.keySet()) {
            if (!root.containsKey(name)) {
                throw fail(
                        file,
                        Problem.TENSOR_ENTRY,
                        "checksum recorded for tensor '%s', which the file does not hold",
                        Json.printable(name));
            }
        }
        long dataStart = 8 + n;
        long dataLength = size - dataStart;
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        for (Entry e : byOffset) {
            if (e.begin() != expected) {
                throw fail(
                        file,
                        Problem.OFFSETS,
                        "tensor '%s' starts at data offset %d, expected %d (%s)",
                        e.name(),
                        e.begin(),
                        expected,
                        e.begin() < expected ? "it overlaps the previous tensor" : "a gap");
            }
            expected = e.end();
        }
        if (expected > dataLength) {
            throw fail(
                    file,
                    Problem.TRUNCATED,
                    "tensors need %d bytes of data, the file holds %d",
                    expected,
                    dataLength);
        }
        if (expected < dataLength) {
            throw fail(
                    file,
                    Problem.OFFSETS,
                    "file has %d bytes after the last tensor",
                    dataLength - expected);
        }
        Map<String, Entry> tensors = new LinkedHashMap<>();
        byOffset.forEach(e -> tensors.put(e.name(), e));
        return new Header(meta, tensors, dataStart);
    }

    private static Map<String, String> metadata(Path file, Object m) throws IOException {
        if (!(m instanceof Map<?, ?> map)) {
            throw fail(
                    file, Problem.FORMAT, "header has no %s object: not a %s file", META, FORMAT);
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String v)) {
                throw fail(
                        file,
                        Problem.FORMAT,
                        "metadata entry '%s' must be a string",
                        Json.printable((String) e.getKey()));
            }
            out.put((String) e.getKey(), v);
        }
        return out;
    }

    private static void checkFormat(Path file, Map<String, String> meta) throws IOException {
        String format = meta.get(KEY_FORMAT);
        if (!FORMAT.equals(format)) {
            throw fail(
                    file,
                    Problem.FORMAT,
                    "metadata format must be '%s', got %s: not a posterior file",
                    FORMAT,
                    format == null ? "none" : "'" + Json.printable(format) + "'");
        }
        String v = meta.get(KEY_VERSION);
        if (v == null || !v.matches("[1-9][0-9]{0,8}")) {
            throw fail(
                    file,
                    Problem.VERSION,
                    "format_version must be a positive integer, got %s",
                    v == null ? "none" : "'" + Json.printable(v) + "'");
        }
        int version = Integer.parseInt(v);
        if (version > VERSION) {
            throw fail(
                    file,
                    Problem.VERSION,
                    "format_version %d is newer than this library reads (%d); update the library",
                    version,
                    VERSION);
        }
    }

    /**
     * Checks the header CRC when the header holds one {@code "header_crc32c":"........"} entry.
     *
     * @return the recorded value, or null when there is no single such entry
     */
    private static String verifyHeaderCrc(Path file, byte[] bytes) throws IOException {
        byte[] copy = bytes.clone();
        int at = markAt(copy);
        if (at < 0) {
            return null;
        }
        String recorded = new String(copy, at, 8, StandardCharsets.ISO_8859_1);
        if (!HEX8.matcher(recorded).matches()) {
            throw fail(
                    file,
                    Problem.HEADER_CHECKSUM,
                    "header_crc32c must be 8 lower-case hex digits, got '%s'",
                    Json.printable(recorded));
        }
        seal(copy);
        String computed = new String(copy, at, 8, StandardCharsets.US_ASCII);
        if (!computed.equals(recorded)) {
            throw fail(
                    file,
                    Problem.HEADER_CHECKSUM,
                    "header checksum mismatch: recorded %s, computed %s; the header is corrupted",
                    recorded,
                    computed);
        }
        return recorded;
    }

    private static Map<String, Integer> tensorCrcs(Path file, Map<String, String> meta)
            throws IOException {
        String s = meta.get(KEY_TENSOR_CRC);
        if (s == null) {
            throw fail(file, Problem.FORMAT, "metadata has no %s entry", KEY_TENSOR_CRC);
        }
        Object parsed;
        try {
            parsed = Json.parse(s);
        } catch (Json.SyntaxException e) {
            throw fail(
                    file, Problem.JSON, "%s is not valid JSON: %s", KEY_TENSOR_CRC, e.getMessage());
        }
        if (!(parsed instanceof Map<?, ?> m)) {
            throw fail(file, Problem.JSON, "%s must be a JSON object", KEY_TENSOR_CRC);
        }
        Map<String, Integer> out = new HashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            String name = (String) e.getKey();
            if (!(e.getValue() instanceof String v) || !HEX8.matcher(v).matches()) {
                throw fail(
                        file,
                        Problem.TENSOR_ENTRY,
                        "checksum of tensor '%s' must be 8 lower-case hex digits",
                        Json.printable(name));
            }
            out.put(name, Integer.parseUnsignedInt(v, 16));
        }
        return out;
    }

    private static Entry entry(Path file, String name, Object value, Map<String, Integer> crcs)
            throws IOException {
        if (!validName(name)) {
            throw fail(
                    file,
                    Problem.NAME,
                    "tensor name '%s' is not allowed: names are /-separated segments of"
                            + " A-Z a-z 0-9 _ . - [ ] $, none of them . or ..",
                    Json.printable(name));
        }
        if (!(value instanceof Map<?, ?> m)) {
            throw fail(file, Problem.TENSOR_ENTRY, "tensor '%s' entry must be an object", name);
        }
        if (m.size() != 3
                || !m.containsKey("dtype")
                || !m.containsKey("shape")
                || !m.containsKey("data_offsets")) {
            throw fail(
                    file,
                    Problem.TENSOR_ENTRY,
                    "tensor '%s' entry must have exactly dtype, shape and data_offsets, got %s",
                    name,
                    Json.printable(String.valueOf(m.keySet())));
        }
        Dtype dtype = m.get("dtype") instanceof String code ? Dtype.ofCode(code) : (Dtype) null;
        if (dtype == null) {
            throw fail(
                    file,
                    Problem.TENSOR_ENTRY,
                    "tensor '%s' has dtype %s, which this library does not read; known: F64 F32"
                            + " F16 I64 I32 I8 U8 BOOL",
                    name,
                    Json.printable(String.valueOf(m.get("dtype"))));
        }
        if (!(m.get("shape") instanceof List<?> shapeList) || shapeList.size() > MAX_RANK) {
            throw fail(
                    file,
                    Problem.TENSOR_ENTRY,
                    "tensor '%s' shape must be a list of at most %d integers",
                    name,
                    MAX_RANK);
        }
        long[] shape = new long[shapeList.size()];
        long count = 1;
        for (int k = 0; k < shape.length; k++) {
            if (!(shapeList.get(k) instanceof Long d) || d < 0) {
                throw fail(
                        file,
                        Problem.TENSOR_ENTRY,
                        "tensor '%s' shape %s must hold non-negative integers",
                        name,
                        Json.printable(shapeList.toString()));
            }
            shape[k] = d;
            try {
                count = Math.multiplyExact(count, d);
            } catch (ArithmeticException ex) {
                throw fail(
                        file,
                        Problem.TENSOR_ENTRY,
                        "tensor '%s' shape %s has more elements than a long holds",
                        name,
                        shapeList);
            }
        }
        if (count > Integer.MAX_VALUE || count * dtype.bytes > MAX_TENSOR_BYTES) {
            throw fail(
                    file,
                    Problem.TENSOR_ENTRY,
                    "tensor '%s' shape %s of %s is too large (%d elements; at most %d bytes per"
                            + " tensor)",
                    name,
                    shapeList,
                    dtype.code,
                    count,
                    MAX_TENSOR_BYTES);
        }
        long bytes = count * dtype.bytes;
        if (!(m.get("data_offsets") instanceof List<?> off)
                || off.size() != 2
                || !(off.get(0) instanceof Long begin)
                || !(off.get(1) instanceof Long end)) {
            throw fail(
                    file,
                    Problem.TENSOR_ENTRY,
                    "tensor '%s' data_offsets must be two integers [begin, end]",
                    name);
        }
        if (begin < 0 || end < begin || end - begin != bytes) {
            throw fail(
                    file,
                    Problem.OFFSETS,
                    "tensor '%s' data_offsets [%d, %d] must span its %d bytes (%s x %d)",
                    name,
                    begin,
                    end,
                    bytes,
                    shapeList,
                    dtype.bytes);
        }
        Integer crc = crcs.get(name);
        if (crc == null) {
            throw fail(file, Problem.TENSOR_ENTRY, "tensor '%s' has no recorded checksum", name);
        }
        return new Entry(name, dtype, shape, begin, end, crc);
    }

    /**
     * Reads one tensor's bytes into a new direct little-endian buffer and checks its CRC32C (and,
     * for booleans, that every byte is 0 or 1). The buffer's size was validated against the file.
     *
     * @param file the file, for messages
     * @param ch the channel
     * @param header the validated header
     * @param e the tensor
     * @return the bytes, in native order
     * @throws PosteriorFileException when the checksum or a boolean fails
     * @throws IOException when reading fails
     */
    static ByteBuffer readTensor(Path file, FileChannel ch, Header header, Entry e)
            throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect((int) e.bytes());
        readFully(file, ch, buf, header.dataStart() + e.begin());
        buf.flip();
        CRC32C crc = new CRC32C();
        crc.update(buf.duplicate());
        int got = (int) crc.getValue();
        if (got != e.crc()) {
            throw fail(
                    file,
                    Problem.TENSOR_CHECKSUM,
                    "tensor '%s' checksum mismatch: recorded %s, computed %s; its data is"
                            + " corrupted",
                    e.name(),
                    hex(e.crc()),
                    hex(got));
        }
        if (e.dtype() == Dtype.BOOL) {
            for (int k = 0; k < buf.limit(); k++) {
                byte b = buf.get(k);
                if (b != 0 && b != 1) {
                    throw fail(
                            file,
                            Problem.VALUE,
                            "tensor '%s' of dtype BOOL holds byte %d at element %d; only 0 and 1"
                                    + " are booleans",
                            e.name(),
                            b,
                            k);
                }
            }
        }
        return littleEndian(buf, e.dtype().bytes).order(ByteOrder.nativeOrder());
    }

    private static void readFully(Path file, FileChannel ch, ByteBuffer buf, long position)
            throws IOException {
        long p = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, p);
            if (r < 0) {
                throw fail(
                        file,
                        Problem.TRUNCATED,
                        "file ended at byte %d while reading; it was truncated while being read",
                        p);
            }
            p += r;
        }
    }
}
