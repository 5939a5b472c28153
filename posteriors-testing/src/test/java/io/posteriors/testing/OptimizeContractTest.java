package io.posteriors.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.optim.Adam;
import io.posteriors.optim.GradientOptimizer;
import io.posteriors.optim.Optimize;
import io.posteriors.optim.OptimizeState;
import io.posteriors.optim.Sgd;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Nested;

/**
 * The shared transform contract for {@link Optimize}, with an optimiser without slots, one with a
 * momentum slot and Adam's two moment slots.
 */
class OptimizeContractTest {

    /**
     * A Gaussian log likelihood of the rows of the batch around the raveled parameters, averaged
     * over the batch, plus a weak Normal prior; returns the batch mean as aux.
     */
    private static final LogProbFn<NDArray> LOG_POSTERIOR =
            (p, batch) -> {
                NDArray x = p.ravel();
                NDArray lik = batch.sub(x).square().sum(new int[] {1}).mean().mul(-0.5);
                NDArray prior = x.square().sum().mul(-0.005);
                return LogProb.of(lik.add(prior), batch.mean(new int[] {0}));
            };

    private abstract static class Base implements TransformContract<OptimizeState, NDArray> {

        abstract GradientOptimizer optimizer();

        @Override
        public Transform<OptimizeState, NDArray> transform(NDManager manager) {
            return Optimize.builder(LOG_POSTERIOR, optimizer()).build();
        }

        @Override
        public TensorTree initialParams(NDManager manager) {
            Map<String, NDArray> m = new LinkedHashMap<>();
            m.put("w", manager.randomNormal(0, 1, new Shape(2, 2), DataType.FLOAT64));
            m.put("b", manager.randomNormal(0, 1, new Shape(1), DataType.FLOAT64));
            return TensorTree.of(m);
        }

        @Override
        public NDArray batch(NDManager manager) {
            return manager.randomNormal(1, 2, new Shape(8, 5), DataType.FLOAT64);
        }

        @Override
        public double tolerance() {
            return 1e-12;
        }
    }

    @Nested
    class PlainSgd extends Base {
        @Override
        GradientOptimizer optimizer() {
            return Sgd.of(0.1);
        }
    }

    @Nested
    class SgdWithMomentumAndDecay extends Base {
        @Override
        GradientOptimizer optimizer() {
            return Sgd.of(0.1).momentum(0.9).weightDecay(0.01);
        }
    }

    @Nested
    class AdamW extends Base {
        @Override
        GradientOptimizer optimizer() {
            return Adam.of(0.05).weightDecay(0.01);
        }
    }
}
