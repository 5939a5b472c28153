package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a {@link Trace} run collected: the kept samples as stacked trees (and as a {@link
 * SamplePosterior}), their streaming moments, scalar and coordinate traces with their diagnostics,
 * and the final state of every chain.
 *
 * <p>The result owns its arrays and the final states: {@link #close()} frees them all, so copy what
 * must outlive it.
 *
 * @param <S> the state type
 */
public final class TraceResult<S extends State> implements AutoCloseable {

    private final int chains;
    private final long kept;
    private final TensorTree samples;
    private final StreamingMoments moments;
    private final Map<String, double[][]> scalars;
    private final long[] coordinates;
    private final double[][][] coordinateValues;
    private final List<S> finalStates;

    TraceResult(
            int chains,
            long kept,
            TensorTree samples,
            StreamingMoments moments,
            Map<String, double[][]> scalars,
            long[] coordinates,
            double[][][] coordinateValues,
            List<S> finalStates) {
        this.chains = chains;
        this.kept = kept;
        this.samples = samples;
        this.moments = moments;
        this.scalars = Map.copyOf(scalars);
        this.coordinates = coordinates;
        this.coordinateValues = coordinateValues;
        this.finalStates = List.copyOf(finalStates);
    }

    /**
     * Returns the number of chains.
     *
     * @return the chain count
     */
    public int chains() {
        return chains;
    }

    /**
     * Returns the number of samples kept by each chain.
     *
     * @return the kept count per chain
     */
    public long keptPerChain() {
        return kept;
    }

    /**
     * Returns the kept samples: a tree with the parameters' names whose leaves have the shape
     * {@code (chains, keptPerChain, *leafShape)}. The arrays belong to this result. To pool the
     * chains, reshape a leaf to {@code (chains * keptPerChain, *leafShape)}.
     *
     * @return the stacked samples
     * @throws IllegalStateException when the trace was built with {@code keepSamples(false)}
     */
    public TensorTree samples() {
        if (samples == null) {
            throw new IllegalStateException(
                    "samples were not kept; build the trace with keepSamples(true)");
        }
        return samples;
    }

    /**
     * Returns the kept samples of every chain, pooled, as a sample posterior: {@code chains *
     * keptPerChain} samples, chain by chain. The posterior holds copies and belongs to the caller,
     * so it outlives this result.
     *
     * @return a new posterior, on the samples' manager
     * @throws IllegalStateException when the trace was built with {@code keepSamples(false)}
     */
    public SamplePosterior posterior() {
        TensorTree stacked = samples();
        try (TensorTree pooled = Scopes.tree(() -> stacked.map(a -> a.reshape(pooled(a))))) {
            return SamplePosterior.ofStacked(pooled);
        }
    }

    /** The shape of a leaf of the samples with the chain and sample dimensions merged. */
    private Shape pooled(NDArray leaf) {
        return new Shape(chains * kept).addAll(leaf.getShape().slice(2));
    }

    /**
     * Returns the kept samples of one chain as a sample posterior, which holds copies and belongs
     * to the caller.
     *
     * @param chain the chain, {@code 0 <= chain < chains()}
     * @return a new posterior of {@code keptPerChain} samples, on the samples' manager
     * @throws IllegalStateException when the trace was built with {@code keepSamples(false)}
     * @throws IndexOutOfBoundsException when {@code chain} is out of range
     */
    public SamplePosterior posterior(int chain) {
        TensorTree stacked = samples();
        Objects.checkIndex(chain, chains);
        try (TensorTree one =
                Scopes.tree(() -> stacked.map(a -> a.get(new NDIndex("{}", chain))))) {
            return SamplePosterior.ofStacked(one);
        }
    }

    /**
     * Returns the mean of the kept samples, raveled and pooled over the chains.
     *
     * @return a new float64 vector of P entries, owned by the caller
     * @throws IllegalStateException when the trace was not built with {@code moments(...)}
     */
    public NDArray mean() {
        return requireMoments().mean();
    }

    /**
     * Returns the unbiased covariance (P-by-P) of the kept samples pooled over the chains, or the
     * per-coordinate variance (P) when the trace was built with {@code moments(false)}.
     *
     * @return a new float64 array, owned by the caller
     * @throws IllegalStateException when the trace was not built with {@code moments(...)}, or
     *     fewer than two samples were kept in all
     */
    public NDArray covariance() {
        return requireMoments().covariance();
    }

    /**
     * Returns a recorded scalar summary.
     *
     * @param name the name given to {@link Trace.Builder#scalar}
     * @return {@code [chain][kept]}, a copy
     * @throws IllegalArgumentException when no scalar of that name was recorded
     */
    public double[][] scalar(String name) {
        double[][] v = scalars.get(Checks.notNull(name, "name"));
        if (v == null) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "no scalar named '%s' was recorded; recorded are %s",
                            name, scalars.keySet()));
        }
        return deepCopy(v);
    }

    /**
     * Returns the trace of one coordinate of the raveled parameters: from the coordinates recorded
     * with {@link Trace.Builder#coordinates}, or else from the stored samples.
     *
     * @param index the coordinate in {@link TensorTree#ravel()} order
     * @return {@code [chain][kept]}
     * @throws IllegalArgumentException when the coordinate was not recorded and the samples were
     *     not kept, or it is out of range
     */
    public double[][] coordinate(long index) {
        for (int j = 0; j < coordinates.length; j++) {
            if (coordinates[j] == index) {
                return deepCopy(coordinateValues[j]);
            }
        }
        if (samples == null) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "coordinate %d was not recorded and the samples were not kept;"
                                    + " record it with coordinates(...)",
                            index));
        }
        long offset = 0;
        for (String k : samples.names()) {
            NDArray leaf = samples.get(k);
            long per = leaf.getShape().slice(2).size();
            if (index >= offset && index < offset + per) {
                double[][] out = new double[chains][];
                try (NDArray flat = leaf.reshape(chains, kept, per);
                        NDArray column = flat.get(new NDIndex(":, :, {}", index - offset));
                        NDArray d = column.toType(DataType.FLOAT64, true)) {
                    double[] all = d.toDoubleArray();
                    for (int c = 0; c < chains; c++) {
                        out[c] = Arrays.copyOfRange(all, (int) (c * kept), (int) ((c + 1) * kept));
                    }
                }
                return out;
            }
            offset += per;
        }
        throw new IllegalArgumentException(
                Checks.format("coordinate index must be in [0, %d), got %d", offset, index));
    }

    /**
     * Returns the effective sample size of a recorded scalar ({@link Diagnostics#ess}).
     *
     * @param name the scalar's name
     * @return the effective sample size over all chains
     * @throws IllegalArgumentException when no scalar of that name was recorded, fewer than 4
     *     samples were kept per chain, or the trace is constant
     */
    public double ess(String name) {
        return Diagnostics.ess(scalar(name));
    }

    /**
     * Returns the split R-hat of a recorded scalar ({@link Diagnostics#splitRhat}).
     *
     * @param name the scalar's name
     * @return the split R-hat
     * @throws IllegalArgumentException when no scalar of that name was recorded, fewer than 4
     *     samples were kept per chain, or the trace is constant
     */
    public double splitRhat(String name) {
        return Diagnostics.splitRhat(scalar(name));
    }

    /**
     * Returns the effective sample size of one coordinate of the parameters.
     *
     * @param index the coordinate in {@link TensorTree#ravel()} order
     * @return the effective sample size over all chains
     * @throws IllegalArgumentException as {@link #coordinate(long)} and {@link Diagnostics#ess}
     */
    public double coordinateEss(long index) {
        return Diagnostics.ess(coordinate(index));
    }

    /**
     * Returns the split R-hat of one coordinate of the parameters.
     *
     * @param index the coordinate in {@link TensorTree#ravel()} order
     * @return the split R-hat
     * @throws IllegalArgumentException as {@link #coordinate(long)} and {@link
     *     Diagnostics#splitRhat}
     */
    public double coordinateSplitRhat(long index) {
        return Diagnostics.splitRhat(coordinate(index));
    }

    /**
     * Returns the state of every chain after its last update, from which sampling can go on. The
     * states belong to this result.
     *
     * @return one state per chain
     */
    public List<S> finalStates() {
        return finalStates;
    }

    /** Frees the samples, the moments and the final states. */
    @Override
    public void close() {
        if (samples != null) {
            samples.close();
        }
        if (moments != null) {
            moments.close();
        }
        finalStates.forEach(State::close);
    }

    private StreamingMoments requireMoments() {
        if (moments == null) {
            throw new IllegalStateException(
                    "moments were not accumulated; build the trace with moments(...)");
        }
        return moments;
    }

    private static double[][] deepCopy(double[][] v) {
        double[][] out = new double[v.length][];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i].clone();
        }
        return out;
    }
}
