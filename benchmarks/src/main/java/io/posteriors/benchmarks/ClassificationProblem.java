package io.posteriors.benchmarks;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import io.posteriors.DiagNormal;
import io.posteriors.ForwardFn;
import io.posteriors.FunctionalModel;
import io.posteriors.GaussianPrior;
import io.posteriors.LogLikelihoods;
import io.posteriors.ModelLogPosterior;
import io.posteriors.ModelOutput;
import io.posteriors.OuterFn;
import io.posteriors.TensorTree;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The synthetic classification problem of the plain-PyTorch reference (shared/reference): inputs x
 * ~ N(0, I), labels the argmax of a fixed random teacher MLP, a student MLP of the same shape with
 * ReLU activations, batches that are consecutive slices of the data, and the log posterior of the
 * posteriors README: mean log likelihood (minus the mean cross entropy) plus an N(0, 1) prior over
 * N, with the logits as aux.
 *
 * <p>Weights and biases start as PyTorch's {@code nn.Linear} does, U(-1/sqrt(fan_in),
 * 1/sqrt(fan_in)). Seeds: data 0, teacher 1, student 2, then 3 for the run (the reference's seeds;
 * the engine's generator does not reproduce torch's numbers, only their distribution).
 */
public final class ClassificationProblem implements AutoCloseable {

    /** The reference's data-set size N. */
    public static final int MLP_N = 60_000;

    /** The reference's batch size. */
    public static final int MLP_BATCH = 64;

    private static final int DATA_SEED = 0;
    private static final int TEACHER_SEED = 1;
    private static final int STUDENT_SEED = 2;
    private static final int RUN_SEED = 3;

    private final int n;
    private final int inputs;
    private final int[] units;
    private final int batchSize;
    private final NDManager manager;
    private final FunctionalModel model;
    private final TensorTree initialParams;
    private final List<Batch> batches;

    private ClassificationProblem(int n, int inputs, int[] units, int batchSize) {
        this.n = n;
        this.inputs = inputs;
        this.units = units.clone();
        this.batchSize = batchSize;
        this.manager = NDManager.newBaseManager();
        SequentialBlock block = newBlock(units);
        block.initialize(manager, DataType.FLOAT32, new Shape(batchSize, inputs));
        this.model = FunctionalModel.of(block);

        Engine.getInstance().setRandomSeed(DATA_SEED);
        NDArray x = manager.randomNormal(new Shape(n, inputs));
        Engine.getInstance().setRandomSeed(TEACHER_SEED);
        NDArray y;
        try (TensorTree teacher = torchLikeInit(model.parameterNames(), block);
                NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            y = model.forward(teacher, new NDList(x)).singletonOrThrow().argMax(1);
            y = y.toType(DataType.INT64, false);
            NDScope.unregister(y);
        }
        Engine.getInstance().setRandomSeed(STUDENT_SEED);
        this.initialParams = torchLikeInit(model.parameterNames(), block);
        this.batches = new ArrayList<>();
        for (int i = 0; i + batchSize <= n; i += batchSize) {
            NDIndex idx = new NDIndex("{}:{}", i, i + batchSize);
            batches.add(new Batch(x.get(idx), y.get(idx)));
        }
        Engine.getInstance().setRandomSeed(RUN_SEED);
    }

    /**
     * Builds the reference's problem: MLP 784-256-256-10, N = 60000, batches of 64.
     *
     * @return the problem
     */
    public static ClassificationProblem mlp() {
        return new ClassificationProblem(MLP_N, 784, new int[] {256, 256, 10}, MLP_BATCH);
    }

    /**
     * Builds the small problem for dense methods: MLP 20-32-4 (804 parameters), N = 2048, batches
     * of 64.
     *
     * @return the problem
     */
    public static ClassificationProblem small() {
        return new ClassificationProblem(2048, 20, new int[] {32, 4}, 64);
    }

    /**
     * Returns the number of parameters of the MLP 784-256-256-10 (269,322).
     *
     * @return the count
     */
    public static long mlpParams() {
        return count(784, new int[] {256, 256, 10});
    }

    /**
     * Returns the number of parameters of the small MLP 20-32-4 (804).
     *
     * @return the count
     */
    public static long smallParams() {
        return count(20, new int[] {32, 4});
    }

    private static long count(int inputs, int[] units) {
        long c = 0;
        int in = inputs;
        for (int u : units) {
            c += (long) in * u + u;
            in = u;
        }
        return c;
    }

    /**
     * Returns an uninitialised block of this problem's shape (Linear, ReLU, ..., Linear), for plain
     * DJL training.
     *
     * @return a new block
     */
    public SequentialBlock newBlock() {
        return newBlock(units);
    }

