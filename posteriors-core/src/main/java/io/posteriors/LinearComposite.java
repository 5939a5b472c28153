package io.posteriors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;

/**
 * A block of your own whose parameters enter its output only through linear maps {@code y = x Wᵀ +
 * b} of two-dimensional inputs (a low-rank adapter, a gated sum of linear layers, a residual block
 * over {@code Linear} maps): implement it, and per-sample gradients, the diagonal empirical Fisher,
 * the diagonal GGN and the linearised predictive of a {@link ModelLogPosterior} whose model
 * contains the block keep the one-pass path (see {@code docs/core.md}) instead of one reverse pass
 * per sample.
 *
 * <p>Write the block's forward pass once, in {@link #forward(ParameterStore, NDList, boolean,
 * LinearMap)}, computing every map that involves a parameter through {@code linear}; the block's
 * own {@code forwardInternal} calls it with {@link #plain(ParameterStore, boolean)}. The library
 * calls it with a map that also records the map's input and the gradient at its output. Anything
 * else the forward pass does must not involve the block's parameters (constants, such as the frozen
 * weights of an adapted layer, are fine).
 *
 * <pre>{@code
 * // y = x W0ᵀ + b0 + (alpha / r) (x Aᵀ) Bᵀ, with W0, b0 frozen constants and A, B parameters
 * public NDList forward(ParameterStore s, NDList in, boolean training, LinearMap linear) {
 *     NDArray x = in.singletonOrThrow();
 *     NDArray u = linear.apply(x, a, null);
 *     NDArray z = linear.apply(u.mul(alpha / rank), b, null);
 *     return new NDList(x.matMul(w0.transpose()).add(b0).add(z));
 * }
 * }</pre>
 */
public interface LinearComposite {

    /** A linear map of the block: {@code input Wᵀ + b}. */
    @FunctionalInterface
    interface LinearMap {
        /**
         * Returns {@code input Wᵀ + b}.
         *
         * @param input the input, shape {@code (batch, in)}
         * @param weight the block's weight parameter W, shape {@code (out, in)}
         * @param bias the block's bias parameter b, shape {@code (out)}, or null
         * @return the output, shape {@code (batch, out)}
         */
        NDArray apply(NDArray input, Parameter weight, Parameter bias);
    }

    /**
     * Runs the block's forward pass, computing every map that involves a parameter through {@code
     * linear}.
     *
     * @param store where parameter values come from (for anything but the linear maps)
     * @param inputs the inputs
     * @param training whether this is a training pass
     * @param linear the linear maps
     * @return the outputs
     */
    NDList forward(ParameterStore store, NDList inputs, boolean training, LinearMap linear);

    /**
     * Returns the plain linear map, reading the parameters from {@code store}: what the block's own
     * {@code forwardInternal} passes to {@link #forward}.
     *
     * @param store the parameter store
     * @param training whether this is a training pass
     * @return the map
     */
    static LinearMap plain(ParameterStore store, boolean training) {
        return (input, weight, bias) -> {
            NDArray w = store.getValue(weight, input.getDevice(), training);
            NDArray y = input.matMul(w.transpose());
            return bias == null ? y : y.add(store.getValue(bias, input.getDevice(), training));
        };
    }
}
