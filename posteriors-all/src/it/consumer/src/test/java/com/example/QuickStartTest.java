package com.example;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.laplace.DiagFisher;
import io.posteriors.laplace.DiagLaplaceState;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs the README's code from a separate project that depends on the installed artifacts. */
class QuickStartTest {

    @Test
    void readmeSnippet_fitsAndFeedsLaplace() {
        try (NDManager manager = NDManager.newBaseManager()) {
            manager.getEngine().setRandomSeed(7);
            SequentialBlock block = new SequentialBlock();
            block.add(Linear.builder().setUnits(8).build());
            block.add(Activation::relu);
            block.add(Linear.builder().setUnits(2).build());
            block.initialize(manager, DataType.FLOAT32, new Shape(1, 2));

            int n = 256;
            NDArray x = manager.randomNormal(0, 1, new Shape(n, 2), DataType.FLOAT32);
            NDArray y = x.get(":, 0").gt(0).toType(DataType.INT64, false);
            List<QuickStart.Batch> batches = new ArrayList<>();
            for (int epoch = 0; epoch < 20; epoch++) {
                for (int i = 0; i < n; i += 64) {
                    batches.add(
                            new QuickStart.Batch(
                                    x.get(i + ":" + (i + 64)), y.get(i + ":" + (i + 64))));
                }
            }
            TensorTree map = QuickStart.fit(block, batches, n);

            // the same log posterior, unchanged, gives a diagonal-Fisher Laplace posterior
            Transform<DiagLaplaceState, QuickStart.Batch> laplace =
                    DiagFisher.builder(QuickStart.logPosterior(block, n)).build();
            DiagLaplaceState state = laplace.init(map);
            state = laplace.updateInPlace(state, new QuickStart.Batch(x, y)).state();
            for (String leaf : state.precDiag().names()) {
                NDArray prec = state.precDiag().get(leaf);
                assertTrue(prec.gt(0).all().getBoolean(), "positive precision for " + leaf);
            }
        }
    }
}
