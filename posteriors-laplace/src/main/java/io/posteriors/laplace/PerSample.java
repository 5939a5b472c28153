package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import io.posteriors.Checks;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.ModelLogPosterior;
import io.posteriors.TensorTree;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * Turning a function of a batch into one value per sample: posteriors' {@code per_samplify}, which
 * evaluates the function on each sample of the batch as a batch of one (a mean over one sample is
 * that sample's value).
 *
 * <p>posteriors maps over the leading dimension of every tensor in the batch. The Java equivalent
 * here splits a batch that is an {@link NDArray}, an {@link NDList}, a {@link TensorTree}, a {@link
 * List} or a record, recursively, slicing every array along dimension 0 (keeping it, size 1) and
 * passing anything that is not an array through unchanged. Other batch types need a splitter from
 * the caller.
 */
final class PerSample {

    private PerSample() {}

    /**
     * Returns the per-sample form of a log posterior: itself when {@code perSample} is true, the
     * per-sample form of a {@link ModelLogPosterior} (entry i is what the function gives for sample
     * i alone, and it keeps the library's fast path), and otherwise {@link #perSamplify} with the
     * given splitter or {@link #split}.
     */
    static <B> LogProbFn<B> perSampleForm(
            LogProbFn<B> f, boolean perSample, Function<B, List<B>> splitter) {
        if (f instanceof ModelLogPosterior<B> m) {
            return m.perSample();
        }
        if (perSample) {
            return f;
        }
        return perSamplify(f, splitter != null ? splitter : PerSample::split);
    }

    /**
     * Returns a function whose value is the vector of {@code f} evaluated on each one-sample batch
     * the splitter makes, with the aux arrays of the calls stacked along a new dimension 0.
     *
     * @param f a function returning a scalar for any batch
     * @param splitter splits a batch into its one-sample batches
     * @param <B> the batch type
     * @return the per-sample function
     */
    static <B> LogProbFn<B> perSamplify(LogProbFn<B> f, Function<B, List<B>> splitter) {
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
                                    "with perSample false the log posterior must return a scalar"
                                            + " for a one-sample batch, got shape %s for sample"
                                            + " %d; reduce over the batch (mean) or set"
                                            + " perSample(true)",
                                    lp.value().getShape(), i));
                }
                values.add(lp.value());
                auxes.add(lp.aux());
            }
            return new LogProb(NDArrays.stack(values), stackAux(auxes));
        };
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
     * Splits a batch into one-sample batches by slicing every array it holds along dimension 0.
     *
     * @param batch the batch
     * @param <B> the batch type
     * @return the one-sample batches, in order
     * @throws IllegalArgumentException when the batch holds no array, an array without a leading
     *     dimension, arrays whose leading dimensions differ, or a record that cannot be rebuilt
     */
    static <B> List<B> split(B batch) {
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
     * Returns the number of samples of a batch when every array in it has the same leading
     * dimension, and nothing otherwise (the batch is of a type this class cannot look into, or its
     * arrays disagree).
     *
     * @param batch the batch
     * @return the sample count, if it is known
     */
    static OptionalLong sampleCount(Object batch) {
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
                                    + " of these); pass batchSplitter(...) or a per-sample log"
                                    + " posterior with perSample(true)",
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
