package io.posteriors.examples.quickstart;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import io.posteriors.ForwardFn;
import io.posteriors.FunctionalModel;
import io.posteriors.GaussianPrior;
import io.posteriors.LogLikelihoods;
import io.posteriors.ModelLogPosterior;
import io.posteriors.ModelOutput;
import io.posteriors.OuterFn;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.List;

/**
 * The quick start's problem: three overlapping Gaussian blobs in the plane, classified by a small
 * MLP (2-32-32-3, tanh). Everything a method needs is here: the batches, the log posterior (mean
 * log likelihood plus an N(0, 1) prior divided by N, as posteriors recommends), the temperature
 * 1/N, the forward function and outer log likelihood for GGN-based methods, and evaluation of one
 * parameter tree or an ensemble of samples on held-out data.
 */
public final class Problem implements AutoCloseable {

    /** Number of training samples. */
    public static final int N = 1536;

    /** Batch size. */
    public static final int BATCH = 64;

    private final NDManager manager;
    private final FunctionalModel model;
    private final TensorTree initialParams;
    private final List<Batch> batches;
    private final Batch test;
    private final Batch ood;

    /**
     * Generates the data and the model with a fixed seed.
     *
     * @param seed the random seed
     */
    public Problem(long seed) {
        Engine.getInstance().setRandomSeed((int) seed);
        manager = NDManager.newBaseManager();
        SequentialBlock block = new SequentialBlock();
        block.add(Linear.builder().setUnits(32).build());
        block.add(Activation::tanh);
        block.add(Linear.builder().setUnits(32).build());
        block.add(Activation::tanh);
        block.add(Linear.builder().setUnits(3).build());
        block.initialize(manager, DataType.FLOAT32, new Shape(BATCH, 2));
        model = FunctionalModel.of(block);
        initialParams = TensorTree.fromBlock(block).copy(manager);
        Batch train = blobs(N);
        batches = new ArrayList<>();
        for (int i = 0; i < N; i += BATCH) {
            NDIndex idx = new NDIndex("{}:{}", i, i + BATCH);
            batches.add(new Batch(train.x().get(idx), train.y().get(idx)));
        }
        test = blobs(1024);
        ood = shifted(1024);
    }

    private Batch blobs(int n) {
        NDArray labels = manager.randomInteger(0, 3, new Shape(n), DataType.INT64);
        NDArray centres = manager.create(new float[][] {{0, 1.2f}, {-1.1f, -0.6f}, {1.1f, -0.6f}});
        NDArray x = centres.get(labels).add(manager.randomNormal(new Shape(n, 2)).mul(0.8f));
        return new Batch(x, labels);
    }

    /**
     * Draws inputs from three clusters that lie outside the training blobs (centres about 3.5 away
     * from the origin, in directions between and beyond the training centres): the shifted set on
     * which epistemic uncertainty should rise. Their labels are meaningless.
     */
    private Batch shifted(int n) {
        NDArray labels = manager.randomInteger(0, 3, new Shape(n), DataType.INT64);
        NDArray centres =
                manager.create(new float[][] {{3.2f, 3.0f}, {-3.4f, 2.6f}, {0.2f, -3.6f}});
        NDArray x = centres.get(labels).add(manager.randomNormal(new Shape(n, 2)).mul(0.5f));
        return new Batch(x, labels);
    }

    /**
     * Returns the shifted (out-of-distribution) inputs.
     *
     * @return 1024 inputs from clusters away from the training data
     */
    public Batch ood() {
        return ood;
    }

    /**
     * Splits the inputs of a batch into chunks of 256 for streaming prediction.
     *
     * @param b the batch
     * @return the input lists
     */
    public static List<NDList> inputs(Batch b) {
        long n = b.x().getShape().get(0);
        List<NDList> out = new ArrayList<>();
        for (long i = 0; i < n; i += 256) {
            out.add(new NDList(b.x().get(new NDIndex("{}:{}", i, Math.min(n, i + 256)))));
        }
        return out;
    }

    /**
     * Returns the labels of a batch as Java ints.
     *
     * @param b the batch
     * @return the labels
     */
    public static int[] labels(Batch b) {
        long[] l = b.y().toLongArray();
        int[] out = new int[l.length];
        for (int i = 0; i < l.length; i++) {
            out[i] = (int) l[i];
        }
        return out;
    }

    /**
     * Returns the manager that owns the data.
     *
     * @return the manager
     */
    public NDManager manager() {
        return manager;
    }

    /**
     * Returns the functional model.
     *
     * @return the model
     */
    public FunctionalModel model() {
        return model;
    }

    /**
     * Returns a fresh copy of the initial parameters.
     *
     * @return the parameters
     */
    public TensorTree initialParams() {
        return initialParams.copy(manager);
    }

    /**
     * Returns the training batches.
     *
     * @return the batches
     */
    public List<Batch> batches() {
        return batches;
    }

    /**
     * Returns the held-out test set.
     *
     * @return the test batch
     */
    public Batch test() {
        return test;
    }

    /**
     * Returns the recommended temperature 1/N.
     *
     * @return the temperature
     */
    public double temperature() {
        return 1.0 / N;
    }

    /**
     * Returns the logits of the model.
     *
     * @param params the parameters
     * @param x the inputs
     * @return the logits
     */
    public NDArray logits(TensorTree params, NDArray x) {
        return model.forward(params, new NDList(x)).singletonOrThrow();
    }

    /**
     * Returns the log posterior of a batch: mean log likelihood plus log prior over N, with the
     * logits as aux. It is a {@link ModelLogPosterior}, so per-sample methods (Laplace, EKF) take
     * the fast per-sample path.
     *
     * @return the function
     */
    public ModelLogPosterior<Batch> logPosterior() {
        return ModelLogPosterior.<Batch>builder(model, b -> new NDList(b.x()), Problem::logLik)
                .prior(GaussianPrior.isotropic(0.0, 1.0), N)
                .build();
    }

    /**
     * Returns the per-sample log likelihood (one entry per sample), for per-sample methods.
     *
     * @return the function
     */
    public ModelLogPosterior<Batch> perSampleLogLikelihood() {
        return logLikelihood().perSample();
    }

    /**
     * Returns the mean log likelihood of a batch (for filters and Laplace).
     *
     * @return the function
     */
    public ModelLogPosterior<Batch> logLikelihood() {
        return ModelLogPosterior.<Batch>builder(model, b -> new NDList(b.x()), Problem::logLik)
                .build();
    }

    private static NDArray logLik(NDArray logits, Batch b) {
        return LogLikelihoods.categorical(logits, b.y());
    }

    /**
     * Returns the forward function (logits).
     *
     * @return the function
     */
    public ForwardFn<Batch> forward() {
        return (p, b) -> ModelOutput.of(logits(p, b.x()));
    }

    /**
     * Returns the summed log likelihood of the outputs, the outer function of GGN methods.
     *
     * @return the function
     */
    public OuterFn<Batch> outerLogLikelihood() {
        return (o, b) -> LogLikelihoods.categorical(o, b.y()).sum();
    }

    @Override
    public void close() {
        manager.close();
    }
}
