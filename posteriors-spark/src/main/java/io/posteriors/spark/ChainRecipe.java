package io.posteriors.spark;

import io.posteriors.SamplePosterior;
import java.io.Serializable;

/**
 * Runs one SG-MCMC chain inside a Spark task and returns its kept samples: builds the model, the
 * log posterior and the sampler from nothing but what it captures (numbers, arrays, paths), draws
 * its initial parameters with the engine's generator (already seeded for this chain) and runs, for
 * example with {@link io.posteriors.Trace}. It is serialised to the executors, so it must capture
 * only {@link Serializable} values; DJL objects are built inside {@link #run}.
 *
 * <pre>{@code
 * ChainRecipe recipe = ctx -> {
 *     NDManager m = ctx.manager();
 *     Transform<SghmcState, Batch> t = Sghmc.builder(Model.logPosterior(m), 1e-2).build();
 *     TensorTree init = Model.randomInit(m);                  // from the seeded generator
 *     try (TraceResult<SghmcState> r =
 *             Trace.builder(t, 20_000).burnIn(5_000).thin(10).build().run(init, batches)) {
 *         return r.posterior();
 *     }
 * };
 * }</pre>
 */
@FunctionalInterface
public interface ChainRecipe extends Serializable {

    /**
     * Runs chain {@code ctx.index()}.
     *
     * @param ctx the chain's index, seed and manager
     * @return the chain's kept samples, on {@code ctx.manager()}; closed by the caller once
     *     serialised
     */
    SamplePosterior run(ChainContext ctx);
}
