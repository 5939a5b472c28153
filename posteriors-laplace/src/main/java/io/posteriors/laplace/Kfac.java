package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Autodiff;
import io.posteriors.Checks;
import io.posteriors.Curvature;
import io.posteriors.ForwardFn;
import io.posteriors.KroneckerFactors;
import io.posteriors.LogProbFn;
import io.posteriors.ModelLogPosterior;
import io.posteriors.PerSample;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.List;

/** The K-FAC fit shared by {@link KfacGgn} and {@link KfacFisher}. */
final class Kfac {

    private Kfac() {}

    /**
     * Builds the state at step 0: zero factors for every covered layer whose leaves are all in
     * {@code params}, a zero fallback diagonal for the other leaves.
     */
    static <B> KfacLaplaceState init(
            ModelLogPosterior<B> m, Subnetwork<B> sub, PriorPrecision prior, TensorTree params) {
        Checks.openTree(params, "params");
        Checks.finite(params, "params", 0);
        if (sub != null) {
            sub.complete(params); // checks the leaves and shapes
            if (!params.names().equals(sub.leaves())) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "params must have the subnetwork's leaves %s, got %s",
                                sub.leaves(), params.names()));
            }
        }
        TensorTree p = params.copy();
        try {
            List<KroneckerFactors.Layer> factors = new ArrayList<>();
            List<String> covered = new ArrayList<>();
            for (KroneckerFactors.LayerNames l : KroneckerFactors.layers(m.model())) {
                if (!p.contains(l.weight()) || (l.bias() != null && !p.contains(l.bias()))) {
                    continue;
                }
                NDArray w = p.get(l.weight());
                Shape ws = w.getShape();
                long in = ws.get(1) + (l.bias() == null ? 0 : 1);
                NDArray a = w.getManager().zeros(new Shape(in, in), w.getDataType(), w.getDevice());
                NDArray g =
                        w.getManager()
                                .zeros(
                                        new Shape(ws.get(0), ws.get(0)),
                                        w.getDataType(),
                                        w.getDevice());
                factors.add(new KroneckerFactors.Layer(l.weight(), l.bias(), a, g));
                covered.add(l.weight());
                if (l.bias() != null) {
                    covered.add(l.bias());
                }
            }
            TensorTree fallback = null;
            if (covered.size() < p.size()) {
                fallback = p.subset(k -> !covered.contains(k)).zerosLike();
            }
            return new KfacLaplaceState(p, factors, fallback, prior, 0, 0);
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /** Adds one batch's factors (and fallback diagonal) to the state in place. */
    static <B> Step<KfacLaplaceState> update(
            ModelLogPosterior<B> m,
            Subnetwork<B> sub,
            boolean ggn,
            KfacLaplaceState state,
            B batch) {
        Checks.open(state);
        TensorTree params = state.params();
        TensorTree full = sub == null ? params : sub.complete(params);
        KroneckerFactors.Batch factors = null;
        TensorTree fallback = null;
        try {
            if (!state.factors().isEmpty()) {
                factors =
                        ggn
                                ? KroneckerFactors.ggn(m, full, batch, params::contains)
                                : KroneckerFactors.empiricalFisher(
                                        m, full, batch, params::contains);
                if (factors == null) {
                    throw new IllegalArgumentException(
                            "the model is not covered by the probed forward pass at this batch"
                                    + " (a Linear layer's input is not two-dimensional, or the"
                                    + " outputs are not (n, C)), so K-FAC cannot run");
                }
            } else {
                long n = PerSample.sampleCount(batch).orElse(0);
                factors = new KroneckerFactors.Batch(List.of(), n);
            }
            if (!state.fallbackLeaves().isEmpty()) {
                fallback = fallbackDiagonal(m, sub, ggn, state, full, batch);
            }
            return new Step<>(state.add(factors, fallback), new NDList());
        } finally {
            if (factors != null) {
                factors.close();
            }
            if (fallback != null) {
                fallback.close();
            }
        }
    }

    /** The diagonal GGN or Fisher of the fallback leaves. */
    private static <B> TensorTree fallbackDiagonal(
            ModelLogPosterior<B> m,
            Subnetwork<B> sub,
            boolean ggn,
            KfacLaplaceState state,
            TensorTree full,
            B batch) {
        TensorTree params = state.params();
        List<String> names = state.fallbackLeaves();
        boolean whole = sub == null && names.size() == params.size();
        if (whole) {
            // the model is not covered at all: the structured paths (fast when they can be)
            if (ggn) {
                return Curvature.diagGgn(m, params, batch);
            }
            Autodiff.GradMoments gm = Autodiff.perSampleGradMoments(m.perSample(), params, batch);
            gm.values().close();
            gm.sum().close();
            gm.aux().close();
            return gm.sumOfSquares();
        }
        TensorTree part = params.subset(names);
        if (ggn) {
            ForwardFn<B> f = m.forward();
            ForwardFn<B> partForward = (p, b) -> f.apply(full.merge(p), b);
            return Curvature.diagGgn(
                    Calls.batchFirst(partForward, batch),
                    Calls.negate(m.outerLogLikelihood()),
                    part,
                    batch);
        }
        ModelLogPosterior<B> ps = m.perSample();
        LogProbFn<B> partLogProb = (p, b) -> ps.apply(full.merge(p), b);
        Autodiff.GradMoments gm = Autodiff.perSampleGradMoments(partLogProb, part, batch);
        gm.values().close();
        gm.sum().close();
        gm.aux().close();
        return gm.sumOfSquares();
    }

    /** Returns a prior precision value as a {@link PriorPrecision}, checked for K-FAC. */
    static PriorPrecision requireKfacPrior(PriorPrecision prior) {
        Checks.notNull(prior, "priorPrecision");
        if (prior instanceof PriorPrecision.Diagonal) {
            throw new IllegalArgumentException(
                    "a K-FAC prior precision must be a scalar or per leaf, got a diagonal one");
        }
        return prior;
    }

    /**
     * The options both KFAC transforms share: the structured log posterior, the subnetwork (or
     * none) and the prior precision.
     *
     * @param <B> the batch type
     * @param <T> the concrete builder type
     */
    abstract static class Builder<B, T extends Builder<B, T>> {
        final ModelLogPosterior<B> logPosterior;
        final Subnetwork<B> subnetwork;
        PriorPrecision priorPrecision = PriorPrecision.of(0);

        Builder(ModelLogPosterior<B> logPosterior, Subnetwork<B> subnetwork) {
            this.logPosterior = logPosterior;
            this.subnetwork = subnetwork;
        }

        abstract T self();

        /**
         * Sets one prior precision for every parameter (default 0).
         *
         * @param priorPrecision the precision; finite and non-negative
         * @return this builder
         * @throws IllegalArgumentException when it is negative or not finite
         */
        public final T priorPrecision(double priorPrecision) {
            this.priorPrecision = PriorPrecision.of(priorPrecision);
            return self();
        }

        /**
         * Sets the prior precision: a scalar, or per leaf with each layer's weight and bias equal.
         *
         * @param priorPrecision the precision
         * @return this builder
         * @throws IllegalArgumentException when it is diagonal
         */
        public final T priorPrecision(PriorPrecision priorPrecision) {
            this.priorPrecision = requireKfacPrior(priorPrecision);
            return self();
        }
    }
}
