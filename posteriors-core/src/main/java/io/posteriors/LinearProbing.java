package io.posteriors;

import static io.posteriors.Differentiation.checkScalar;
import static io.posteriors.Differentiation.checkVector;
import static io.posteriors.Differentiation.onLeaves;
import static io.posteriors.Differentiation.treeLike;
import static io.posteriors.Differentiation.vjpOfScalar;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import io.posteriors.internal.TorchAutograd;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Linear-layer fast paths of a {@link ModelLogPosterior}: per-sample gradient moments, the
 * diagonal GGN and the linearised forward pass from one probed forward pass and per-layer outer
 * products, instead of one reverse pass per sample or per output element.
 *
 * <p>The model is run with a zero probe added to the output of every {@code Linear} layer; the
 * gradient with respect to a probe is the per-sample gradient with respect to that layer's output,
 * {@code delta}, and a weight's per-sample gradient is the outer product of {@code delta_i} with
 * the layer's input {@code a_i}. Each method returns null when the model is not covered (a layer
 * with parameters other than {@code Linear}, no {@code Linear} layer, inputs that are not
 * two-dimensional, a parameter used by two layers), and the caller takes the generic exact path.
 *
 * <p>One instance belongs to a log posterior and its per-sample form; {@link #calls()} counts the
 * calls it served, so tests can tell which path ran.
 *
 * @param <B> the batch type
 */
final class LinearProbing<B> {

    private final ModelLogPosterior<B> m;
    private final AtomicLong calls = new AtomicLong();

    LinearProbing(ModelLogPosterior<B> m) {
        this.m = m;
    }

    /** Returns how many calls this strategy served (for tests). */
    long calls() {
        return calls.get();
    }

    private <T> T served(T result) {
        if (result != null) {
            calls.incrementAndGet();
        }
        return result;
    }

    /** The model run with probes: its output, the probed layers and their probe arrays. */
    private record Probed(
            NDArray output, List<FunctionalModel.LinearProbe> probes, List<NDArray> probeArrays) {}

    /** Runs the model with zero probes on its Linear outputs, or returns null when not covered. */
    private Probed probedForward(TensorTree leaves, B batch) {
        List<FunctionalModel.LinearProbe> probes = new ArrayList<>();
        NDList out = m.model().forwardWithProbes(leaves, m.inputsOf(batch), probes);
        if (out == null || probes.isEmpty() || sharesParameters(probes)) {
            return null;
        }
        List<NDArray> probeArrays = new ArrayList<>();
        probes.forEach(p -> probeArrays.add(p.probe()));
        return new Probed(out.singletonOrThrow(), probes, probeArrays);
    }

    static boolean sharesParameters(List<FunctionalModel.LinearProbe> probes) {
        Set<String> seen = new HashSet<>();
        for (FunctionalModel.LinearProbe p : probes) {
            if (!seen.add(p.weight()) || (p.bias() != null && !seen.add(p.bias()))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Per-sample gradient moments of the per-sample log posterior (see {@link
     * Autodiff#perSampleGradMoments}), or null when the model is not covered.
     */
    Autodiff.GradMoments gradMoments(TensorTree params, B batch) {
        return served(
                onLeaves(
                        params,
                        x -> gradMoments(x, params, batch),
                        gm -> gm == null ? List.of() : gm.arrays()));
    }

    private Autodiff.GradMoments gradMoments(TensorTree x, TensorTree params, B batch) {
        Probed probed = probedForward(x, batch);
        if (probed == null) {
            return null;
        }
        NDArray o = probed.output();
        NDArray ll = m.logLikelihood().apply(o, batch);
        checkVector(ll, "per-sample log likelihood");
        long n = ll.getShape().get(0);
        NDArray total = ll.sum();
        NDList deltas =
                TorchAutograd.vjp(
                        List.of(total),
                        probed.probeArrays(),
                        List.of(total.onesLike()),
                        false,
                        params.manager());
        Map<String, NDArray> sum = new LinkedHashMap<>();
        Map<String, NDArray> sq = new LinkedHashMap<>();
        for (int i = 0; i < probed.probes().size(); i++) {
            FunctionalModel.LinearProbe p = probed.probes().get(i);
            NDArray delta = deltas.get(i);
            NDArray a = p.input();
            sum.put(p.weight(), delta.transpose().matMul(a));
            sq.put(p.weight(), delta.square().transpose().matMul(a.square()));
            if (p.bias() != null) {
                sum.put(p.bias(), delta.sum(new int[] {0}));
                sq.put(p.bias(), delta.square().sum(new int[] {0}));
            }
        }
        NDArray values = ll;
        TensorTree r = null;
        GaussianPrior gaussian = m.gaussianPrior();
        if (gaussian != null) {
            // the prior's value and gradient over N written down, no reverse pass
            double scale = 1.0 / m.dataSize();
            values = ll.add(gaussian.scaledValue(params, scale));
            r = gaussian.scaledGradient(params, scale);
        } else {
            NDArray prior = m.scaledPrior(x);
            if (prior != null) {
                checkScalar(prior, "log prior");
                values = ll.add(prior);
                r = treeLike(params, TorchAutograd.backward(prior, x.leaves()));
            }
        }
        Map<String, NDArray> sumOut = new LinkedHashMap<>();
        Map<String, NDArray> sqOut = new LinkedHashMap<>();
        for (String k : params.names()) {
            NDArray s1 = sum.get(k);
            NDArray s2 = sq.get(k);
            if (s1 == null) {
                s1 = params.get(k).zerosLike();
                s2 = params.get(k).zerosLike();
            }
            if (r != null) {
                NDArray rk = r.get(k);
                // sum_i (m_i + r)^2 = sum_i m_i^2 + r (2 sum_i m_i + n r); in place, since
                // every fresh full-size array costs an allocation and page faults
                NDArray nr = rk.mul(n);
                NDArray twiceSumPlusNr = s1.mul(2).addi(nr);
                s2.addi(twiceSumPlusNr.muli(rk));
                s1.addi(nr);
            }
            sumOut.put(k, s1);
            sqOut.put(k, s2);
        }
        return new Autodiff.GradMoments(
                values.stopGradient(),
                TensorTree.of(sumOut),
                TensorTree.of(sqOut),
                new NDList(o.stopGradient()));
    }

    /**
     * The diagonal GGN of the negative log likelihood (see {@link
     * Curvature#diagGgn(ModelLogPosterior, TensorTree, Object)}), or null when not covered.
     */
    TensorTree diagGgn(TensorTree params, B batch) {
        return served(
                onLeaves(
                        params,
                        x -> diagGgn(x, params, batch),
                        t -> t == null ? List.of() : t.leaves()));
    }

    private TensorTree diagGgn(TensorTree x, TensorTree params, B batch) {
        Probed probed = probedForward(x, batch);
        if (probed == null || probed.output().getShape().dimension() != 2) {
            return null;
        }
        NDArray o = probed.output();
        int c = (int) o.getShape().get(1);
        NDArray factor = hessianRoot(m, o, batch, params); // L = V diag(sqrt(lambda+))
        Map<String, NDArray> diag = new LinkedHashMap<>();
        for (int k = 0; k < c; k++) {
            NDArray u = factor.get(new NDIndex(":, :, {}", k));
            NDList deltas =
                    TorchAutograd.vjp(
                            List.of(o), probed.probeArrays(), List.of(u), false, params.manager());
            for (int i = 0; i < probed.probes().size(); i++) {
                FunctionalModel.LinearProbe p = probed.probes().get(i);
                NDArray d2 = deltas.get(i).square();
                accumulate(diag, p.weight(), d2.transpose().matMul(p.input().square()));
                if (p.bias() != null) {
                    accumulate(diag, p.bias(), d2.sum(new int[] {0}));
                }
            }
        }
        Map<String, NDArray> result = new LinkedHashMap<>();
        for (String k : params.names()) {
            NDArray d = diag.get(k);
            result.put(k, d == null ? params.get(k).zerosLike() : d);
        }
        return TensorTree.of(result);
    }

    private static void accumulate(Map<String, NDArray> into, String key, NDArray term) {
        NDArray prev = into.get(key);
        into.put(key, prev == null ? term : prev.add(term));
    }

    /**
     * The linearised predictive with diagonal parameter variances (see {@link
     * Curvature#linearizedForwardDiag(ModelLogPosterior, TensorTree, Object, TensorTree)}), or null
     * when not covered.
     */
    Curvature.Linearized linearizedForwardDiag(TensorTree params, B batch, TensorTree sdDiag) {
        return served(
                onLeaves(
                        params,
                        x -> linearizedForwardDiag(x, params, batch, sdDiag),
                        r -> r == null ? List.of() : r.arrays()));
    }

    private Curvature.Linearized linearizedForwardDiag(
            TensorTree x, TensorTree params, B batch, TensorTree sdDiag) {
        Probed probed = probedForward(x, batch);
        if (probed == null || probed.output().getShape().dimension() != 2) {
            return null;
        }
        NDArray o = probed.output();
        List<FunctionalModel.LinearProbe> probes = probed.probes();
        int c = (int) o.getShape().get(1);
        // deltas[layer] collects, for each output column, the (n, out) gradient at the probe
        List<NDList> deltas = new ArrayList<>();
        probes.forEach(p -> deltas.add(new NDList(c)));
        for (int k = 0; k < c; k++) {
            NDArray e = o.stopGradient().zerosLike();
            e.set(new NDIndex(":, {}", k), 1);
            NDList d =
                    TorchAutograd.vjp(
                            List.of(o), probed.probeArrays(), List.of(e), false, params.manager());
            for (int i = 0; i < probes.size(); i++) {
                deltas.get(i).add(d.get(i));
            }
        }
        NDArray cov = null;
        for (int i = 0; i < probes.size(); i++) {
            FunctionalModel.LinearProbe p = probes.get(i);
            NDArray dl = NDArrays.stack(deltas.get(i), 1); // (n, C, out)
            NDArray w = p.input().square().matMul(sdDiag.get(p.weight()).square().transpose());
            if (p.bias() != null) {
                w = w.add(sdDiag.get(p.bias()).square());
            }
            NDArray term = dl.mul(w.expandDims(1)).matMul(dl.transpose(0, 2, 1));
            cov = cov == null ? term : cov.add(term);
        }
        return new Curvature.Linearized(o.stopGradient(), cov, new NDList());
    }

    /**
     * Returns per-sample square roots {@code L_i = V_i diag(sqrt(max(λ_i, 0)))}, shape {@code (n,
     * C, C)}, of the Hessians of {@code -logLik_i} with respect to the outputs {@code o}: the
     * output-side factor of the GGN. Negative eigenvalues (a non-convex likelihood) are clipped at
     * zero, as the GGN requires. Shared by the diagonal GGN and KFAC.
     */
    static <B> NDArray hessianRoot(ModelLogPosterior<B> m, NDArray o, B batch, TensorTree params) {
        int c = (int) o.getShape().get(1);
        NDArray od = o.stopGradient();
        od.setRequiresGradient(true);
        NDArray loss = m.logLikelihood().apply(od, batch);
        checkVector(loss, "per-sample log likelihood");
        NDArray total = loss.sum().neg();
        NDArray g = vjpOfScalar(total, List.of(od), true, params.manager()).get(0);
        NDList columns = new NDList(c);
        for (int k = 0; k < c; k++) {
            NDArray e = od.zerosLike();
            e.set(new NDIndex(":, {}", k), 1);
            NDArray dot = g.mul(e).sum();
            columns.add(vjpOfScalar(dot, List.of(od), false, params.manager()).get(0));
        }
        NDArray h = NDArrays.stack(columns, 2); // (n, C, C): H[i, :, k]
        NDArray hs = h.add(h.transpose(0, 2, 1)).div(2);
        NDList eig = Linalg.eigh(hs);
        NDArray root = eig.get(0).maximum(0).sqrt(); // (n, C)
        return eig.get(1).mul(root.expandDims(1));
    }
}
