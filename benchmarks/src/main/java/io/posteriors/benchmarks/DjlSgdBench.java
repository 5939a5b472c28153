package io.posteriors.benchmarks;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import java.util.List;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The baseline: one plain DJL SGD step as a DJL user writes it, with no posteriors code in the
 * timed path: a {@link Trainer} with softmax cross-entropy and DJL's own {@code Optimizer.sgd()}
 * (lr 1e-2), then {@code trainer.newGradientCollector()}, forward, loss, backward and {@code
 * trainer.step()}. Temporaries are closed by an {@link NDScope}. The block starts from the same
 * parameters as the posteriors workloads and sees the same batches.
 */
@State(Scope.Benchmark)
public abstract class DjlSgdBench extends Monitored {

    private ClassificationProblem problem;
    private Model model;
    private Trainer trainer;
    private List<Batch> batches;
    private int next;

    /** Creates the state (JMH calls this). */
    protected DjlSgdBench() {}

    /**
     * Builds the problem whose model is trained.
     *
     * @return the problem
     */
    protected abstract ClassificationProblem problem();

    /** Builds the model and the trainer. */
    @Setup(Level.Trial)
    public void setUpTrial() {
        problem = problem();
        model = Model.newInstance("sgd-baseline");
        model.setBlock(problem.newBlock());
        DefaultTrainingConfig config =
                new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                        .optOptimizer(
                                Optimizer.sgd()
                                        .setLearningRateTracker(Tracker.fixed(1e-2f))
                                        .build())
                        .optDevices(new Device[] {Device.cpu()});
        trainer = model.newTrainer(config);
        trainer.initialize(new Shape(problem.batchSize(), problem.inputs()));
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            NDArray src = problem.initialParams().get(p.getKey());
            p.getValue().getArray().set(new NDIndex("..."), src);
        }
        batches = problem.batches();
    }

    /** Takes one SGD step: forward, loss, backward, update. */
    @Benchmark
    public void step() {
        Batch b = batches.get(next);
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            try (GradientCollector collector = trainer.newGradientCollector()) {
                NDList predictions = trainer.forward(new NDList(b.x()));
                NDArray loss = trainer.getLoss().evaluate(new NDList(b.y()), predictions);
                collector.backward(loss);
            }
            trainer.step();
        }
        if (++next == batches.size()) {
            next = 0;
        }
    }

    @Override
    protected void release() {
        trainer.close();
        model.close();
        problem.close();
    }
}
