package io.posteriors;

/**
 * A value that depends on the step count: a learning rate or a temperature.
 *
 * <p>Every learning rate and temperature in this library accepts a schedule; a plain number is
 * {@link #constant(double)}. Methods check the value at each step (a negative or NaN value is
 * reported with the step at which it appeared).
 */
@FunctionalInterface
public interface Schedule {

    /**
     * Returns the value at a step.
     *
     * @param step the number of updates done so far (0 for the first update)
     * @return the value
     */
    double at(long step);

    /**
     * Returns a schedule that is {@code value} at every step.
     *
     * @param value the value; it must be finite
     * @return the constant schedule
     * @throws IllegalArgumentException when {@code value} is NaN or infinite
     */
    static Schedule constant(double value) {
        Checks.finite(value, "value");
        return new Constant(value);
    }

    /**
     * Returns the polynomial decay {@code end + (init - end) (1 - min(step, steps) / steps)^power},
     * which goes from {@code init} at step 0 to {@code end} at step {@code steps} and stays there
     * (optax's {@code polynomial_schedule}).
     *
     * @param init the value at step 0
     * @param end the value from step {@code steps} on
     * @param power the exponent; 1 is a linear decay
     * @param steps the number of steps of the transition; at least 1
     * @return the schedule
     * @throws IllegalArgumentException when a value is not finite, {@code power <= 0} or {@code
     *     steps < 1}
     */
    static Schedule polynomialDecay(double init, double end, double power, long steps) {
        Checks.finite(init, "init");
        Checks.finite(end, "end");
        Checks.positive(power, "power");
        Checks.atLeast(steps, 1, "steps");
        return step -> {
            double frac = 1.0 - Math.min(Math.max(step, 0), steps) / (double) steps;
            return end + (init - end) * Math.pow(frac, power);
        };
    }

    /**
     * Returns the decay {@code init * (1 + step / timescale)^(-power)}, the classical Robbins-Monro
     * learning-rate schedule of SGLD (Welling and Teh use {@code power} in (0.5, 1]).
     *
     * @param init the value at step 0
     * @param timescale the step scale of the decay; positive
     * @param power the exponent; positive
     * @return the schedule
     * @throws IllegalArgumentException when a value is not finite or not positive
     */
    static Schedule inverseDecay(double init, double timescale, double power) {
        Checks.finite(init, "init");
        Checks.positive(timescale, "timescale");
        Checks.positive(power, "power");
        return step -> init * Math.pow(1.0 + Math.max(step, 0) / timescale, -power);
    }

    /**
     * A schedule with one value.
     *
     * @param value the value at every step
     */
    record Constant(double value) implements Schedule {
        @Override
        public double at(long step) {
            return value;
        }
    }
}