    private static SequentialBlock newBlock(int[] units) {
        SequentialBlock block = new SequentialBlock();
        for (int i = 0; i < units.length; i++) {
            block.add(Linear.builder().setUnits(units[i]).build());
            if (i < units.length - 1) {
                block.add(Activation::relu);
            }
        }
        return block;
    }

    /** Draws every Linear leaf from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as torch does. */
    private TensorTree torchLikeInit(List<String> names, SequentialBlock block) {
        Map<String, NDArray> leaves = new LinkedHashMap<>();
        long fanIn = inputs;
        for (String name : names) {
            Shape shape = block.getParameters().get(name).getArray().getShape();
            if (shape.dimension() == 2) {
                fanIn = shape.get(1);
            }
            float bound = (float) (1.0 / Math.sqrt(fanIn));
            leaves.put(name, manager.randomUniform(-bound, bound, shape));
        }
        return TensorTree.of(leaves);
    }

    /**
     * Returns the manager that owns the data and the parameters.
     *
     * @return the manager
     */
    public NDManager manager() {
        return manager;
    }

    /**
     * Returns the data-set size N.
     *
     * @return N
     */
    public int n() {
        return n;
    }

    /**
     * Returns the batch size.
     *
     * @return the batch size
     */
    public int batchSize() {
        return batchSize;
    }

    /**
     * Returns the input width.
     *
     * @return the number of input features
     */
    public int inputs() {
        return inputs;
    }

    /**
     * Returns the consecutive batches (views of the data), in order.
     *
     * @return the batches
     */
    public List<Batch> batches() {
        return batches;
    }

    /**
     * Returns the student's initial parameters (shared; transforms copy them in {@code init}).
     *
     * @return the parameters
     */
    public TensorTree initialParams() {
        return initialParams;
    }

    /**
     * Returns the functional view of the student.
     *
     * @return the model
     */
    public FunctionalModel model() {
        return model;
    }

    /**
     * Returns the temperature 1/N.
     *
     * @return 1/N
     */
    public double temperature() {
        return 1.0 / n;
    }

    private NDArray logits(TensorTree p, NDArray x) {
        return model.forward(p, new NDList(x)).singletonOrThrow();
    }

    /**
     * Returns the log posterior of a batch: mean log likelihood plus the N(0, 1) log prior over N,
     * with the logits as aux. Built as a {@link ModelLogPosterior} with a {@link GaussianPrior},
     * the way a user gets the fast per-sample path and the analytic prior gradient.
     *
     * @return the function
     */
    public ModelLogPosterior<Batch> logPosterior() {
        return ModelLogPosterior.<Batch>builder(
                        model,
                        b -> new NDList(b.x()),
                        (o, b) -> LogLikelihoods.categorical(o, b.y()))
                .prior(GaussianPrior.isotropic(0.0, 1.0), n)
                .build();
    }

    /**
     * Returns the same log posterior with the prior given as a function ({@code
     * DiagNormal.logProb}), which autograd differentiates: what the prior's gradient costs without
     * {@link GaussianPrior}.
     *
     * @return the function
     */
    public ModelLogPosterior<Batch> logPosteriorAutogradPrior() {
        return ModelLogPosterior.<Batch>builder(
                        model,
                        b -> new NDList(b.x()),
                        (o, b) -> LogLikelihoods.categorical(o, b.y()))
                .prior(p -> DiagNormal.logProb(p, 0.0, 1.0, true), n)
                .build();
    }

    /**
     * Returns the per-sample log posterior: one entry per sample, the sample's log likelihood plus
     * the log prior over N (the log posterior of each sample as a batch of one).
     *
     * @return the function
     */
    public ModelLogPosterior<Batch> perSampleLogPosterior() {
        return logPosterior().perSample();
    }

    /**
     * Returns the mean log likelihood of a batch (minus the mean cross entropy), no prior.
     *
     * @return the function
     */
    public ModelLogPosterior<Batch> logLikelihood() {
        return ModelLogPosterior.<Batch>builder(
                        model,
                        b -> new NDList(b.x()),
                        (o, b) -> LogLikelihoods.categorical(o, b.y()))
                .build();
    }

    /**
     * Returns the per-sample log likelihood (minus each sample's cross entropy).
     *
     * @return the function
     */
    public ModelLogPosterior<Batch> perSampleLogLikelihood() {
        return logLikelihood().perSample();
    }

    /**
     * Returns the forward function (the logits).
     *
     * @return the function
     */
    public ForwardFn<Batch> forward() {
        return (p, b) -> ModelOutput.of(logits(p, b.x()));
    }

    /**
     * Returns the summed log likelihood of the logits, the outer function of GGN methods.
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
