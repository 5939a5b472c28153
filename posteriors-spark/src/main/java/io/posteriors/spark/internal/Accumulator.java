package io.posteriors.spark.internal;

import ai.djl.ndarray.NDArray;
import io.posteriors.Checks;
import io.posteriors.KroneckerFactors;
import io.posteriors.State;
import io.posteriors.TensorTree;
import io.posteriors.laplace.DenseLaplaceState;
import io.posteriors.laplace.DiagLaplaceState;
import io.posteriors.laplace.KfacLaplaceState;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How the curvature of one Laplace state type is split into partial sums and put back together.
 * Every Laplace update adds a batch's curvature at the fixed mean θ* to the state's precision (or
 * Kronecker factor sums), independently of what the state already holds; so a partition starts from
 * {@code init(θ*)} with those arrays zeroed, and the driver adds the partitions' sums to its own
 * {@code init(θ*)}, which carries the prior once.
 *
 * @param <S> the state type
 */
public abstract sealed class Accumulator<S extends State> {

    private Accumulator() {}

    /**
     * Returns the accumulator of {@code state}'s type.
     *
     * @param state a state at step 0
     * @param <S> the state type
     * @return the accumulator
     * @throws IllegalArgumentException when the state is not a diagonal, dense or K-FAC Laplace
     *     state
     */
    @SuppressWarnings("unchecked")
    public static <S extends State> Accumulator<S> of(S state) {
        if (state instanceof DiagLaplaceState) {
            return (Accumulator<S>) new Diag();
        }
        if (state instanceof DenseLaplaceState) {
            return (Accumulator<S>) new Dense();
        }
        if (state instanceof KfacLaplaceState) {
            return (Accumulator<S>) new Kfac();
        }
        throw new IllegalArgumentException(
                Checks.format(
                        "data-parallel Laplace sums the curvature of DiagLaplaceState,"
                                + " DenseLaplaceState or KfacLaplaceState, got a %s",
                        state.getClass().getName()));
    }

    /**
     * Returns the state's summed arrays as a tree that shares them (not copies).
     *
     * @param state the state
     * @return the tree
     */
    public abstract TensorTree additive(S state);

    /**
     * Returns the number of samples the state counts, or {@code rows} for states that count none.
     *
     * @param state the state
     * @param rows the rows the partition saw
     * @return the count
     */
    public abstract long samples(S state, long rows);

    /**
     * Sets the summed arrays of a fresh state to zero, in place.
     *
     * @param state the state at step 0
     */
    public void zero(S state) {
        additive(state).forEach((k, a) -> a.muli(0));
    }

    /**
     * Adds the partitions' sums to the driver's initial state, in place, and returns the state with
     * the total counts.
     *
     * @param init the driver's {@code init(θ*)}, prior included; its arrays are written to
     * @param sums the summed arrays, with the names {@link #additive} gives; not closed
     * @param samples the total samples
     * @param steps the total batches
     * @return the state, sharing {@code init}'s arrays
     */
    public S combine(S init, TensorTree sums, long samples, long steps) {
        TensorTree target = additive(init);
        target.requireSameStructure(sums, "partial sums");
        target.forEachZip(sums, NDArray::addi);
        return rebuild(init, samples, steps);
    }

    abstract S rebuild(S init, long samples, long steps);

    private static final class Diag extends Accumulator<DiagLaplaceState> {
        @Override
        public TensorTree additive(DiagLaplaceState s) {
            return s.precDiag();
        }

        @Override
        public long samples(DiagLaplaceState s, long rows) {
            return rows;
        }

        @Override
        DiagLaplaceState rebuild(DiagLaplaceState init, long samples, long steps) {
            return new DiagLaplaceState(init.params(), init.precDiag(), steps);
        }
    }

    private static final class Dense extends Accumulator<DenseLaplaceState> {
        @Override
        public TensorTree additive(DenseLaplaceState s) {
            return TensorTree.of("prec", s.prec());
        }

        @Override
        public long samples(DenseLaplaceState s, long rows) {
            return rows;
        }

        @Override
        DenseLaplaceState rebuild(DenseLaplaceState init, long samples, long steps) {
            return new DenseLaplaceState(init.params(), init.prec(), steps);
        }
    }

    private static final class Kfac extends Accumulator<KfacLaplaceState> {
        @Override
        public TensorTree additive(KfacLaplaceState s) {
            Map<String, NDArray> m = new LinkedHashMap<>();
            List<KroneckerFactors.Layer> factors = s.factors();
            for (int i = 0; i < factors.size(); i++) {
                m.put("factor" + i + ".a", factors.get(i).a());
                m.put("factor" + i + ".g", factors.get(i).g());
            }
            if (s.fallback() != null) {
                s.fallback().forEach((k, a) -> m.put("fallback." + k, a));
            }
            return TensorTree.of(m);
        }

        @Override
        public long samples(KfacLaplaceState s, long rows) {
            return s.samples();
        }

        @Override
        KfacLaplaceState rebuild(KfacLaplaceState init, long samples, long steps) {
            return new KfacLaplaceState(
                    init.params(), init.factors(), init.fallback(), init.prior(), samples, steps);
        }
    }
}
