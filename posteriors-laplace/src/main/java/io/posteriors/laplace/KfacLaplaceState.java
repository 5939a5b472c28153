package io.posteriors.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Checks;
import io.posteriors.GaussianPosterior;
import io.posteriors.KroneckerFactors;
import io.posteriors.Linalg;
import io.posteriors.Scalars;
import io.posteriors.Scopes;
import io.posteriors.State;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The state of the K-FAC Laplace approximations ({@link KfacGgn}, {@link KfacFisher}): a Gaussian
 * {@code N(params, T Λ^-1)} whose precision {@code Λ} is block diagonal, one block per {@code
 * Linear} layer and a diagonal for the other leaves.
 *
 * <p>For a layer with weight {@code W (out, in)} and bias {@code b (out)}, the block over the
 * augmented weight {@code [W b]} (raveled row-major, {@code out × (in + 1)}) is
 *
 * <pre>
 * Λ_layer = G ⊗ (A / n) + δ I,    A = Σ_i ã_i ã_iᵀ,  G = Σ_i Σ_c δ_ic δ_icᵀ
 * </pre>
 *
 * <p>with {@code n} the number of samples seen and {@code δ} the layer's prior precision, so that a
 * pass over N samples approximates the summed curvature of the whole data set (the sum convention
 * of the other Laplace states). Leaves that no layer covers ({@link #fallbackLeaves()}) get {@code
 * diag(h) + δ} from a diagonal GGN or Fisher. The curvature and the prior are kept apart, so the
 * prior can be swapped ({@link Evidence#withPrior(KfacLaplaceState, PriorPrecision)}) and tuned.
 *
 * <p>Everything goes through the eigendecompositions {@code G = Q_G diag(λ_G) Q_Gᵀ}, {@code A / n =
 * Q_A diag(λ_A) Q_Aᵀ}, recomputed on each call (they cost {@code O(out³ + in³)} per layer): {@code
 * Λ_layer^-1 = (Q_G ⊗ Q_A) diag(1 / (λ_G λ_Aᵀ + δ)) (Q_G ⊗ Q_A)ᵀ}. Samples are {@code μ + sqrt(T)
 * Q_G (E / sqrt(λ_G λ_Aᵀ + δ)) Q_Aᵀ} with {@code E} standard normal; {@link #projectCovariance}
 * applies the same map to the Jacobian's columns and never forms a {@code P × P} matrix.
 * Temperature scales the covariance: T = 1 the Laplace posterior, T = 0 the mean.
 *
 * @param params the mean (the MAP the approximation is built around)
 * @param factors the Kronecker factor sums of the covered layers (their {@code a} and {@code g}
 *     owned by the state)
 * @param fallback the diagonal curvature {@code h} of the leaves no layer covers, or null when
 *     every leaf is covered
 * @param prior the prior precision {@code δ}: a scalar, or per leaf with each layer's weight and
 *     bias equal
 * @param samples the number of samples {@code n} the factors were summed over
 * @param step the number of batches accumulated so far
 */
public record KfacLaplaceState(
        TensorTree params,
        List<KroneckerFactors.Layer> factors,
        TensorTree fallback,
        PriorPrecision prior,
        long samples,
        long step)
        implements State, GaussianPosterior {

    /**
     * Checks the components.
     *
     * @throws NullPointerException when a required component is null
     * @throws IllegalArgumentException when a layer's leaves are missing from {@code params} or a
     *     factor has the wrong shape, a leaf is covered twice or not at all, the prior is diagonal
     *     or differs between a layer's weight and bias, or a count is negative
     */
    public KfacLaplaceState {
        Checks.notNull(params, "params");
        Checks.notNull(factors, "factors");
        Checks.notNull(prior, "prior");
        factors = List.copyOf(factors);
        Checks.atLeast(samples, 0L, "samples");
        Checks.atLeast(step, 0L, "step");
        if (prior instanceof PriorPrecision.Diagonal) {
            throw new IllegalArgumentException(
                    "a K-FAC state takes a scalar or per-layer prior precision, got a diagonal one");
        }
        Set<String> covered = new HashSet<>();
        for (KroneckerFactors.Layer l : factors) {
            Shape w = params.get(l.weight()).getShape();
            long in = w.get(1) + (l.bias() == null ? 0 : 1);
            if (!l.a().getShape().equals(new Shape(in, in))
                    || !l.g().getShape().equals(new Shape(w.get(0), w.get(0)))) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "layer '%s' of shape %s needs factors a %s and g %s, got %s and"
                                        + " %s",
                                l.weight(),
                                w,
                                new Shape(in, in),
                                new Shape(w.get(0), w.get(0)),
                                l.a().getShape(),
                                l.g().getShape()));
            }
            requireNew(covered, l.weight());
            if (l.bias() != null) {
                requireNew(covered, l.bias());
                if (prior.of(l.weight()) != prior.of(l.bias())) {
                    throw new IllegalArgumentException(
                            Checks.format(
                                    "the prior precision of layer '%s' must be the same for its"
                                            + " weight and bias, got %s and %s",
                                    l.weight(), prior.of(l.weight()), prior.of(l.bias())));
                }
            }
        }
        if (fallback != null) {
            for (String k : fallback.names()) {
                requireNew(covered, k);
                if (!params.get(k).getShape().equals(fallback.get(k).getShape())) {
                    throw new IllegalArgumentException(
                            Checks.format(
                                    "fallback leaf '%s' must have shape %s, got %s",
                                    k, params.get(k).getShape(), fallback.get(k).getShape()));
                }
            }
        }
        for (String k : params.names()) {
            if (!covered.contains(k)) {
                throw new IllegalArgumentException(
                        Checks.format("leaf '%s' is covered by no layer and no fallback", k));
            }
            prior.of(k);
        }
    }

    private static void requireNew(Set<String> covered, String leaf) {
        if (!covered.add(leaf)) {
            throw new IllegalArgumentException(Checks.format("leaf '%s' is covered twice", leaf));
        }
    }

    /**
     * Returns the leaves that no {@code Linear} layer covers and that take the diagonal fallback.
     *
     * @return the names, in tree order (empty when every leaf is covered)
     */
    public List<String> fallbackLeaves() {
        return fallback == null ? List.of() : fallback.names();
    }

    /** Adds a batch's factor sums and fallback diagonal in place and returns the state one on. */
    KfacLaplaceState add(KroneckerFactors.Batch batch, TensorTree fallbackIncrement) {
        Map<String, KroneckerFactors.Layer> byWeight = new HashMap<>();
        for (KroneckerFactors.Layer l : batch.layers()) {
            byWeight.put(l.weight(), l);
        }
        for (KroneckerFactors.Layer l : factors) {
            KroneckerFactors.Layer inc = byWeight.get(l.weight());
            if (inc == null) {
                throw new IllegalStateException(
                        Checks.format("batch has no factors for layer '%s'", l.weight()));
            }
            Checks.finite(TensorTree.of("a", inc.a()), "K-FAC factor A", step);
            Checks.finite(TensorTree.of("g", inc.g()), "K-FAC factor G", step);
        }
        if (fallback != null) {
            Checks.finite(fallbackIncrement, "fallback diagonal", step);
        }
        for (KroneckerFactors.Layer l : factors) {
            KroneckerFactors.Layer inc = byWeight.get(l.weight());
            l.a().addi(inc.a());
            l.g().addi(inc.g());
        }
        if (fallback != null) {
            fallback.forEachZip(fallbackIncrement, NDArray::addi);
        }
        return new KfacLaplaceState(
                params, factors, fallback, prior, samples + batch.samples(), step + 1);
    }

    /** Returns this state's arrays under another prior (no copy). */
    KfacLaplaceState withPriorOwned(PriorPrecision p) {
        return new KfacLaplaceState(params, factors, fallback, p, samples, step);
    }

    /**
     * Returns a deep copy: new arrays with the same values.
     *
     * @return the copy
     */
    @Override
    public KfacLaplaceState copy() {
        List<KroneckerFactors.Layer> f = new ArrayList<>();
        for (KroneckerFactors.Layer l : factors) {
            f.add(
                    new KroneckerFactors.Layer(
                            l.weight(), l.bias(), l.a().duplicate(), l.g().duplicate()));
        }
        PriorPrecision p = prior;
        return new KfacLaplaceState(
                params.copy(), f, fallback == null ? null : fallback.copy(), p, samples, step);
    }

    /**
     * Returns the parameters' leaves, then each layer's {@code a} and {@code g}, then the fallback
     * diagonal.
     *
     * @return the arrays
     */
    @Override
    public List<NDArray> arrays() {
        List<NDArray> all = new ArrayList<>(params.leaves());
        for (KroneckerFactors.Layer l : factors) {
            all.add(l.a());
            all.add(l.g());
        }
        if (fallback != null) {
            all.addAll(fallback.leaves());
        }
        return all;
    }

    /**
     * Returns the mean, {@code params} (owned by the state).
     *
     * @return the parameters
     */
    @Override
    public TensorTree mean() {
        return params;
    }

    /** One layer's eigendecomposition: {@code den = λ_G λ_Aᵀ + δ}, shape {@code (out, in')}. */
    private record Eig(KroneckerFactors.Layer layer, NDArray qg, NDArray qa, NDArray den) {}

    /** Computes the eigendecompositions (inside the caller's scope), in {@code type}. */
    private List<Eig> eigs(DataType type) {
        List<Eig> out = new ArrayList<>();
        for (KroneckerFactors.Layer l : factors) {
            NDArray a = l.a().toType(type, true);
            NDArray g = l.g().toType(type, true);
            NDList ea = Linalg.eigh(a.add(a.transpose()).mul(Scalars.like(a, 0.5)));
            NDList eg = Linalg.eigh(g.add(g.transpose()).mul(Scalars.like(g, 0.5)));
            double scale = samples == 0 ? 0 : 1.0 / samples;
            NDArray la = ea.get(0).maximum(0).mul(Scalars.like(a, scale));
            NDArray lg = eg.get(0).maximum(0);
            NDArray den =
                    lg.expandDims(1)
                            .matMul(la.expandDims(0))
                            .add(Scalars.like(a, prior.of(l.weight())));
            out.add(new Eig(l, eg.get(1), ea.get(1), den));
        }
        return out;
    }

    /** Returns the fallback leaf's precision {@code h + δ}, in {@code type}. */
    private NDArray fallbackPrecision(String k, DataType type) {
        NDArray h = fallback.get(k).toType(type, true);
        return h.add(Scalars.like(h, prior.of(k)));
    }

    /**
     * Returns {@code [W b]} of a tree (or of stacked points, with a leading dimension): shape
     * {@code (..., out, in')}.
     */
    private static NDArray augmented(TensorTree t, KroneckerFactors.Layer l) {
        NDArray w = t.get(l.weight());
        if (l.bias() == null) {
            return w;
        }
        NDArray b = t.get(l.bias()).expandDims(-1);
        return w.concat(b, w.getShape().dimension() - 1);
    }

    /** Splits {@code (..., out, in')} back into the layer's weight and bias leaves. */
    private static void split(NDArray m, KroneckerFactors.Layer l, Map<String, NDArray> into) {
        if (l.bias() == null) {
            into.put(l.weight(), m);
            return;
        }
        long in = m.getShape().get(m.getShape().dimension() - 1) - 1;
        String lead = m.getShape().dimension() == 3 ? ":, " : "";
        into.put(l.weight(), m.get(new NDIndex(lead + ":, 0:{}", in)));
        into.put(l.bias(), m.get(new NDIndex(lead + ":, {}", in)));
    }

    /** Returns the tree of {@code into}'s leaves in the parameters' order. */
    private TensorTree ordered(Map<String, NDArray> into) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (String k : params.names()) {
            out.put(k, into.get(k));
        }
        return TensorTree.of(out);
    }

    /**
     * Draws {@code n} samples from {@code N(params, T Λ^-1)} through the factors'
     * eigendecompositions: T = 1 is the Laplace posterior, T = 0 returns {@code n} exact copies of
     * the mean.
     *
     * @param n the number of samples; at least 1
     * @param temperature T, scaling the covariance; finite and non-negative
     * @return a new tree whose leaves have shape {@code (n, *leaf shape)}
     * @throws IllegalArgumentException when {@code n < 1} or T is negative or not finite
     */
    @Override
    public TensorTree sample(int n, double temperature) {
        Checks.atLeast(n, 1, "n");
        Checks.nonNegative(temperature, "temperature");
        if (temperature == 0) {
            return GaussianPosterior.repeat(params, n);
        }
        NDArray any = params.anyLeaf();
        DataType type = any.getDataType();
        return Scopes.call(
                params.manager(),
                () -> {
                    Map<String, NDArray> out = new HashMap<>();
                    NDArray sqrtT = Scalars.like(any, Math.sqrt(temperature));
                    for (Eig e : eigs(type)) {
                        NDArray mu = augmented(params, e.layer());
                        NDArray eps =
                                any.getManager()
                                        .randomNormal(
                                                0,
                                                1,
                                                new Shape(n).addAll(e.den().getShape()),
                                                type,
                                                any.getDevice());
                        NDArray s =
                                e.qg().matMul(eps.div(e.den().sqrt()))
                                        .matMul(e.qa().transpose())
                                        .mul(sqrtT)
                                        .add(mu);
                        split(s, e.layer(), out);
                    }
                    for (String k : fallbackLeaves()) {
                        NDArray mu = params.get(k);
                        NDArray sd = fallbackPrecision(k, type).pow(-0.5).mul(sqrtT);
                        NDArray eps =
                                any.getManager()
                                        .randomNormal(
                                                0,
                                                1,
                                                new Shape(n).addAll(mu.getShape()),
                                                type,
                                                any.getDevice());
                        out.put(k, eps.mul(sd).add(mu));
                    }
                    return ordered(out);
                },
                TensorTree::leaves);
    }

    /**
     * Returns the normalised log density of {@code N(params, T Λ^-1)} at one point (a scalar) or at
     * {@code m} points stacked along a leading dimension (a vector of {@code m}): {@code −(x − μ)ᵀ
     * Λ (x − μ) / (2T) + ½ log det Λ − P log(2πT) / 2}, with {@code log det Λ = Σ log(λ_G λ_Aᵀ +
     * δ)} over the layers plus the fallback's; differentiable in {@code x}.
     *
     * @param x one point or m points
     * @param temperature T; finite and positive
     * @return a new array
     * @throws IllegalArgumentException when T is not positive or {@code x} has neither structure
     */
    @Override
    public NDArray logProb(TensorTree x, double temperature) {
        Checks.positive(temperature, "temperature");
        long m = GaussianPosterior.pointCount(params, x);
        DataType type = x.anyLeaf().getDataType();
        return Scopes.call(
                x.manager(),
                () -> {
                    NDArray quad = null;
                    NDArray logDet = null;
                    for (Eig e : eigs(type)) {
                        NDArray d = augmented(x, e.layer()).sub(augmented(params, e.layer()));
                        NDArray k = e.qg().transpose().matMul(d).matMul(e.qa());
                        NDArray q = k.square().mul(e.den());
                        q = m < 0 ? q.sum() : q.reshape(m, -1).sum(new int[] {1});
                        quad = quad == null ? q : quad.add(q);
                        NDArray ld = e.den().log().sum();
                        logDet = logDet == null ? ld : logDet.add(ld);
                    }
                    for (String k : fallbackLeaves()) {
                        NDArray p = fallbackPrecision(k, type);
                        NDArray q = x.get(k).sub(params.get(k)).square().mul(p);
                        q = m < 0 ? q.sum() : q.reshape(m, -1).sum(new int[] {1});
                        quad = quad == null ? q : quad.add(q);
                        NDArray ld = p.log().sum();
                        logDet = logDet == null ? ld : logDet.add(ld);
                    }
                    double c = -0.5 * params.numel() * Math.log(2 * Math.PI * temperature);
                    return quad.mul(Scalars.like(quad, -0.5 / temperature))
                            .add(logDet.mul(Scalars.like(logDet, 0.5)))
                            .add(Scalars.like(quad, c));
                },
                List::of);
    }

    /**
     * Returns the marginal variances {@code diag(Λ^-1)}: per layer {@code (Q_G ∘ Q_G) (1 / den)
     * (Q_A ∘ Q_A)ᵀ}, and {@code 1 / (h + δ)} on the fallback leaves.
     *
     * @return a new tree
     */
    @Override
    public TensorTree varianceDiag() {
        DataType type = params.dataType();
        return Scopes.call(
                params.manager(),
                () -> {
                    Map<String, NDArray> out = new HashMap<>();
                    for (Eig e : eigs(type)) {
                        NDArray v =
                                e.qg().square()
                                        .matMul(e.den().pow(-1))
                                        .matMul(e.qa().square().transpose());
                        split(v, e.layer(), out);
                    }
                    for (String k : fallbackLeaves()) {
                        out.put(k, fallbackPrecision(k, type).pow(-1));
                    }
                    return ordered(out);
                },
                TensorTree::leaves);
    }

    /**
     * Returns {@code J Λ^-1 Jᵀ} for an {@code (m, P)} or {@code (n, m, P)} Jacobian without forming
     * {@code Λ^-1}: each layer's columns {@code M} (reshaped to {@code (..., out, in')}) become
     * {@code U = (Q_Gᵀ M Q_A) / sqrt(den)}, the fallback's columns are scaled by {@code 1 / sqrt(h
     * + δ)}, and the result is {@code U Uᵀ}.
     *
     * @param jacobian the Jacobian over the raveled parameters
     * @return a new {@code (m, m)} or {@code (n, m, m)} array
     * @throws IllegalArgumentException when {@code jacobian} is not {@code (m, P)} or {@code (n, m,
     *     P)}
     */
    @Override
    public NDArray projectCovariance(NDArray jacobian) {
        int[] t = GaussianPosterior.requireJacobian(jacobian, params.numel());
        DataType type = jacobian.getDataType();
        Shape js = jacobian.getShape();
        int lastAxis = js.dimension() - 1;
        String lead = js.dimension() == 3 ? ":, :, " : ":, ";
        Map<String, long[]> offsets = new HashMap<>();
        long at = 0;
        for (String k : params.names()) {
            long size = params.get(k).size();
            offsets.put(k, new long[] {at, size});
            at += size;
        }
        Shape rows = js.slice(0, lastAxis);
        return Scopes.call(
                jacobian.getManager(),
                () -> {
                    NDList parts = new NDList();
                    for (Eig e : eigs(type)) {
                        KroneckerFactors.Layer l = e.layer();
                        long[] w = offsets.get(l.weight());
                        Shape ws = params.get(l.weight()).getShape();
                        NDArray jm =
                                jacobian.get(new NDIndex(lead + "{}:{}", w[0], w[0] + w[1]))
                                        .reshape(rows.addAll(ws));
                        if (l.bias() != null) {
                            long[] b = offsets.get(l.bias());
                            NDArray jb =
                                    jacobian.get(new NDIndex(lead + "{}:{}", b[0], b[0] + b[1]))
                                            .reshape(rows.addAll(new Shape(ws.get(0), 1)));
                            jm = jm.concat(jb, lastAxis + 1);
                        }
                        NDArray u =
                                e.qg().transpose()
                                        .matMul(jm)
                                        .matMul(e.qa())
                                        .div(e.den().sqrt())
                                        .reshape(rows.add(-1));
                        parts.add(u);
                    }
                    for (String k : fallbackLeaves()) {
                        long[] o = offsets.get(k);
                        NDArray sd = fallbackPrecision(k, type).pow(-0.5).flatten();
                        parts.add(
                                jacobian.get(new NDIndex(lead + "{}:{}", o[0], o[0] + o[1]))
                                        .mul(sd));
                    }
                    NDArray u = parts.size() == 1 ? parts.get(0) : concat(parts, lastAxis);
                    return u.matMul(u.transpose(t));
                },
                List::of);
    }

    private static NDArray concat(NDList parts, int axis) {
        NDArray out = parts.get(0);
        for (int i = 1; i < parts.size(); i++) {
            out = out.concat(parts.get(i), axis);
        }
        return out;
    }

    /** The separable evidence groups: one per layer, then one per fallback leaf. */
    List<Evidence.Group> groups() {
        List<Evidence.Group> out = new ArrayList<>();
        Scopes.run(
                () -> {
                    double scale = samples == 0 ? 0 : 1.0 / samples;
                    for (KroneckerFactors.Layer l : factors) {
                        NDArray a = l.a().toType(DataType.FLOAT64, true);
                        NDArray g = l.g().toType(DataType.FLOAT64, true);
                        double[] la =
                                Linalg.eigh(a.add(a.transpose()).mul(Scalars.like(a, 0.5)))
                                        .get(0)
                                        .toDoubleArray();
                        double[] lg =
                                Linalg.eigh(g.add(g.transpose()).mul(Scalars.like(g, 0.5)))
                                        .get(0)
                                        .toDoubleArray();
                        double[] h = new double[la.length * lg.length];
                        for (int i = 0; i < lg.length; i++) {
                            for (int j = 0; j < la.length; j++) {
                                h[i * la.length + j] =
                                        Math.max(0, lg[i]) * Math.max(0, la[j]) * scale;
                            }
                        }
                        List<String> leaves = new ArrayList<>();
                        leaves.add(l.weight());
                        double[] theta =
                                Evidence.doubles(TensorTree.of(l.weight(), params.get(l.weight())));
                        double s = 0;
                        for (double v : theta) {
                            s += v * v;
                        }
                        if (l.bias() != null) {
                            leaves.add(l.bias());
                            for (double v :
                                    Evidence.doubles(
                                            TensorTree.of(l.bias(), params.get(l.bias())))) {
                                s += v * v;
                            }
                        }
                        out.add(new Evidence.Group(List.copyOf(leaves), s, h));
                    }
                    for (String k : fallbackLeaves()) {
                        double[] theta = Evidence.doubles(TensorTree.of(k, params.get(k)));
                        double[] h = Evidence.doubles(TensorTree.of(k, fallback.get(k)));
                        out.add(Evidence.Group.of(List.of(k), theta, h, 0, theta.length));
                    }
                });
        return out;
    }
}
