package io.posteriors.spark;

import io.posteriors.State;
import java.io.Serializable;

/**
 * Trains one ensemble member (or runs one chain to its final state) inside a Spark task and returns
 * its final state: builds the model and transform from what it captures, draws its initialisation
 * from the engine's generator (already seeded for this member) and runs. It is serialised to the
 * executors, so it must capture only {@link Serializable} values.
 *
 * @param <S> the state type, a record that {@link io.posteriors.io.PosteriorFiles} can save (every
 *     state of every method is)
 */
@FunctionalInterface
public interface MemberRecipe<S extends State> extends Serializable {

    /**
     * Trains member {@code ctx.index()}.
     *
     * @param ctx the member's index, seed and manager
     * @return the final state, on {@code ctx.manager()}; closed by the caller once serialised
     */
    S run(ChainContext ctx);
}
