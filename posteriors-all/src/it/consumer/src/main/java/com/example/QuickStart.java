package com.example;

// README java begin
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import io.posteriors.FunctionalModel;
import io.posteriors.GaussianPrior;
import io.posteriors.LogLikelihoods;
import io.posteriors.ModelLogPosterior;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.optim.Adam;
import io.posteriors.optim.Optimize;
import io.posteriors.optim.OptimizeState;

public class QuickStart {

    /** A batch: inputs x (n, features) and class labels y (n). */
    public record Batch(NDArray x, NDArray y) {}

    /** Builds the log posterior of a classifier: mean log likelihood + log prior / n. */
    public static ModelLogPosterior<Batch> logPosterior(Block block, int n) {
        FunctionalModel model = FunctionalModel.of(block); // any initialised DJL Block
        return ModelLogPosterior.<Batch>builder(
                        model,
                        b -> new NDList(b.x()),
                        (logits, b) -> LogLikelihoods.categorical(logits, b.y()))
                .prior(GaussianPrior.isotropic(0, 1), n)
                .build();
    }

    /** Trains the block's parameters to the MAP; n is the training-set size. */
    public static TensorTree fit(Block block, Iterable<Batch> batches, int n) {
        ModelLogPosterior<Batch> logPosterior = logPosterior(block, n);

        // MAP training ...
        Transform<OptimizeState, Batch> transform =
                Optimize.builder(logPosterior, Adam.of(1e-2)).build();
        // ... or, changing one line, a posterior (io.posteriors.sgmcmc.Sghmc, SghmcState):
        // Transform<SghmcState, Batch> transform =
        //         Sghmc.builder(logPosterior, 1e-3).temperature(1.0 / n).build();

        OptimizeState state = transform.init(TensorTree.fromBlock(block));
        for (Batch batch : batches) {
            Step<OptimizeState> step = transform.updateInPlace(state, batch); // reuses the arrays
            step.aux().close(); // the logits, if you do not need them
            state = step.state();
        }
        return state.params();
    }
}
// README java end
