package io.posteriors;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A DJL {@link Block} evaluated as a pure function of a parameter tree: the equivalent of {@code
 * torch.func.functional_call} and of posteriors' {@code model_to_function}.
 *
 * <p>The block's own parameter arrays are never read or written: each call substitutes the arrays
 * of the tree, keyed by the names {@code block.getParameters()} gives (for example {@code
 * 01Linear_weight}), so gradients taken through a call reach the tree. Works for sequential and
 * nested blocks, initialised or not; an uninitialised block must be called with {@code training =
 * false} (DJL initialises blocks on a training call).
 *
 * <pre>{@code
 * FunctionalModel model = FunctionalModel.of(block);
 * LogProbFn<Batch> logPost = (p, b) -> {
 *     NDArray logits = model.forward(p, new NDList(b.x())).singletonOrThrow();
 *     ...
 * };
 * }</pre>
 */
public final class FunctionalModel {

    private final Block block;
    private final Map<Parameter, String> names;
    private final List<String> order;

    private FunctionalModel(Block block) {
        this.block = block;
        this.names = new IdentityHashMap<>();
        List<Pair<String, Parameter>> params = block.getParameters().stream().toList();
        for (Pair<String, Parameter> p : params) {
            names.put(p.getValue(), p.getKey());
        }
        this.order = params.stream().map(Pair::getKey).toList();
    }

    /**
     * Wraps a block.
     *
     * @param block the block
     * @return the functional view of the block
     */
    public static FunctionalModel of(Block block) {
        return new FunctionalModel(Checks.notNull(block, "block"));
    }

    /**
     * Returns the wrapped block.
     *
     * @return the block
     */
    public Block block() {
        return block;
    }

    /**
     * Returns the parameter names a tree for this block must have, in the block's order.
     *
     * @return the names
     */
    public List<String> parameterNames() {
        return order;
    }

    /**
     * Runs the block in inference mode with the tree's arrays as parameters.
     *
     * @param params the parameters, with a leaf for every parameter the forward pass uses
     * @param inputs the inputs
     * @return the outputs
     */
    public NDList forward(TensorTree params, NDList inputs) {
        return forward(params, inputs, false);
    }

