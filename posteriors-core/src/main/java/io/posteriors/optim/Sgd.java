package io.posteriors.optim;

import io.posteriors.Checks;
import io.posteriors.FusedOps;
import io.posteriors.Schedule;
import io.posteriors.TensorTree;
import java.util.List;

/**
 * Stochastic gradient descent with optional heavy-ball momentum and weight decay (PyTorch's
 * convention): {@code b = mu b + g + wd x; x = x - lr b}.
 *
 * <p>With momentum 0 this is plain SGD; SGLD at temperature 0 and SGHMC at temperature 0 reduce to
 * these two.
 */
public final class Sgd implements GradientOptimizer {

    private final Schedule lr;
    private final double momentum;
    private final double weightDecay;

    private Sgd(Schedule lr, double momentum, double weightDecay) {
        this.lr = lr;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
    }

    /**
     * Returns plain SGD.
     *
     * @param lr the learning rate; positive
     * @return the optimiser
     * @throws IllegalArgumentException when {@code lr} is not positive and finite
     */
    public static Sgd of(double lr) {
        Checks.positive(lr, "lr");
        return new Sgd(Schedule.constant(lr), 0, 0);
    }

    /**
     * Returns SGD with a learning-rate schedule.
     *
     * @param lr the learning rate schedule (positive at every step)
     * @return the optimiser
     */
    public static Sgd of(Schedule lr) {
        return new Sgd(Checks.notNull(lr, "lr"), 0, 0);
    }

    /**
     * Returns a copy with heavy-ball momentum.
     *
     * @param momentum the momentum coefficient, in [0, 1)
     * @return the optimiser
     * @throws IllegalArgumentException when {@code momentum} is outside [0, 1)
     */
    public Sgd momentum(double momentum) {
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException(
                    Checks.format("momentum must be in [0, 1), got %s", momentum));
        }
        return new Sgd(lr, momentum, weightDecay);
    }

    /**
     * Returns a copy with L2 weight decay added to the gradient.
     *
     * @param weightDecay the decay coefficient; non-negative
     * @return the optimiser
     */
    public Sgd weightDecay(double weightDecay) {
        Checks.nonNegative(weightDecay, "weightDecay");
        return new Sgd(lr, momentum, weightDecay);
    }

    @Override
    public OptimState init(TensorTree params) {
        Checks.notNull(params, "params");
        return new OptimState(momentum > 0 ? List.of(params.zerosLike()) : List.of(), 0);
    }

    @Override
    public OptimState stepInPlace(TensorTree params, TensorTree grad, OptimState state) {
        params.requireSameStructure(grad, "grad");
        double rate = Checks.positiveAt(lr, state.count(), "lr");
        TensorTree d = grad;
        try {
            if (weightDecay > 0) {
                d = grad.copy();
                FusedOps.axpy(d, params, weightDecay, 0); // d = g + wd x
            }
            if (momentum > 0) {
                // b ← μ b + d; x ← x − lr b
                FusedOps.momentum(params, state.slots().get(0), d, momentum, 1.0, 0, -rate);
            } else {
                FusedOps.axpy(params, d, -rate, 0); // x ← x − lr d
            }
        } finally {
            if (d != grad) {
                d.close();
            }
        }
        return new OptimState(state.slots(), state.count() + 1);
    }
}
