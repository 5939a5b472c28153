package io.posteriors;

import static io.posteriors.Differentiation.checkVector;
import static io.posteriors.Differentiation.requireOpen;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import io.posteriors.internal.Scoped;
import io.posteriors.internal.TorchAutograd;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Kronecker factors of the curvature of a structured log posterior's {@code Linear} layers, from
 * the same probed forward pass as the fast per-sample path (see {@link
 * Curvature#diagGgn(ModelLogPosterior, TensorTree, Object)}): the raw sums that K-FAC
 * approximations are built from.
 *
 * <p>For a layer {@code z = W a + b}, write {@code ã = (a, 1)} (the input augmented with a one when
 * the layer has a bias) and {@code δ} for a vector pushed back to the layer's output. For the
 * batch's samples i,
 *
 * <pre>
 * a = Σ_i ã_i ã_iᵀ                          ((in + 1) × (in + 1), or in × in without bias)
 * g = Σ_i Σ_c δ_ic δ_icᵀ                     (out × out)
 * </pre>
 *
 * <p>with {@code δ_ic = J_iᵀ L_i e_c} the c-th column of the square root {@code L_i L_iᵀ = H_i} of
 * the Hessian of {@code -logLik_i} in the outputs pushed back to the layer (the GGN, {@link #ggn}:
 * C reverse passes for C outputs per sample), or {@code δ_i = ∇_z logLik_i} (the empirical Fisher,
 * {@link #empiricalFisher}: one reverse pass). For one sample {@code g ⊗ a} is exactly the layer's
 * block of the GGN (or empirical Fisher) over the augmented weight {@code [W b]} raveled row-major;
 * over n samples K-FAC approximates the block by {@code g ⊗ (a / n)} (Martens and Grosse,
 * "Optimizing neural networks with Kronecker-factored approximate curvature", ICML 2015; Ritter,
 * Botev and Barber, "A scalable Laplace approximation for neural networks", ICLR 2018). The log
 * prior is never included.
 */
public final class KroneckerFactors {

    private KroneckerFactors() {}

    /**
     * One {@code Linear} layer's factor sums.
     *
     * @param weight the tree name of the weight, shape {@code (out, in)}
     * @param bias the tree name of the bias, or null when the layer has none
     * @param a {@code Σ_i ã_i ã_iᵀ}, shape {@code (in + 1, in + 1)} with a bias, {@code (in, in)}
     *     without
     * @param g {@code Σ_i Σ_c δ_ic δ_icᵀ}, shape {@code (out, out)}
     */
    public record Layer(String weight, String bias, NDArray a, NDArray g) {
        /**
         * Checks the components.
         *
         * @throws NullPointerException when {@code weight}, {@code a} or {@code g} is null
         */
        public Layer {
            Checks.notNull(weight, "weight");
            Checks.notNull(a, "a");
            Checks.notNull(g, "g");
        }
    }

    /**
     * The factor sums of the covered layers for one batch.
     *
     * @param layers one entry per covered {@code Linear} layer, in forward order
     * @param samples the number of samples n of the batch
     */
    public record Batch(List<Layer> layers, long samples) implements AutoCloseable {
        /**
         * Copies the list.
         *
         * @throws NullPointerException when {@code layers} is null
         */
        public Batch {
            layers = List.copyOf(Checks.notNull(layers, "layers"));
        }

        /** Closes every factor. */
        @Override
        public void close() {
            layers.forEach(
                    l -> {
                        l.a().close();
                        l.g().close();
                    });
        }

        private List<NDArray> arrays() {
            List<NDArray> all = new ArrayList<>();
            layers.forEach(
                    l -> {
                        all.add(l.a());
                        all.add(l.g());
                    });
            return all;
        }
    }

    /**
     * The leaf names of one {@code Linear} layer.
     *
     * @param weight the tree name of the weight
     * @param bias the tree name of the bias, or null when the layer has none
     */
    public record LayerNames(String weight, String bias) {
        /**
         * Checks the weight name.
         *
         * @throws NullPointerException when {@code weight} is null
         */
        public LayerNames {
            Checks.notNull(weight, "weight");
        }
    }

    /**
     * Returns the {@code Linear} layers whose factors {@link #ggn} and {@link #empiricalFisher}
     * compute for this model, in forward order, found from the block's structure (no forward pass):
     * empty when the model is not covered (a layer with parameters that is not {@code Linear}).
     * Inputs that are not two-dimensional are only detected at a forward pass.
     *
     * @param model the model
     * @return the layers
     */
    public static List<LayerNames> layers(FunctionalModel model) {
        Checks.notNull(model, "model");
        List<String[]> found = model.linearLayers();
        if (found == null) {
            return List.of();
        }
        List<LayerNames> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (String[] l : found) {
            if (!seen.add(l[0]) || (l[1] != null && !seen.add(l[1]))) {
                return List.of();
            }
            out.add(new LayerNames(l[0], l[1]));
        }
        return out;
    }

    /**
     * Returns the GGN factor sums of the {@code Linear} layers whose weight (and bias) names pass
     * {@code layers}, or null when the model is not covered by the fast path (a layer with
     * parameters that is not {@code Linear}, inputs that are not two-dimensional, outputs that are
     * not {@code (n, C)}, a parameter shared by two layers).
     *
     * @param m the structured log posterior (its log likelihood entry i must depend on sample i's
     *     outputs only)
     * @param params the full parameters of the model (where to linearise)
     * @param batch the batch
     * @param layers selects layers by their leaf names; a layer is kept when its weight and its
     *     bias (if any) pass
     * @param <B> the batch type
     * @return the factor sums on the parameters' manager, or null
     */
    public static <B> Batch ggn(
            ModelLogPosterior<B> m, TensorTree params, B batch, Predicate<String> layers) {
        return compute(m, params, batch, layers, true);
    }

    /**
     * Returns the empirical-Fisher factor sums ({@code δ_i} the per-sample gradient of the log
     * likelihood with respect to the layer's output) of the selected {@code Linear} layers, or null
     * when the model is not covered (see {@link #ggn}).
     *
     * @param m the structured log posterior
     * @param params the full parameters of the model
     * @param batch the batch
     * @param layers selects layers by their leaf names
     * @param <B> the batch type
     * @return the factor sums on the parameters' manager, or null
     */
    public static <B> Batch empiricalFisher(
            ModelLogPosterior<B> m, TensorTree params, B batch, Predicate<String> layers) {
        return compute(m, params, batch, layers, false);
    }

    private static <B> Batch compute(
            ModelLogPosterior<B> m,
            TensorTree params,
            B batch,
            Predicate<String> layers,
            boolean ggn) {
        Checks.notNull(m, "m");
        Checks.notNull(layers, "layers");
        requireOpen(params);
        return Scoped.call(
                params.manager(),
                () ->
                        TorchAutograd.withGrad(
                                () ->
                                        factors(
                                                m,
                                                params.map(NDArray::stopGradient),
                                                params,
                                                batch,
                                                layers,
                                                ggn)),
                b -> b == null ? List.of() : b.arrays());
    }

    private static <B> Batch factors(
            ModelLogPosterior<B> m,
            TensorTree x,
            TensorTree params,
            B batch,
            Predicate<String> keep,
            boolean ggn) {
        List<FunctionalModel.LinearProbe> probes = new ArrayList<>();
        NDList out = m.model().forwardWithProbes(x, m.inputsOf(batch), probes);
        if (out == null || probes.isEmpty() || LinearProbing.sharesParameters(probes)) {
            return null;
        }
        NDArray o = out.singletonOrThrow();
        if (o.getShape().dimension() != 2) {
            return null;
        }
        List<FunctionalModel.LinearProbe> kept = new ArrayList<>();
        for (FunctionalModel.LinearProbe p : probes) {
            if (keep.test(p.weight()) && (p.bias() == null || keep.test(p.bias()))) {
                kept.add(p);
            }
        }
        List<NDArray> probeArrays = new ArrayList<>();
        kept.forEach(p -> probeArrays.add(p.probe()));
        long n = o.getShape().get(0);
        NDArray[] g = new NDArray[kept.size()];
        if (!kept.isEmpty()) {
            if (ggn) {
                NDArray factor = LinearProbing.hessianRoot(m, o, batch, params);
                int c = (int) o.getShape().get(1);
                for (int k = 0; k < c; k++) {
                    NDArray u = factor.get(new NDIndex(":, :, {}", k));
                    NDList deltas =
                            TorchAutograd.vjp(
                                    List.of(o), probeArrays, List.of(u), false, params.manager());
                    addOuter(g, deltas);
                }
            } else {
                NDArray ll = m.logLikelihood().apply(o, batch);
                checkVector(ll, "per-sample log likelihood");
                NDArray total = ll.sum();
                NDList deltas =
                        TorchAutograd.vjp(
                                List.of(total),
                                probeArrays,
                                List.of(total.onesLike()),
                                false,
                                params.manager());
                addOuter(g, deltas);
            }
        }
        List<Layer> result = new ArrayList<>();
        for (int i = 0; i < kept.size(); i++) {
            FunctionalModel.LinearProbe p = kept.get(i);
            NDArray a = p.input();
            if (p.bias() != null) {
                a = a.concat(a.onesLike().get(new NDIndex(":, 0:1")), 1);
            }
            result.add(new Layer(p.weight(), p.bias(), a.transpose().matMul(a), g[i]));
        }
        return new Batch(result, n);
    }

    private static void addOuter(NDArray[] g, NDList deltas) {
        for (int i = 0; i < g.length; i++) {
            NDArray d = deltas.get(i).stopGradient();
            NDArray term = d.transpose().matMul(d);
            g[i] = g[i] == null ? term : g[i].add(term);
        }
    }
}
