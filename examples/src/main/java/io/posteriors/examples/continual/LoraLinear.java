package io.posteriors.examples.continual;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;
import io.posteriors.LinearComposite;
import java.util.Locale;
import java.util.Objects;

/**
 * A low-rank adapter over a frozen dense layer (Hu, Shen, Wallis, Allen-Zhu, Li, Wang, Wang and
 * Chen, "LoRA: Low-Rank Adaptation of Large Language Models", ICLR 2022). For an input {@code x} of
 * shape {@code (n, in)} it returns
 *
 * <pre>
 * y = x Wᵀ + b + (alpha / rank) · (x Aᵀ) Bᵀ
 * </pre>
 *
 * <p>where {@code W} ({@code out × in}) and {@code b} ({@code out}) are the weights of a trained
 * {@link Linear} layer, held inside the block as constants, and {@code A} ({@code rank × in}) and
 * {@code B} ({@code out × rank}) are the block's only {@link Parameter}s. So {@code
 * block.getParameters()}, {@link io.posteriors.TensorTree#fromBlock} and {@link
 * io.posteriors.FunctionalModel} see the adapters and nothing else: an optimiser, a Laplace
 * approximation or a prior built over the tree of such a model moves and measures only {@code A}
 * and {@code B}, while the base weights stay where the base training left them.
 *
 * <p>{@code A} starts from {@code N(0, 1 / in)} and {@code B} from zeros, so before any adapter
 * training the block computes exactly the wrapped layer, while the gradient with respect to {@code
 * B} is not zero.
 *
 * <p>The block is a {@link LinearComposite}: its two adapter maps are computed through the map the
 * library passes, so the diagonal empirical Fisher of a book (per-sample gradients of A and B)
 * takes the one-pass path instead of one reverse pass per sample.
 */
public final class LoraLinear extends AbstractBlock implements LinearComposite {

    private static final byte VERSION = 1;

    private final NDArray weight;
    private final NDArray bias;
    private final NDArray scale;
    private final int rank;
    private final double alpha;
    private final long in;
    private final long out;
    private final Parameter loraA;
    private final Parameter loraB;

    /**
     * Wraps a trained dense layer's weights. The block copies {@code weight} and {@code bias} (on
     * their manager, which must stay open while the block is used); later changes to the arrays
     * passed in do not reach it.
     *
     * @param weight the frozen weight {@code W}, shape {@code (out, in)}
     * @param bias the frozen bias {@code b}, shape {@code (out)}, or null for none
     * @param rank the rank r of the update, at least 1
     * @param alpha the scale numerator: the update is multiplied by {@code alpha / rank}; finite
     *     and positive
     * @throws NullPointerException when {@code weight} is null
     * @throws IllegalArgumentException when {@code weight} is not two-dimensional, {@code bias}
     *     does not have {@code out} entries, {@code rank < 1} or {@code alpha} is not finite and
     *     positive
     */
    public LoraLinear(NDArray weight, NDArray bias, int rank, double alpha) {
        super(VERSION);
        Objects.requireNonNull(weight, "weight");
        Shape ws = weight.getShape();
        if (ws.dimension() != 2) {
            throw new IllegalArgumentException(
                    String.format(Locale.ROOT, "weight must be (out, in), got shape %s", ws));
        }
        if (bias != null && !bias.getShape().equals(new Shape(ws.get(0)))) {
            throw new IllegalArgumentException(
                    String.format(
                            Locale.ROOT,
                            "bias must have shape (%d) to match weight %s, got %s",
                            ws.get(0),
                            ws,
                            bias.getShape()));
        }
        if (rank < 1) {
            throw new IllegalArgumentException(
                    String.format(Locale.ROOT, "rank must be at least 1, got %d", rank));
        }
        if (!(alpha > 0) || !Double.isFinite(alpha)) {
            throw new IllegalArgumentException(
                    String.format(Locale.ROOT, "alpha must be finite and positive, got %s", alpha));
        }
        this.out = ws.get(0);
        this.in = ws.get(1);
        this.rank = rank;
        this.alpha = alpha;
        // detached native copies: no gradient flows into them, and no Java memory sits behind them
        // that the garbage collector could free while autograd still reads it
        this.weight = frozenCopy(weight);
        this.bias = bias == null ? null : frozenCopy(bias);
        this.scale =
                weight.getManager().full(new Shape(), (float) (alpha / rank), weight.getDataType());
        this.loraA =
                addParameter(
                        Parameter.builder()
                                .setName("loraA")
                                .setType(Parameter.Type.WEIGHT)
                                .optShape(new Shape(rank, in))
                                .optInitializer(new NormalInitializer((float) (1 / Math.sqrt(in))))
                                .build());
        this.loraB =
                addParameter(
                        Parameter.builder()
                                .setName("loraB")
                                .setType(Parameter.Type.WEIGHT)
                                .optShape(new Shape(out, rank))
                                .optInitializer(Initializer.ZEROS)
                                .build());
    }

    private static NDArray frozenCopy(NDArray a) {
        try (NDArray detached = a.stopGradient()) {
            return detached.duplicate();
        }
    }

    /**
     * Returns the rank r.
     *
     * @return r
     */
    public int rank() {
        return rank;
    }

    /**
     * Returns alpha; the update is scaled by {@code alpha / rank}.
     *
     * @return alpha
     */
    public double alpha() {
        return alpha;
    }

    /**
     * Returns the number of trainable (adapter) parameters, {@code rank · (in + out)}.
     *
     * @return the count
     */
    public long trainableParameters() {
        return rank * (in + out);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        return forward(
                parameterStore, inputs, training, LinearComposite.plain(parameterStore, training));
    }

    /**
     * The forward pass, with the two adapter maps computed through {@code linear}: {@code u = x
     * Aᵀ}, then {@code (s u) Bᵀ} with {@code s = alpha / rank}, added to the frozen layer's {@code
     * x Wᵀ + b}. Written this way, per-sample gradients of a {@code ModelLogPosterior} over this
     * block (the diagonal Fisher of each book) take the library's one-pass path.
     *
     * @param parameterStore where the adapter values come from
     * @param inputs the input, shape {@code (batch, in)}
     * @param training whether this is a training pass
     * @param linear the linear maps
     * @return the output, shape {@code (batch, out)}
     */
    @Override
    public NDList forward(
            ParameterStore parameterStore, NDList inputs, boolean training, LinearMap linear) {
        NDArray x = inputs.singletonOrThrow();
        NDList base = bias == null ? Linear.linear(x, weight) : Linear.linear(x, weight, bias);
        NDArray low = linear.apply(x, loraA, null);
        NDArray scaledLow = low.mul(scale);
        NDArray update = linear.apply(scaledLow, loraB, null);
        NDArray y = base.singletonOrThrow().add(update);
        // the autograd graph keeps what the backward pass needs; the handles can go now
        base.close();
        low.close();
        scaledLow.close();
        update.close();
        return new NDList(y);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {s.slice(0, s.dimension() - 1).add(out)};
    }

    @Override
    protected void prepare(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        if (s.dimension() < 1 || s.get(s.dimension() - 1) != in) {
            throw new IllegalArgumentException(
                    String.format(
                            Locale.ROOT,
                            "input must end in %d features to match the wrapped weight, got shape"
                                    + " %s",
                            in,
                            s));
        }
    }
}
