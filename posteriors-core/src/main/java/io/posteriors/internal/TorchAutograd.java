package io.posteriors.internal;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Reverse-mode products through {@code torch.autograd.grad}, reached from Java through a small
 * TorchScript module.
 *
 * <p>Why not {@code backward()}: a backward pass accumulates into the leaves' {@code .grad}, and
 * with {@code create_graph} that gradient holds the graph that holds the leaf, a reference cycle
 * that libtorch never frees (about 2 MB per Hessian-vector product on an MLP here). {@code
 * torch.autograd.grad} returns the gradients instead of storing them, so no cycle forms and every
 * array is freed when its handle is closed.
 *
 * <p>The module is written at first use as a TorchScript archive (a zip of the source {@code
 * code/__torch__.py}, a pickled object {@code data.pkl}, {@code constants.pkl} and {@code version})
 * which libtorch compiles on load. Its methods run with the caller's autograd mode, so callers wrap
 * graph building in {@link #withGrad}.
 */
public final class TorchAutograd {

    private static volatile PtSymbolBlock module;

    private TorchAutograd() {}

    /**
     * Runs {@code body} with autograd recording on for this thread, restoring the previous mode.
     *
     * @param body the computation
     * @param <T> its result type
     * @return the result of {@code body}
     */
    public static <T> T withGrad(Supplier<T> body) {
        boolean previous = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        try {
            return body.get();
        } finally {
            JniUtils.setGradMode(previous);
        }
    }

    /**
     * Runs {@code body} with autograd recording off for this thread, restoring the previous mode:
     * for arithmetic the library does outside any graph (analytic gradients, in-place updates).
     *
     * @param body the computation
     * @param <T> its result type
     * @return the result of {@code body}
     */
    public static <T> T withoutGrad(Supplier<T> body) {
        boolean previous = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            return body.get();
        } finally {
            JniUtils.setGradMode(previous);
        }
    }

    /**
     * Returns the gradient of a scalar with respect to leaves made for this call, by one plain
     * backward pass: about twice as cheap as the TorchScript route for small functions. The
     * gradients accumulate into the leaves' {@code .grad}, which holds no graph (no {@code
     * create_graph}) and is freed with the leaves, so the caller must own the leaves (close them
     * with its scope) and must not differentiate through the result.
     *
     * @param value the scalar (part of a recorded graph)
     * @param leaves arrays that require gradients and were created for this call
     * @return one gradient per leaf, zeros for a leaf the value does not use
     */
    public static NDList backward(NDArray value, List<NDArray> leaves) {
        JniUtils.backward((PtNDArray) value, (PtNDArray) value.onesLike(), false, false);
        NDList out = new NDList(leaves.size());
        for (NDArray leaf : leaves) {
            PtNDArray g = JniUtils.getGradient((PtNDArray) leaf);
            out.add(g == null ? leaf.zerosLike() : g);
        }
        return out;
    }

    /**
     * Returns the vector-Jacobian product {@code sum_k vs[k]^T d ys[k] / d xs}, one array per
     * input, with zeros for inputs that do not reach the outputs.
     *
     * @param ys the outputs (part of a recorded graph)
     * @param xs the inputs (leaves requiring gradients, or intermediate arrays of the graph)
     * @param vs cotangents, one per output, with the outputs' shapes
     * @param createGraph whether the result itself is differentiable (for second order)
     * @param scope the manager that owns the results
     * @return the products, on {@code scope}
     */
    public static NDList vjp(
            List<NDArray> ys,
            List<NDArray> xs,
            List<NDArray> vs,
            boolean createGraph,
            NDManager scope) {
        return call(createGraph ? "vjp_graph" : "vjp", scope, ys, xs, vs);
    }

    /**
     * Returns the Jacobian of a vector {@code y} (length n) with respect to each input, as arrays
     * of shape {@code (n, *input shape)}: row i is the gradient of {@code y[i]}.
     *
     * @param y the output vector
     * @param xs the inputs
     * @param scope the manager that owns the results
     * @return the Jacobians, on {@code scope}
     */
    public static NDList jacobian(NDArray y, List<NDArray> xs, NDManager scope) {
        return call("jacobian", scope, List.of(y), xs);
    }

    /**
     * Runs a method of the TorchScript module with up to three lists of arrays as its arguments,
     * under the caller's autograd mode.
     *
     * @param method the method name
     * @param scope the manager that owns the results
     * @param lists the argument lists
     * @return the results, on {@code scope}
     */
    @SafeVarargs
    public static NDList call(String method, NDManager scope, List<NDArray>... lists) {
        PtSymbolBlock m = module();
        NDList inputs = new NDList();
        NDArray selector = scope.create(0f);
        selector.setName("module_method:" + method);
        inputs.add(selector);
        String[] names = {"ys[]", "xs[]", "vs[]"};
        String[] saved = new String[0];
        int total = 0;
        for (List<NDArray> l : lists) {
            total += l.size();
        }
        saved = new String[total];
        int k = 0;
        for (int i = 0; i < lists.length; i++) {
            for (NDArray a : lists[i]) {
                saved[k++] = a.getName();
                a.setName(names[i]);
                inputs.add(a);
            }
        }
        try {
            return IValueUtils.forward(m, inputs, true);
        } finally {
            k = 0;
            for (List<NDArray> l : lists) {
                for (NDArray a : l) {
                    a.setName(saved[k++]);
                }
            }
            selector.close();
        }
    }

    private static PtSymbolBlock module() {
        PtSymbolBlock m = module;
        if (m == null) {
            synchronized (TorchAutograd.class) {
                m = module;
                if (m == null) {
                    m = load();
                    module = m;
                }
            }
        }
        return m;
    }

    private static PtSymbolBlock load() {
        try {
            Path archive = Files.createTempFile("posteriors-autodiff", ".pt");
            try {
                writeArchive(archive);
                NDManager owner = NDManager.newBaseManager(Device.cpu(), "PyTorch");
                return JniUtils.loadModule(
                        (PtNDManager) owner, archive, true, new String[0], new String[0], false);
            } finally {
                Files.deleteIfExists(archive);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the TorchScript autograd module", e);
        }
    }

    private static void writeArchive(Path archive) throws IOException {
        byte[] source;
        try (InputStream in = TorchAutograd.class.getResourceAsStream("autodiff.py")) {
            if (in == null) {
                throw new IOException("resource io/posteriors/internal/autodiff.py is missing");
            }
            source = in.readAllBytes();
        }
        try (OutputStream os = Files.newOutputStream(archive);
                ZipOutputStream zip = new ZipOutputStream(os)) {
            stored(zip, "autodiff/version", "3\n".getBytes(StandardCharsets.US_ASCII));
            stored(zip, "autodiff/code/__torch__.py", source);
            stored(zip, "autodiff/data.pkl", moduleObjectPickle());
            // an empty tuple: the module has no constants
            stored(zip, "autodiff/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
        }
    }

    /** Pickle (protocol 2) of an instance of {@code __torch__.Autodiff} with training = True. */
    private static byte[] moduleObjectPickle() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x80); // PROTO
        b.write(2);
        byte[] global = "c__torch__\nAutodiff\n".getBytes(StandardCharsets.US_ASCII);
        b.write(global, 0, global.length); // GLOBAL module, class
        b.write(')'); // EMPTY_TUPLE
        b.write(0x81); // NEWOBJ
        b.write('}'); // EMPTY_DICT
        b.write('('); // MARK
        byte[] key = "training".getBytes(StandardCharsets.US_ASCII);
        b.write('X'); // BINUNICODE
        b.write(new byte[] {(byte) key.length, 0, 0, 0}, 0, 4);
        b.write(key, 0, key.length);
        b.write(0x88); // NEWTRUE
        b.write('u'); // SETITEMS
        b.write('b'); // BUILD
        b.write('.'); // STOP
        return b.toByteArray();
    }

    private static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }
}
