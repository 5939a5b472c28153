package io.posteriors.optim;

import io.posteriors.Checks;
import io.posteriors.FusedOps;
import io.posteriors.Schedule;
import io.posteriors.TensorTree;
import java.util.List;

/**
 * Adam (Kingma and Ba, "Adam: A Method for Stochastic Optimization", 2015) with optional decoupled
 * weight decay (AdamW, Loshchilov and Hutter 2019).
 *
 * <p>{@code m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; x = x - lr (m / (1-b1^t)) / (sqrt(v /
 * (1-b2^t)) + eps) - lr wd x}, as in torchopt and optax (eps outside the square root).
 */
public final class Adam implements GradientOptimizer {

    private final Schedule lr;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;

    private Adam(Schedule lr, double beta1, double beta2, double eps, double weightDecay) {
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /**
     * Returns Adam with betas (0.9, 0.999) and eps 1e-8.
     *
     * @param lr the learning rate; positive
     * @return the optimiser
     */
    public static Adam of(double lr) {
        Checks.positive(lr, "lr");
        return new Adam(Schedule.constant(lr), 0.9, 0.999, 1e-8, 0);
    }

    /**
     * Returns Adam with a learning-rate schedule.
     *
     * @param lr the schedule (positive at every step)
     * @return the optimiser
     */
    public static Adam of(Schedule lr) {
        return new Adam(Checks.notNull(lr, "lr"), 0.9, 0.999, 1e-8, 0);
    }

    /**
     * Returns a copy with other moment decay rates.
     *
     * @param beta1 the first-moment decay, in [0, 1)
     * @param beta2 the second-moment decay, in [0, 1)
     * @return the optimiser
     */
    public Adam betas(double beta1, double beta2) {
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException(
                    Checks.format("beta1 must be in [0, 1), got %s", beta1));
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException(
                    Checks.format("beta2 must be in [0, 1), got %s", beta2));
        }
        return new Adam(lr, beta1, beta2, eps, weightDecay);
    }

    /**
     * Returns a copy with another denominator constant.
     *
     * @param eps a positive constant added to the root of the second moment
     * @return the optimiser
     */
    public Adam eps(double eps) {
        return new Adam(lr, beta1, beta2, Checks.positive(eps, "eps"), weightDecay);
    }

    /**
     * Returns a copy with decoupled weight decay (AdamW).
     *
     * @param weightDecay the decay coefficient; non-negative
     * @return the optimiser
     */
    public Adam weightDecay(double weightDecay) {
        return new Adam(lr, beta1, beta2, eps, Checks.nonNegative(weightDecay, "weightDecay"));
    }

    @Override
    public OptimState init(TensorTree params) {
        Checks.notNull(params, "params");
        return new OptimState(List.of(params.zerosLike(), params.zerosLike()), 0);
    }

    @Override
    public OptimState stepInPlace(TensorTree params, TensorTree grad, OptimState state) {
        params.requireSameStructure(grad, "grad");
        double rate = Checks.positiveAt(lr, state.count(), "lr");
        long t = state.count() + 1;
        FusedOps.adam(
                params,
                state.slots().get(0),
                state.slots().get(1),
                grad,
                rate,
                beta1,
                beta2,
                eps,
                t,
                weightDecay);
        return new OptimState(state.slots(), t);
    }
}
