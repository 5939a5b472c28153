package io.posteriors.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.TensorTree;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32C;

/** Helpers of the persistence tests: arrays from raw bytes, bitwise comparisons, header surgery. */
final class FileTestSupport {

    /** Every data type a file can hold. */
    static final List<DataType> DTYPES =
            List.of(
                    DataType.FLOAT64,
                    DataType.FLOAT32,
                    DataType.FLOAT16,
                    DataType.INT64,
                    DataType.INT32,
                    DataType.INT8,
                    DataType.UINT8,
                    DataType.BOOLEAN);

    private FileTestSupport() {}

    /**
     * Returns an array whose bytes are random (every bit pattern, NaN payloads and subnormals
     * included; booleans 0 or 1).
     */
    static NDArray randomArray(NDManager m, Random r, DataType t, long... shape) {
        Shape s = new Shape(shape);
        byte[] b = new byte[Math.toIntExact(s.size() * t.getNumOfBytes())];
        r.nextBytes(b);
        if (t == DataType.BOOLEAN) {
            for (int i = 0; i < b.length; i++) {
                b[i] &= 1;
            }
        }
        return fromBytes(m, b, t, shape);
    }

    /** Returns a float64 array of standard normal values drawn from a Java generator. */
    static NDArray fromDoubles(NDManager m, Random r, long... shape) {
        double[] v = new double[Math.toIntExact(new Shape(shape).size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextGaussian();
        }
        return m.create(v, new Shape(shape));
    }

    /** Returns an array with exactly these little-endian bytes. */
    static NDArray fromBytes(NDManager m, byte[] b, DataType t, long... shape) {
        Shape s = new Shape(shape);
        if (b.length == 0) {
            return m.create(s, t);
        }
        ByteBuffer buf = ByteBuffer.allocateDirect(b.length).order(ByteOrder.nativeOrder());
        buf.put(b).flip();
        return m.create(buf, s, t);
    }

    /** Returns the array's bytes in little-endian order. */
    static byte[] bytes(NDArray a) {
        if (a.size() == 0) {
            return new byte[0];
        }
        ByteBuffer b = a.toByteBuffer();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    /** Asserts same data type, shape and bits. */
    static void assertSameBits(NDArray expected, NDArray actual, String what) {
        assertEquals(expected.getDataType(), actual.getDataType(), what + " data type");
        assertEquals(expected.getShape(), actual.getShape(), what + " shape");
        assertArrayEquals(bytes(expected), bytes(actual), what + " bytes");
    }

    /** Asserts same names in the same order and, leaf by leaf, the same bits. */
    static void assertSameBits(TensorTree expected, TensorTree actual, String what) {
        assertEquals(expected.names(), actual.names(), what + " names");
        for (String k : expected.names()) {
            assertSameBits(expected.get(k), actual.get(k), what + " leaf '" + k + "'");
        }
    }

    /** A file split into its parsed header and its data section. */
    static final class Parts {
        final Map<String, Object> header;
        final byte[] data;

        Parts(Map<String, Object> header, byte[] data) {
            this.header = header;
            this.data = data;
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> meta() {
            return (Map<String, Object>) header.get("__metadata__");
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> tensor(String name) {
            return (Map<String, Object>) header.get(name);
        }

        /** Returns the parsed structure description (edit it, then {@link #setStructure}). */
        @SuppressWarnings("unchecked")
        Map<String, Object> structure() throws Json.SyntaxException {
            return (Map<String, Object>) Json.parse((String) meta().get("structure"));
        }

        void setStructure(Object s) {
            meta().put("structure", Json.write(s));
        }

        /** Recomputes the CRC of every tensor from the (possibly edited) data and header. */
        @SuppressWarnings("unchecked")
        void recomputeTensorCrcs() {
            Map<String, Object> crcs = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : header.entrySet()) {
                if (e.getKey().equals("__metadata__")) {
                    continue;
                }
                List<Object> off =
                        (List<Object>) ((Map<String, Object>) e.getValue()).get("data_offsets");
                int b = (int) (long) (Long) off.get(0);
                int end = (int) (long) (Long) off.get(1);
                CRC32C c = new CRC32C();
                c.update(data, b, end - b);
                crcs.put(e.getKey(), SafetensorsFormat.hex((int) c.getValue()));
            }
            meta().put("tensor_crc32c", Json.write(crcs));
        }

        /** Writes the header (padded and sealed with a valid header CRC) and the data. */
        void write(Path file) throws IOException {
            meta().put("header_crc32c", "00000000");
            byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
            int padded = (json.length + 7) / 8 * 8;
            byte[] h = java.util.Arrays.copyOf(json, padded);
            java.util.Arrays.fill(h, json.length, padded, (byte) ' ');
            SafetensorsFormat.seal(h);
            writeRaw(file, h, data);
        }
    }

    /** Writes an 8-byte length, the header bytes as given and the data. */
    static void writeRaw(Path file, byte[] header, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length);
        b.order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).put(header).put(data);
        Files.write(file, b.array());
    }

    /** Reads a file written by this library into its parts. */
    @SuppressWarnings("unchecked")
    static Parts read(Path file) throws IOException, Json.SyntaxException {
        byte[] all = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String json = new String(all, 8, (int) n, StandardCharsets.UTF_8);
        Map<String, Object> header = (Map<String, Object>) Json.parse(json);
        byte[] data = java.util.Arrays.copyOfRange(all, 8 + (int) n, all.length);
        return new Parts(header, data);
    }
}
