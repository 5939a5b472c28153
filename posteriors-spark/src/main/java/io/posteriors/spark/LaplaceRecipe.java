package io.posteriors.spark;

import ai.djl.ndarray.NDManager;
import io.posteriors.State;
import io.posteriors.Transform;
import java.io.Serializable;

/**
 * Builds a Laplace transform, model included, inside a Spark task (and once on the driver, for the
 * prior): {@code DiagFisher}, {@code DiagGgn}, {@code DenseFisher}, {@code DenseGgn}, {@code
 * DenseHessian}, {@code KfacFisher} or {@code KfacGgn}, with the prior precision the fit should
 * have. It is serialised to the executors, so it must capture only {@link Serializable} values; DJL
 * blocks and arrays are built inside {@link #build}.
 *
 * <pre>{@code
 * LaplaceRecipe<XY, DiagLaplaceState> recipe =
 *         m -> DiagGgn.builder(Model.forward(m), Model.gaussianOuter(0.5)).initPrecDiag(1.0).build();
 * }</pre>
 *
 * @param <B> the batch type
 * @param <S> the state type: {@code DiagLaplaceState}, {@code DenseLaplaceState} or {@code
 *     KfacLaplaceState}
 */
@FunctionalInterface
public interface LaplaceRecipe<B, S extends State> extends Serializable {

    /**
     * Builds the transform.
     *
     * @param manager a manager for any array the model or transform needs (a block's parameters,
     *     constants); closed when the task ends
     * @return the transform
     */
    Transform<S, B> build(NDManager manager);
}