    /**
     * Runs the block with the tree's arrays as parameters.
     *
     * @param params the parameters, with a leaf for every parameter the forward pass uses
     * @param inputs the inputs
     * @param training whether to run in training mode (dropout on; BatchNorm updates its running
     *     statistics, which is a side effect on the block)
     * @return the outputs
     */
    public NDList forward(TensorTree params, NDList inputs, boolean training) {
        Checks.notNull(params, "params");
        Checks.notNull(inputs, "inputs");
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("inputs must not be empty");
        }
        NDManager manager = inputs.head().getManager();
        return block.forward(new TreeStore(manager, params), inputs, training);
    }

    /**
     * A {@code Linear} layer met during a probed forward pass: its parameter names, its input
     * activations and the zero probe added to its output, whose gradient is the per-sample gradient
     * with respect to the layer's output.
     *
     * @param weight the tree name of the weight, shape {@code (out, in)}
     * @param bias the tree name of the bias, or null when the layer has none
     * @param input the layer's input, shape {@code (n, in)}, detached from the graph
     * @param probe the zero probe, shape {@code (n, out)}, requiring gradients
     */
    record LinearProbe(String weight, String bias, NDArray input, NDArray probe) {}

    /**
     * Runs the block with a zero probe added to the output of every {@code Linear} layer, for
     * per-sample gradients by outer products. Supports {@link SequentialBlock}s (nested or not) of
     * {@code Linear} layers with two-dimensional inputs and blocks without parameters (activations,
     * dropout in inference mode, flatten); returns null for anything else, so the caller falls back
     * to the generic path.
     *
     * @param params the parameters (leaves that require gradients)
     * @param inputs the inputs
     * @param probes receives one entry per {@code Linear} layer, in forward order
     * @return the outputs, or null when the block holds a layer with parameters that is not covered
     */
    NDList forwardWithProbes(TensorTree params, NDList inputs, List<LinearProbe> probes) {
        NDManager manager = inputs.head().getManager();
        return probed(block, inputs, new TreeStore(manager, params), params, probes);
    }

    private NDList probed(
            Block b, NDList x, ParameterStore store, TensorTree params, List<LinearProbe> probes) {
        if (b instanceof SequentialBlock seq) {
            NDList cur = x;
            for (Block child : seq.getChildren().values()) {
                cur = probed(child, cur, store, params, probes);
                if (cur == null) {
                    return null;
                }
            }
            return cur;
        }
        if (b instanceof Linear) {
            NDArray in = x.singletonOrThrow();
            String w = null;
            String bias = null;
            for (Pair<String, Parameter> p : b.getDirectParameters()) {
                String name = names.get(p.getValue());
                if ("weight".equals(p.getKey())) {
                    w = name;
                } else if ("bias".equals(p.getKey())) {
                    bias = name;
                } else {
                    return null;
                }
            }
            NDArray y = probedLinear(in, w, bias, params, probes);
            return y == null ? null : new NDList(y);
        }
        if (b instanceof LinearComposite composite) {
            boolean[] uncovered = {false};
            NDList out =
                    composite.forward(
                            store,
                            x,
                            false,
                            (in, weight, bias) -> {
                                NDArray y =
                                        probedLinear(
                                                in,
                                                weight == null ? null : names.get(weight),
                                                bias == null ? null : names.get(bias),
                                                params,
                                                probes);
                                if (y != null) {
                                    return y;
                                }
                                // not coverable: finish the pass plainly, then report null
                                uncovered[0] = true;
                                return LinearComposite.plain(store, false).apply(in, weight, bias);
                            });
            return uncovered[0] ? null : out;
        }
        if (b.getParameters().isEmpty()) {
            return b.forward(store, x, false);
        }
        return null;
    }

    /**
     * Returns the weight and bias names ({@code {weight, bias}}, bias null when absent) of the
     * {@code Linear} layers that {@link #forwardWithProbes} would probe, in forward order, or null
     * when the block holds a layer with parameters that the probed forward does not cover.
     *
     * @return the layers, or null
     */
    List<String[]> linearLayers() {
        List<String[]> out = new java.util.ArrayList<>();
        return linearLayers(block, out) ? out : null;
    }

    private boolean linearLayers(Block b, List<String[]> out) {
        if (b instanceof SequentialBlock seq) {
            for (Block child : seq.getChildren().values()) {
                if (!linearLayers(child, out)) {
                    return false;
                }
            }
            return true;
        }
        if (b instanceof Linear) {
            String w = null;
            String bias = null;
            for (Pair<String, Parameter> p : b.getDirectParameters()) {
                if ("weight".equals(p.getKey())) {
                    w = names.get(p.getValue());
                } else if ("bias".equals(p.getKey())) {
                    bias = names.get(p.getValue());
                } else {
                    return false;
                }
            }
            if (w == null) {
                return false;
            }
            out.add(new String[] {w, bias});
            return true;
        }
        return b.getParameters().isEmpty();
    }

    /**
     * Computes {@code in Wᵀ + b} from the tree with a zero probe added to the output and records
     * the probe, or returns null when the map cannot be probed (inputs that are not
     * two-dimensional, a weight or bias that is not a leaf of the tree).
     */
    private static NDArray probedLinear(
            NDArray in, String w, String bias, TensorTree params, List<LinearProbe> probes) {
        if (in.getShape().dimension() != 2
                || w == null
                || !params.contains(w)
                || (bias != null && !params.contains(bias))) {
            return null;
        }
        NDArray y = in.matMul(params.get(w).transpose());
        if (bias != null) {
            y = y.add(params.get(bias));
        }
        NDArray probe = y.stopGradient().zerosLike();
        probe.setRequiresGradient(true);
        probes.add(new LinearProbe(w, bias, in.stopGradient(), probe));
        return y.add(probe);
    }

    /**
     * Returns the name of the first block with parameters that the one-pass per-sample path does
     * not cover (anything but {@code Linear} and blocks without parameters, inside {@code
     * SequentialBlock}s), as "ClassName (parameter names)", or null when every block is covered.
     */
    String firstUncoveredLayer() {
        return firstUncovered(block);
    }

    private String firstUncovered(Block b) {
        if (b instanceof SequentialBlock seq) {
            for (Block child : seq.getChildren().values()) {
                String u = firstUncovered(child);
                if (u != null) {
                    return u;
                }
            }
            return null;
        }
        if (b instanceof Linear || b instanceof LinearComposite || b.getParameters().isEmpty()) {
            return null;
        }
        List<String> params = new java.util.ArrayList<>();
        b.getParameters().forEach(p -> params.add(p.getKey()));
        return b.getClass().getSimpleName() + " " + params;
    }

    /** A parameter store that hands out the arrays of a tree instead of the block's own. */
    private final class TreeStore extends ParameterStore {
        private final TensorTree params;

        TreeStore(NDManager manager, TensorTree params) {
            super(manager, false);
            this.params = params;
        }

        @Override
        public NDArray getValue(Parameter parameter, Device device, boolean training) {
            if (parameter == null) {
                // an optional parameter that the layer does not have (a Linear without bias)
                return null;
            }
            String name = names.get(parameter);
            if (name == null) {
                throw new IllegalStateException(
                        Checks.format(
                                "parameter '%s' does not belong to the wrapped block",
                                parameter.getName()));
            }
            if (!params.contains(name)) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "params has no leaf '%s' for the block's parameter; leaves are %s",
                                name, params.names()));
            }
            NDArray a = params.get(name);
            ai.djl.ndarray.types.Shape want = parameter.getShape();
            if (want != null && !want.equals(a.getShape())) {
                // checked here, before the engine sees it, so the message names the leaf
                throw new IllegalArgumentException(
                        Checks.format(
                                "params leaf '%s' must have shape %s for the block, got %s",
                                name, want, a.getShape()));
            }
            if (!a.getDevice().equals(device)) {
                throw new IllegalArgumentException(
                        Checks.format(
                                "params leaf '%s' is on %s but the block runs on %s",
                                name, a.getDevice(), device));
            }
            return a;
        }
    }
}
