package io.posteriors;

/**
 * The options every sampling or variational method shares, declared once: a learning rate (a number
 * or a {@link Schedule}, given when the builder is started) and a temperature (default 1). A
 * method's builder extends this class and adds only the options that are its own, as DJL's {@code
 * OptimizerBuilder<T>} does.
 *
 * <p>Both schedules are checked at step 0 when the transform is built ({@link #lrAt(Schedule,
 * long)} and {@link #temperatureAt(Schedule, long)} check them again at every step, naming the
 * step).
 *
 * @param <T> the concrete builder type, returned by every setter
 */
public abstract class TemperedBuilder<T extends TemperedBuilder<T>> {

    private final Schedule lr;
    private Schedule temperature = Schedule.constant(1.0);

    /**
     * Starts a builder.
     *
     * @param lr the learning rate, or null for a method that takes none (VI, which is given an
     *     optimiser)
     */
    protected TemperedBuilder(Schedule lr) {
        this.lr = lr;
    }

    /**
     * Returns this builder as its concrete type.
     *
     * @return this builder
     */
    protected abstract T self();

    /**
     * Sets a constant temperature (default 1). Temperature 1 targets the Bayesian posterior, 0 the
     * MAP; with a log posterior averaged over the batch, {@code 1 / N} is the usual choice.
     *
     * @param temperature the temperature; non-negative and finite
     * @return this builder
     * @throws IllegalArgumentException when {@code temperature} is negative, NaN or infinite
     */
    public final T temperature(double temperature) {
        this.temperature = Schedule.constant(Checks.nonNegative(temperature, "temperature"));
        return self();
    }

    /**
     * Sets a temperature schedule.
     *
     * @param temperature the temperature as a function of the step; non-negative at every step
     * @return this builder
     * @throws NullPointerException when {@code temperature} is null
     */
    public final T temperature(Schedule temperature) {
        this.temperature = Checks.notNull(temperature, "temperature");
        return self();
    }

    /**
     * Returns the learning-rate schedule, checked positive at step 0.
     *
     * @return the schedule
     * @throws IllegalStateException when the method was started without a learning rate
     * @throws IllegalArgumentException when its value at step 0 is not positive and finite
     */
    protected final Schedule lr() {
        if (lr == null) {
            throw new IllegalStateException("this method takes no learning rate");
        }
        Checks.positiveAt(lr, 0, "lr");
        return lr;
    }

    /**
     * Returns the temperature schedule, checked non-negative at step 0.
     *
     * @return the schedule
     * @throws IllegalArgumentException when its value at step 0 is negative, NaN or infinite
     */
    protected final Schedule temperature() {
        Checks.nonNegativeAt(temperature, 0, "temperature");
        return temperature;
    }

    /**
     * Returns the learning rate at {@code step}, checked.
     *
     * @param lr the schedule
     * @param step the step
     * @return its value, positive and finite
     * @throws IllegalArgumentException naming the step when the value is not positive and finite
     */
    public static double lrAt(Schedule lr, long step) {
        return Checks.positiveAt(lr, step, "lr");
    }

    /**
     * Returns the temperature at {@code step}, checked.
     *
     * @param temperature the schedule
     * @param step the step
     * @return its value, non-negative and finite
     * @throws IllegalArgumentException naming the step when the value is negative, NaN or infinite
     */
    public static double temperatureAt(Schedule temperature, long step) {
        return Checks.nonNegativeAt(temperature, step, "temperature");
    }
}
