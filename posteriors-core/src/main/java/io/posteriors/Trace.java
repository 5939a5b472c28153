package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Runs a transform for a number of steps over batches and collects what SG-MCMC users otherwise
 * write by hand: burn-in, thinning, the kept samples (stacked trees) or only their streaming mean
 * and covariance, scalar summaries and chosen coordinates for diagnostics, for one chain or several
 * independent chains, reporting progress to a {@link TraceListener}. It works for any {@link
 * Transform}: SG-MCMC samplers, but also VI or optimisation runs whose iterates are to be kept.
 *
 * <p>Each chain starts from {@code transform.init(params)} and is advanced with {@link
 * Transform#updateInPlace}, so memory stays flat whatever the number of steps; the aux of every
 * update is closed. Update number {@code s} (counting from 1) is kept when {@code s > burnIn} and
 * {@code (s − burnIn)} is a multiple of {@code thin}, so each chain keeps {@code (steps − burnIn) /
 * thin} samples (rounded down). Chains run one after the other, each reading the batches from the
 * start and cycling through them as often as needed.
 *
 * <p>{@link TraceResult#posterior()} hands the kept samples over as a {@link SamplePosterior}.
 *
 * <pre>{@code
 * Trace<SghmcState, Batch> trace =
 *         Trace.builder(Sghmc.builder(logPost, 1e-2).temperature(1.0 / n).build(), 20_000)
 *                 .burnIn(5_000)
 *                 .thin(10)
 *                 .scalar("logPosterior", SghmcState::logPosterior)
 *                 .build();
 * try (TraceResult<SghmcState> r = trace.run(List.of(init1, init2, init3, init4), batches)) {
 *     TensorTree samples = r.samples();               // leaves (4, 1500, *shape)
 *     double ess = r.ess("logPosterior");
 *     double rhat = r.splitRhat("logPosterior");
 * }
 * }</pre>
 *
 * @param <S> the state type
 * @param <B> the batch type
 */
public final class Trace<S extends State, B> {

    private final Transform<S, B> transform;
    private final long steps;
    private final long burnIn;
    private final long thin;
    private final boolean keepSamples;
    private final Boolean fullCovariance;
    private final Map<String, Function<? super S, NDArray>> scalars;
    private final long[] coordinates;
    private final TraceListener listener;

    private Trace(Builder<S, B> b) {
        this.transform = b.transform;
        this.steps = b.steps;
        this.burnIn = b.burnIn;
        this.thin = b.thin;
        this.keepSamples = b.keepSamples;
        this.fullCovariance = b.fullCovariance;
        this.scalars = Map.copyOf(b.scalars);
        this.coordinates = b.coordinates.clone();
        this.listener = b.listener;
    }

    /**
     * Starts a builder.
     *
     * @param transform the transform to run (any {@link Transform}; typically a sampler)
     * @param steps the number of updates of each chain, burn-in included; at least 1
     * @param <S> the state type
     * @param <B> the batch type
     * @return the builder
     * @throws IllegalArgumentException when {@code steps < 1}
     * @throws NullPointerException when {@code transform} is null
     */
    public static <S extends State, B> Builder<S, B> builder(
            Transform<S, B> transform, long steps) {
        return new Builder<>(transform, steps);
    }

    /**
     * Options of {@link Trace}.
     *
     * @param <S> the state type
     * @param <B> the batch type
     */
    public static final class Builder<S extends State, B> {
        private final Transform<S, B> transform;
        private final long steps;
        private long burnIn = 0;
        private long thin = 1;
        private boolean keepSamples = true;
        private Boolean fullCovariance;
        private final Map<String, Function<? super S, NDArray>> scalars = new LinkedHashMap<>();
        private long[] coordinates = new long[0];
        private TraceListener listener = new TraceListener() {};

        private Builder(Transform<S, B> transform, long steps) {
            this.transform = Checks.notNull(transform, "transform");
            this.steps = Checks.atLeast(steps, 1L, "steps");
        }

        /**
         * Sets the number of first updates whose states are discarded (default 0).
         *
         * @param burnIn the burn-in; non-negative
         * @return this builder
         * @throws IllegalArgumentException when {@code burnIn < 0}
         */
        public Builder<S, B> burnIn(long burnIn) {
            this.burnIn = Checks.atLeast(burnIn, 0L, "burnIn");
            return this;
        }

        /**
         * Keeps one state in {@code thin} after the burn-in (default 1: every state).
         *
         * @param thin the thinning interval; at least 1
         * @return this builder
         * @throws IllegalArgumentException when {@code thin < 1}
         */
        public Builder<S, B> thin(long thin) {
            this.thin = Checks.atLeast(thin, 1L, "thin");
            return this;
        }

        /**
         * Sets whether the kept parameters are stored as stacked trees (default true). Turn it off
         * for large models and keep {@link #moments(boolean)} instead.
         *
         * @param keep whether to store the samples
         * @return this builder
         */
        public Builder<S, B> keepSamples(boolean keep) {
            this.keepSamples = keep;
            return this;
        }

        /**
         * Accumulates the mean and covariance of the kept parameters (raveled, pooled over the
         * chains) without storing them, with {@link StreamingMoments}.
         *
         * @param fullCovariance true for the full P-by-P covariance, false for the per-coordinate
         *     variance
         * @return this builder
         */
        public Builder<S, B> moments(boolean fullCovariance) {
            this.fullCovariance = fullCovariance;
            return this;
        }

        /**
         * Records a scalar summary of every kept state, for example {@code
         * SghmcState::logPosterior}. Arrays the function creates are closed after their value is
         * copied; arrays of the state it returns are left alone.
         *
         * @param name the name the result uses
         * @param summary a function of the state returning a one-element array
         * @return this builder
         * @throws IllegalArgumentException when the name is already used
         * @throws NullPointerException when an argument is null
         */
        public Builder<S, B> scalar(String name, Function<? super S, NDArray> summary) {
            Checks.notNull(name, "name");
            Checks.notNull(summary, "summary");
            if (scalars.containsKey(name)) {
                throw new IllegalArgumentException(
                        Checks.format("scalar '%s' is already recorded", name));
            }
            scalars.put(name, summary);
            return this;
        }

        /**
         * Records chosen coordinates of the raveled parameters ({@link TensorTree#ravel()} order)
         * at every kept state, for diagnostics even when the samples are not stored.
         *
         * @param indices the coordinates; each in {@code [0, P)}, checked when the run starts
         * @return this builder
         * @throws IllegalArgumentException when an index is negative
         */
        public Builder<S, B> coordinates(long... indices) {
            Checks.notNull(indices, "indices");
            for (long i : indices) {
                Checks.atLeast(i, 0L, "coordinate index");
            }
            this.coordinates = indices.clone();
            return this;
        }

        /**
         * Reports the progress of the run to {@code listener} (default: none). A progress bar is a
         * listener; see {@code docs/trace.md}.
         *
         * @param listener the listener
         * @return this builder
         * @throws NullPointerException when {@code listener} is null
         */
        public Builder<S, B> listener(TraceListener listener) {
            this.listener = Checks.notNull(listener, "listener");
            return this;
        }

        /**
         * Builds the trace.
         *
         * @return the trace
         * @throws IllegalArgumentException when no sample would be kept ({@code steps − burnIn <
         *     thin})
         */
        public Trace<S, B> build() {
            if (steps - burnIn < thin) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "steps - burnIn must be at least thin so that a sample is kept,"
                                        + " got steps %d, burnIn %d, thin %d",
                                steps, burnIn, thin));
            }
            return new Trace<>(this);
        }
    }

    /**
     * Returns the number of samples each chain keeps.
     *
     * @return {@code (steps − burnIn) / thin}
     */
    public long keptPerChain() {
        return (steps - burnIn) / thin;
    }

    /**
     * Runs one chain.
     *
     * @param params the initial parameters
     * @param batches the batches, cycled through; not empty
     * @return the result, which owns its arrays and the final state
     * @throws IllegalArgumentException when the batches are empty or a coordinate is out of range
     */
    public TraceResult<S> run(TensorTree params, Iterable<B> batches) {
        return run(List.of(Checks.notNull(params, "params")), batches);
    }

    /**
     * Runs one independent chain per initial parameter tree, one after the other.
     *
     * @param inits the initial parameters of each chain; not empty, all of the same structure
     * @param batches the batches, cycled through by each chain from the start; not empty
     * @return the result, which owns its arrays and the final states
     * @throws IllegalArgumentException when {@code inits} or the batches are empty, the structures
     *     differ, or a coordinate is out of range
     */
    public TraceResult<S> run(List<TensorTree> inits, Iterable<B> batches) {
        Checks.notNull(inits, "inits");
        Checks.notNull(batches, "batches");
        if (inits.isEmpty()) {
            throw new IllegalArgumentException("inits must hold at least one tree, got none");
        }
        TensorTree first = Checks.notNull(inits.get(0), "inits[0]");
        for (int c = 1; c < inits.size(); c++) {
            first.requireSameStructure(inits.get(c), "inits[" + c + "]");
        }
        if (!batches.iterator().hasNext()) {
            throw new IllegalArgumentException("batches must not be empty");
        }
        long numel = first.numel();
        for (long i : coordinates) {
            if (i >= numel) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "coordinate index must be below the parameter count %d, got %d",
                                numel, i));
            }
        }
        int chains = inits.size();
        long kept = keptPerChain();
        NDManager manager = first.manager();
        Buffers buffers = new Buffers(manager, first, chains, kept);
        List<S> finals = new ArrayList<>();
        boolean completed = false;
        listener.onStart(chains, steps);
        try {
            for (int c = 0; c < chains; c++) {
                finals.add(runChain(c, inits.get(c), batches, buffers));
                listener.onChainDone(c);
            }
            completed = true;
        } catch (RuntimeException | Error e) {
            finals.forEach(State::close);
            buffers.close();
            throw e;
        } finally {
            listener.onEnd(completed);
        }
        Map<String, double[][]> scalarValues;
        double[][][] coordinateValues;
        try {
            scalarValues = buffers.scalarValues();
            coordinateValues = buffers.coordinateValues();
        } catch (RuntimeException | Error e) {
            finals.forEach(State::close);
            buffers.close();
            throw e;
        }
        buffers.closeTraces();
        return new TraceResult<>(
                chains,
                kept,
                buffers.samples,
                buffers.moments,
                scalarValues,
                coordinates.clone(),
                coordinateValues,
                finals);
    }

    private S runChain(int chain, TensorTree init, Iterable<B> batches, Buffers buffers) {
        S state = transform.init(init);
        try {
            Iterator<B> it = batches.iterator();
            long keptSoFar = 0;
            for (long s = 1; s <= steps; s++) {
                if (!it.hasNext()) {
                    it = batches.iterator();
                }
                Step<S> step = transform.updateInPlace(state, it.next());
                step.aux().close();
                state = step.state();
                if (s > burnIn && (s - burnIn) % thin == 0) {
                    buffers.record(chain, keptSoFar++, state);
                }
                listener.onStep(chain, s);
            }
            return state;
        } catch (RuntimeException | Error e) {
            state.close();
            throw e;
        }
    }

    /** The arrays a run fills, on the manager of the first initial tree. */
    private final class Buffers implements AutoCloseable {
        private final TensorTree samples;
        private final StreamingMoments moments;
        private final Map<String, NDArray> scalarBuffers = new LinkedHashMap<>();
        private final NDArray coordinateBuffer;
        private final NDArray coordinateIndex;

        Buffers(NDManager manager, TensorTree like, int chains, long kept) {
            if (keepSamples) {
                Map<String, NDArray> m = new LinkedHashMap<>();
                like.forEach(
                        (k, a) -> {
                            long[] dims = new long[a.getShape().dimension() + 2];
                            dims[0] = chains;
                            dims[1] = kept;
                            System.arraycopy(a.getShape().getShape(), 0, dims, 2, dims.length - 2);
                            m.put(
                                    k,
                                    manager.zeros(new Shape(dims), a.getDataType(), a.getDevice()));
                        });
                samples = TensorTree.of(m);
            } else {
                samples = null;
            }
            moments = fullCovariance == null ? null : new StreamingMoments(fullCovariance);
            for (String name : scalars.keySet()) {
                scalarBuffers.put(
                        name,
                        manager.zeros(new Shape(chains, kept), DataType.FLOAT64, like.device()));
            }
            if (coordinates.length > 0) {
                coordinateBuffer =
                        manager.zeros(
                                new Shape(chains, kept, coordinates.length),
                                DataType.FLOAT64,
                                like.device());
                NDArray idx = manager.create(coordinates);
                coordinateIndex = idx.toDevice(like.device(), false);
                if (coordinateIndex != idx) {
                    idx.close();
                }
            } else {
                coordinateBuffer = null;
                coordinateIndex = null;
            }
        }

        void record(int chain, long i, S state) {
            TensorTree p = state.params();
            Scopes.run(
                    () -> {
                        NDIndex at = new NDIndex("{}, {}", chain, i);
                        if (samples != null) {
                            for (String k : samples.names()) {
                                samples.get(k).set(at, p.get(k));
                            }
                        }
                        if (moments != null) {
                            moments.add(p);
                        }
                        for (Map.Entry<String, Function<? super S, NDArray>> e :
                                scalars.entrySet()) {
                            NDArray v =
                                    Objects.requireNonNull(
                                            e.getValue().apply(state),
                                            "scalar '" + e.getKey() + "' returned null");
                            if (v.size() != 1) {
                                throw new IllegalArgumentException(
                                        Checks.format(
                                                "scalar '%s' must return one element, got shape"
                                                        + " %s",
                                                e.getKey(), v.getShape()));
                            }
                            scalarBuffers
                                    .get(e.getKey())
                                    .set(at, v.reshape().toType(DataType.FLOAT64, false));
                        }
                        if (coordinateBuffer != null) {
                            NDArray values =
                                    p.ravel().get(coordinateIndex).toType(DataType.FLOAT64, false);
                            coordinateBuffer.set(at, values);
                        }
                    });
        }

        Map<String, double[][]> scalarValues() {
            Map<String, double[][]> out = new LinkedHashMap<>();
            scalarBuffers.forEach((k, v) -> out.put(k, toRows(v)));
            return out;
        }

        double[][][] coordinateValues() {
            if (coordinateBuffer == null) {
                return new double[0][][];
            }
            int chains = (int) coordinateBuffer.getShape().get(0);
            int kept = Math.toIntExact(coordinateBuffer.getShape().get(1));
            int k = coordinates.length;
            double[] flat = coordinateBuffer.toDoubleArray();
            double[][][] out = new double[k][chains][kept];
            for (int c = 0; c < chains; c++) {
                for (int i = 0; i < kept; i++) {
                    for (int j = 0; j < k; j++) {
                        out[j][c][i] = flat[(c * kept + i) * k + j];
                    }
                }
            }
            return out;
        }

        /** Closes the device buffers of the scalar and coordinate traces, once read. */
        void closeTraces() {
            scalarBuffers.values().forEach(NDArray::close);
            if (coordinateBuffer != null) {
                coordinateBuffer.close();
                coordinateIndex.close();
            }
        }

        @Override
        public void close() {
            if (samples != null) {
                samples.close();
            }
            if (moments != null) {
                moments.close();
            }
            closeTraces();
        }
    }

    private static double[][] toRows(NDArray v) {
        int chains = (int) v.getShape().get(0);
        int kept = Math.toIntExact(v.getShape().get(1));
        double[] flat = v.toDoubleArray();
        double[][] out = new double[chains][];
        for (int c = 0; c < chains; c++) {
            out[c] = Arrays.copyOfRange(flat, c * kept, (c + 1) * kept);
        }
        return out;
    }
}
