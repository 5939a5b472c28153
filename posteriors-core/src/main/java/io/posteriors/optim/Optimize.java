package io.posteriors.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.posteriors.Autodiff;
import io.posteriors.Checks;
import io.posteriors.LogProbFn;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;

/**
 * MAP training as a transform: each update takes one optimiser step uphill on the log posterior, so
 * optimisation swaps with SG-MCMC, VI or the EKF in one line.
 *
 * <p>posteriors has the same idea in {@code posteriors.optim.build}. The optimiser minimises, so
 * this transform hands it the negative gradient of the log posterior. This is also the temperature
 * 0 limit the samplers reduce to: SGLD at T = 0 is {@link Sgd} and SGHMC at T = 0 is {@link Sgd}
 * with momentum.
 *
 * <pre>{@code
 * Transform<OptimizeState, Batch> t = Optimize.builder(logPost, Adam.of(1e-3)).build();
 * }</pre>
 *
 * @param <B> the batch type
 */
public record Optimize<B>(LogProbFn<B> logPosterior, GradientOptimizer optimizer)
        implements Transform<OptimizeState, B> {

    /**
     * Checks the options.
     *
     * @param logPosterior the log posterior to maximise (a scalar per batch)
     * @param optimizer the optimiser
     * @throws NullPointerException when an argument is null
     */
    public Optimize {
        Checks.notNull(logPosterior, "logPosterior");
        Checks.notNull(optimizer, "optimizer");
    }

    /**
     * Starts a builder (this transform has no further options; the builder keeps the same entry
     * point as every other method).
     *
     * @param logPosterior the log posterior to maximise (a scalar per batch)
     * @param optimizer the optimiser
     * @param <B> the batch type
     * @return the builder
     * @throws NullPointerException when an argument is null
     */
    public static <B> Builder<B> builder(LogProbFn<B> logPosterior, GradientOptimizer optimizer) {
        return new Builder<>(new Optimize<>(logPosterior, optimizer));
    }

    /**
     * Options of {@link Optimize}.
     *
     * @param <B> the batch type
     * @param transform the transform it builds
     */
    public record Builder<B>(Optimize<B> transform) {
        /**
         * Builds the transform.
         *
         * @return the transform
         */
        public Optimize<B> build() {
            return transform;
        }
    }

    @Override
    public OptimizeState init(TensorTree params) {
        Checks.openTree(params, "params");
        Checks.finite(params, "params", 0);
        TensorTree p = params.copy();
        // created in the parameters' type directly: a converted float64 NaN would stay behind
        NDArray nan = p.manager().full(new Shape(), Float.NaN, p.dataType(), p.device());
        return new OptimizeState(p, optimizer.init(p), nan, 0);
    }

    @Override
    public Step<OptimizeState> updateInPlace(OptimizeState state, B batch) {
        Checks.open(state);
        Autodiff.ValueAndGrad vg = Autodiff.valueAndGrad(logPosterior, state.params(), batch);
        OptimState next;
        try {
            // checked before anything is written, so a bad batch leaves the state as it was
            Checks.finiteScalar(vg.value(), "log posterior", state.step());
            Checks.finite(vg.grad(), "gradient", state.step());
            vg.grad().forEach((k, g) -> g.negi());
            next = optimizer.stepInPlace(state.params(), vg.grad(), state.optimState());
            state.logPosterior().set(new NDIndex("..."), vg.value());
        } catch (RuntimeException e) {
            vg.aux().close();
            throw e;
        } finally {
            vg.grad().close();
            vg.value().close();
        }
        OptimizeState s =
                new OptimizeState(state.params(), next, state.logPosterior(), state.step() + 1);
        return new Step<>(s, vg.aux());
    }
}
