package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * Turns a function of a whole batch into one that returns a value per sample: posteriors' {@code
 * per_samplify}, which evaluates the function on each sample of the batch as a batch of one (the
 * mean over one sample is that sample's value).
 *
 * <p>This is what the methods with a {@code perSample} option (the empirical-Fisher Laplace
 * transforms, the extended Kalman filters) do when {@code perSample} is false: the user writes the
 * log density of a batch, returning a scalar, and the method differentiates the vector this class
 * builds from it to get per-sample gradients.
 *
 * <p>posteriors maps over the leading dimension of every tensor in the batch ({@code torch.vmap}).
 * Here {@link #split} does the same for a batch that is an {@link NDArray}, an {@link NDList}, a
 * {@link TensorTree}, a {@link List} or a record, recursively: it slices every array along
 * dimension 0 (keeping that dimension, with size 1) and passes anything that is not an array
 * (numbers, strings, host arrays) through unchanged. Other batch types, and batches whose arrays
 * are not all indexed by sample along dimension 0, need a splitter from the caller.
 *
 * <p>The generic form calls the function once per sample; a function that already returns one value
 * per sample is faster. A {@link ModelLogPosterior} knows its per-sample form exactly, so it is
 * returned in that form ({@link ModelLogPosterior#perSample()}), which also keeps the fast path of
 * {@link Autodiff#perSampleGradMoments}.
 *
 * <pre>{@code
 * LogProbFn<Batch> meanLogLik = (p, b) -> LogProb.of(logLik(p, b).mean());
 * LogProbFn<Batch> perSampleLogLik = PerSample.perSamplify(meanLogLik);  // returns shape (n)
 * Autodiff.ValueAndGrad vg = Autodiff.perSampleValueAndGrad(perSampleLogLik, params, batch);
 * }</pre>
 */
public final class PerSample {

    private PerSample() {}

    /**
     * Returns the per-sample form of {@code f}, splitting batches with {@link #split}: entry i of
     * its value is {@code f} evaluated on the batch holding sample i alone, and its aux arrays are
     * those of the calls stacked along a new dimension 0. A function with a known {@linkplain
     * LogProbFn#structure() structure} is returned as {@link ModelLogPosterior#perSample()}.
     *
     * @param f a function returning a scalar for any batch
     * @param <B> the batch type
     * @return the per-sample function; it throws {@link IllegalArgumentException} when a batch
     *     cannot be split, or {@code f} returns something other than a scalar for a one-sample
     *     batch, or the aux arrays of the samples differ in number or shape
     * @throws NullPointerException when {@code f} is null
     */
    public static <B> LogProbFn<B> perSamplify(LogProbFn<B> f) {
        return perSamplify(f, PerSample::split);
    }

    /**
     * Returns the per-sample form of {@code f}, splitting batches with {@code splitter}: entry i of
     * its value is {@code f} evaluated on the i-th batch the splitter returns, and its aux arrays
     * are those of the calls stacked along a new dimension 0. A function with a known {@linkplain
     * LogProbFn#structure() structure} is returned as {@link ModelLogPosterior#perSample()} (exact,
     * whatever the splitter).
     *
     * @param f a function returning a scalar for any batch
     * @param splitter splits a batch into its one-sample batches, in order
     * @param <B> the batch type
     * @return the per-sample function; it throws {@link IllegalArgumentException} when the splitter
     *     returns no batch, or {@code f} returns something other than a scalar for a one-sample
     *     batch, or the aux arrays of the samples differ in number or shape
     * @throws NullPointerException when an argument is null
     */
    public static <B> LogProbFn<B> perSamplify(LogProbFn<B> f, Function<B, List<B>> splitter) {
        Checks.notNull(f, "f");
        Checks.notNull(splitter, "splitter");
        Optional<ModelLogPosterior<B>> structured = f.structure();
        if (structured.isPresent()) {
            return structured.get().perSample();
        }
        return (params, batch) -> {
            List<B> parts = splitter.apply(batch);
            if (parts == null || parts.isEmpty()) {
                throw new IllegalArgumentException(
                        "the batch splitter must return at least one one-sample batch, got "
                                + (parts == null ? "null" : "none"));
            }
            NDList values = new NDList(parts.size());
            List<NDList> auxes = new ArrayList<>(parts.size());
            for (int i = 0; i < parts.size(); i++) {
                LogProb lp = f.apply(params, parts.get(i));
                if (lp == null) {
                    throw new IllegalArgumentException("log probability function returned null");
                }
                if (lp.value().getShape().dimension() != 0) {
                    throw new IllegalArgumentException(
                            Checks.format(
                                    "evaluated per sample (perSample false) the function must"
                                            + " return a scalar for a one-sample batch, got shape"
                                            + " %s for sample %d; reduce over the batch (mean) or,"
                                            + " if it already returns one value per sample, set"
                                            + " perSample(true)",
                                    lp.value().getShape(), i));
                }
                values.add(lp.value());
                auxes.add(lp.aux());
            }
            return new LogProb(NDArrays.stack(values), stackAux(auxes));
        };
    }

    /**
     * Returns the per-sample form of a function under posteriors' {@code per_sample} flag: the
     * per-sample form of its {@linkplain LogProbFn#structure() structure} when it has one (whatever
     * the flag says), otherwise {@code f} itself when {@code perSample} is true (it already returns
     * one value per sample), and otherwise {@link #perSamplify(LogProbFn, Function)} with the
     * splitter, or {@link #perSamplify(LogProbFn)} when the splitter is null.
     *
     * @param f the function
     * @param perSample whether {@code f} returns one value per sample
     * @param splitter splits a batch into one-sample batches, or null for {@link #split}
     * @param <B> the batch type
     * @return a function returning one value per sample
     * @throws NullPointerException when {@code f} is null
     */
    public static <B> LogProbFn<B> perSampleForm(
            LogProbFn<B> f, boolean perSample, Function<B, List<B>> splitter) {
        Checks.notNull(f, "f");
        Optional<ModelLogPosterior<B>> structured = f.structure();
        if (structured.isPresent()) {
            return structured.get().perSample();
        }
        if (perSample) {
            return f;
        }
        return splitter == null ? perSamplify(f) : perSamplify(f, splitter);
    }

    private static NDList stackAux(List<NDList> auxes) {
        int k = auxes.get(0).size();
        for (NDList a : auxes) {
            if (a.size() != k) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "the aux of every sample must have the same number of arrays, got"
                                        + " %d and %d",
                                k, a.size()));
            }
        }
        NDList out = new NDList(k);
        for (int j = 0; j < k; j++) {
            NDList column = new NDList(auxes.size());
            for (NDList a : auxes) {
                if (!a.get(j).getShape().equals(auxes.get(0).get(j).getShape())) {
                    throw new IllegalArgumentException(
                            Checks.format(
                                    "aux array %d must have the same shape for every sample, got"
                                            + " %s and %s",
                                    j, auxes.get(0).get(j).getShape(), a.get(j).getShape()));
                }
                column.add(a.get(j));
            }
            out.add(NDArrays.stack(column));
        }
        return out;
    }

    /**
     * Splits a batch into one-sample batches by slicing every array it holds along dimension 0 (the
     * slices keep that dimension, with size 1). An {@link NDArray}, {@link NDList}, {@link
     * TensorTree}, {@link List} (returned unmodifiable) or record is rebuilt with its arrays
     * sliced, recursively; other values are shared by every part. The slices are new arrays on the
     * managers of the originals.
     *
     * @param batch the batch
     * @param <B> the batch type
     * @return the one-sample batches, in order
     * @throws IllegalArgumentException when the batch holds no array, an array without a leading
     *     dimension, arrays whose leading dimensions differ, or a record that cannot be rebuilt
     */
    public static <B> List<B> split(B batch) {
        long n = sampleCountOrThrow(batch);
        List<B> out = new ArrayList<>((int) n);
        for (long i = 0; i < n; i++) {
            @SuppressWarnings("unchecked")
            B part = (B) slice(batch, i);
            out.add(part);
        }
        return out;
    }

    /**
     * Returns the number of samples of a batch when every array that {@link #split} would slice has
     * the same leading dimension, and nothing otherwise (the batch holds no array, a scalar array,
     * or arrays that disagree).
     *
     * @param batch the batch
     * @return the sample count, if it is known
     */
    public static OptionalLong sampleCount(Object batch) {
        try {
            return OptionalLong.of(sampleCountOrThrow(batch));
        } catch (IllegalArgumentException e) {
            return OptionalLong.empty();
        }
    }

    private static long sampleCountOrThrow(Object batch) {
        Map<String, Long> dims = new LinkedHashMap<>();
        collect(batch, "batch", dims);
        if (dims.isEmpty()) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "cannot split a batch of type %s into samples: it holds no NDArray"
                                    + " (supported: NDArray, NDList, TensorTree, List and records"
                                    + " of these); pass batchSplitter(...) or a per-sample"
                                    + " function with perSample(true)",
                            batch == null ? "null" : batch.getClass().getName()));
        }
        Map.Entry<String, Long> first = dims.entrySet().iterator().next();
        for (Map.Entry<String, Long> e : dims.entrySet()) {
            if (!e.getValue().equals(first.getValue())) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "cannot split the batch into samples: %s has leading dimension %d"
                                        + " but %s has %d; pass batchSplitter(...)",
                                first.getKey(), first.getValue(), e.getKey(), e.getValue()));
            }
        }
        return first.getValue();
    }

    private static void collect(Object o, String path, Map<String, Long> dims) {
        if (o instanceof NDArray a) {
            if (a.getShape().dimension() == 0) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "cannot split the batch into samples: %s is a scalar (shape ())"
                                        + " with no sample dimension; pass batchSplitter(...)",
                                path));
            }
            dims.put(path, a.getShape().get(0));
        } else if (o instanceof NDList l) {
            for (int i = 0; i < l.size(); i++) {
                collect(l.get(i), path + "[" + i + "]", dims);
            }
        } else if (o instanceof TensorTree t) {
            t.forEach((k, a) -> collect(a, path + "." + k, dims));
        } else if (o instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                collect(l.get(i), path + "[" + i + "]", dims);
            }
        } else if (o != null && o.getClass().isRecord()) {
            for (RecordComponent c : o.getClass().getRecordComponents()) {
                collect(read(o, c), path + "." + c.getName(), dims);
            }
        }
    }

    private static Object slice(Object o, long i) {
        if (o instanceof NDArray a) {
            return a.get(new NDIndex("{}:{}", i, i + 1));
        } else if (o instanceof NDList l) {
            NDList out = new NDList(l.size());
            for (NDArray a : l) {
                out.add((NDArray) slice(a, i));
            }
            return out;
        } else if (o instanceof TensorTree t) {
            return t.map(a -> (NDArray) slice(a, i));
        } else if (o instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            for (Object e : l) {
                out.add(slice(e, i));
            }
            return Collections.unmodifiableList(out);
        } else if (o != null && o.getClass().isRecord()) {
            RecordComponent[] cs = o.getClass().getRecordComponents();
            Object[] args = new Object[cs.length];
            Class<?>[] types = new Class<?>[cs.length];
            for (int k = 0; k < cs.length; k++) {
                args[k] = slice(read(o, cs[k]), i);
                types[k] = cs[k].getType();
            }
            try {
                Constructor<?> ctor = o.getClass().getDeclaredConstructor(types);
                ctor.setAccessible(true);
                return ctor.newInstance(args);
            } catch (ReflectiveOperationException | RuntimeException e) {
                Throwable cause = e instanceof InvocationTargetException ite ? ite.getCause() : e;
                throw new IllegalArgumentException(
                        Checks.format(
                                "cannot rebuild a one-sample batch of record type %s (%s); pass"
                                        + " batchSplitter(...)",
                                o.getClass().getName(), cause),
                        cause);
            }
        }
        return o;
    }

    private static Object read(Object record, RecordComponent c) {
        try {
            Method accessor = c.getAccessor();
            accessor.setAccessible(true);
            return accessor.invoke(record);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "cannot read component '%s' of batch record %s (%s); pass"
                                    + " batchSplitter(...)",
                            c.getName(), record.getClass().getName(), e),
                    e);
        }
    }
}
