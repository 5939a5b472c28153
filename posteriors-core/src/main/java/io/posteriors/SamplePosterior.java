package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A posterior given by {@code S} parameter samples: the kept samples of an SG-MCMC trace, several
 * chains pooled, or the members of an ensemble of MAP states. The samples are stacked along a
 * leading dimension of every leaf and owned by this object; {@link #close()} frees them.
 */
public final class SamplePosterior implements Posterior, AutoCloseable {

    private final TensorTree samples;
    private final TensorTree mean;
    private final int size;

    private SamplePosterior(TensorTree samples) {
        this.samples = samples;
        this.size = (int) samples.anyLeaf().getShape().get(0);
        this.mean =
                Scopes.call(
                        samples.manager(),
                        () -> samples.map(a -> a.mean(new int[] {0})),
                        TensorTree::leaves);
    }

    /**
     * Builds a sample posterior from a copy of stacked samples.
     *
     * @param stacked a tree whose leaves share a leading dimension {@code S ≥ 1}
     * @return the posterior, owning new arrays on the tree's managers
     * @throws IllegalArgumentException when the leaves have no common leading dimension
     * @throws IllegalStateException when an array is closed
     */
    public static SamplePosterior ofStacked(TensorTree stacked) {
        Checks.openTree(stacked, "stacked");
        long s = -1;
        for (String k : stacked.names()) {
            Shape shape = stacked.get(k).getShape();
            if (shape.dimension() < 1 || shape.get(0) < 1 || (s >= 0 && shape.get(0) != s)) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "stacked leaf '%s' must have the common leading sample dimension"
                                        + "%s, got shape %s",
                                k, s < 0 ? " (at least 1)" : " " + s, shape));
            }
            s = shape.get(0);
        }
        if (s > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(
                    Checks.format("stacked holds %d samples, more than an int", s));
        }
        return new SamplePosterior(stacked.copy());
    }

    /**
     * Builds a sample posterior from samples given one by one (copied and stacked).
     *
     * @param samples the samples, all with the same structure; at least one
     * @return the posterior, on the first sample's managers
     * @throws IllegalArgumentException when the list is empty or the structures differ
     */
    public static SamplePosterior of(List<TensorTree> samples) {
        Checks.notNull(samples, "samples");
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("samples must hold at least one tree, got none");
        }
        TensorTree first = Checks.openTree(samples.get(0), "samples[0]");
        for (int i = 1; i < samples.size(); i++) {
            first.requireSameStructure(
                    Checks.openTree(samples.get(i), "samples[" + i + "]"), "samples[" + i + "]");
        }
        TensorTree stacked =
                Scopes.call(
                        first.manager(),
                        () -> {
                            Map<String, NDArray> m = new LinkedHashMap<>();
                            for (String k : first.names()) {
                                NDList leaves = new NDList(samples.size());
                                for (TensorTree t : samples) {
                                    leaves.add(t.get(k));
                                }
                                m.put(k, NDArrays.stack(leaves));
                            }
                            return TensorTree.of(m);
                        },
                        TensorTree::leaves);
        return new SamplePosterior(stacked);
    }

    /**
     * Builds an ensemble from the parameters of several states (for example MAP fits from different
     * seeds), one sample per state.
     *
     * @param states the members; at least one
     * @return the posterior
     * @throws IllegalArgumentException when the list is empty or the parameter structures differ
     */
    public static SamplePosterior ofStates(List<? extends State> states) {
        Checks.notNull(states, "states");
        List<TensorTree> params = new ArrayList<>(states.size());
        for (State s : states) {
            params.add(Checks.notNull(s, "state").params());
        }
        return of(params);
    }

    /**
     * Pools several sample posteriors (for example independent chains) into one.
     *
     * @param parts the posteriors, all with the same structure; at least one
     * @return a new posterior holding every sample, in order
     * @throws IllegalArgumentException when the list is empty or the structures differ
     */
    public static SamplePosterior pool(List<SamplePosterior> parts) {
        Checks.notNull(parts, "parts");
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("parts must hold at least one posterior, got none");
        }
        TensorTree first = parts.get(0).samples;
        for (int i = 1; i < parts.size(); i++) {
            first.requireSameStructure(parts.get(i).samples, "parts[" + i + "]");
        }
        TensorTree stacked =
                Scopes.call(
                        first.manager(),
                        () -> {
                            Map<String, NDArray> m = new LinkedHashMap<>();
                            for (String k : first.names()) {
                                NDList leaves = new NDList(parts.size());
                                parts.forEach(p -> leaves.add(p.samples.get(k)));
                                m.put(k, NDArrays.concat(leaves));
                            }
                            return TensorTree.of(m);
                        },
                        TensorTree::leaves);
        return new SamplePosterior(stacked);
    }

    /**
     * Returns the stacked samples, owned by this posterior: do not close them.
     *
     * @return a tree whose leaves have shape {@code (S, *leaf shape)}
     */
    public TensorTree samples() {
        return samples;
    }

    /**
     * Returns the number of samples {@code S}.
     *
     * @return the count
     */
    public int size() {
        return size;
    }

    /**
     * Returns sample {@code i} as a new tree without the sample dimension.
     *
     * @param i the index, {@code 0 ≤ i < S}
     * @return a new tree
     * @throws IndexOutOfBoundsException when {@code i} is out of range
     */
    public TensorTree get(int i) {
        java.util.Objects.checkIndex(i, size);
        return samples.map(a -> a.get(new NDIndex("{}", i)));
    }

    /** Returns the sample mean, owned by this posterior. */
    @Override
    public TensorTree mean() {
        return mean;
    }

    /**
     * Draws {@code n} of the samples uniformly with replacement, with the engine's generator.
     *
     * @param n the number of draws; at least 1
     * @return a new tree whose leaves have shape {@code (n, *leaf shape)}
     * @throws IllegalArgumentException when {@code n < 1}
     */
    @Override
    public TensorTree sample(int n) {
        Checks.atLeast(n, 1, "n");
        return Scopes.call(
                samples.manager(),
                () -> {
                    NDArray idx =
                            samples.manager()
                                    .randomInteger(0, size, new Shape(n), DataType.INT64)
                                    .toDevice(samples.device(), false);
                    return samples.map(a -> a.get(idx));
                },
                TensorTree::leaves);
    }

    /** Frees the samples and the mean. */
    @Override
    public void close() {
        samples.close();
        mean.close();
    }
}
