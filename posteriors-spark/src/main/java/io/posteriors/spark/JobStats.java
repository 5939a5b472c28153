package io.posteriors.spark;

import io.posteriors.Checks;

/**
 * Where the time of one Spark job went: the wall time on the driver against the time the tasks
 * spent in posteriors code (loading the broadcast, building the model, the curvature, serialising
 * the result).
 *
 * @param tasks the number of tasks (partitions)
 * @param slots the number of tasks that can run at once (Spark's default parallelism)
 * @param wallNanos the job's wall time on the driver, from the broadcast to the combined state
 * @param taskNanos the tasks' compute time, summed
 * @param maxTaskNanos the longest task's compute time
 */
public record JobStats(int tasks, int slots, long wallNanos, long taskNanos, long maxTaskNanos) {

    /**
     * Checks the components.
     *
     * @throws IllegalArgumentException when a count or time is negative or {@code slots < 1}
     */
    public JobStats {
        Checks.atLeast(tasks, 0, "tasks");
        Checks.atLeast(slots, 1, "slots");
        Checks.atLeast(wallNanos, 0L, "wallNanos");
        Checks.atLeast(taskNanos, 0L, "taskNanos");
        Checks.atLeast(maxTaskNanos, 0L, "maxTaskNanos");
    }

    /**
     * Returns the time not explained by the tasks' compute spread over the slots: {@code wall −
     * taskNanos / min(slots, tasks)}, never below 0. It holds scheduling, task serialisation,
     * result transfer, the tree aggregation and load imbalance.
     *
     * @return the overhead in nanoseconds
     */
    public long overheadNanos() {
        int parallel = Math.max(1, Math.min(slots, tasks));
        return Math.max(0, wallNanos - taskNanos / parallel);
    }

    /**
     * Returns the overhead per task: {@link #overheadNanos()} times the tasks run at once, divided
     * by the number of tasks (each slot runs {@code tasks / parallel} tasks one after the other).
     *
     * @return nanoseconds per task; 0 when there were no tasks
     */
    public double overheadPerTaskNanos() {
        if (tasks == 0) {
            return 0;
        }
        int parallel = Math.max(1, Math.min(slots, tasks));
        return (double) overheadNanos() * parallel / tasks;
    }
}
