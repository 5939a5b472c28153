package io.posteriors.spark.internal;

import ai.djl.engine.Engine;
import java.io.IOException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Serialises seeded work within one JVM. DJL's PyTorch engine has one random generator per JVM,
 * shared by every thread: two tasks of one executor drawing from it at once would interleave their
 * draws, and neither would be reproducible. A task that seeds the generator therefore holds this
 * lock from seeding until its last draw, so tasks of one executor that use randomness run one at a
 * time (the parallelism comes from executors, and from libtorch's threads within a task).
 */
public final class EngineLock {

    private static final ReentrantLock LOCK = new ReentrantLock(true);

    private EngineLock() {}

    /**
     * The body of seeded work.
     *
     * @param <T> its result
     */
    @FunctionalInterface
    public interface Body<T> {
        /**
         * Runs the work.
         *
         * @return its result
         * @throws IOException when serialising the result fails
         */
        T run() throws IOException;
    }

    /**
     * Seeds the engine's generator with {@code seed} and runs {@code body}, holding the JVM-wide
     * lock throughout.
     *
     * @param seed the seed for {@link Engine#setRandomSeed(int)}
     * @param body the work
     * @param <T> its result
     * @return the result of {@code body}
     * @throws IOException when {@code body} throws it
     */
    public static <T> T seeded(int seed, Body<T> body) throws IOException {
        LOCK.lock();
        try {
            Engine.getInstance().setRandomSeed(seed);
            return body.run();
        } finally {
            LOCK.unlock();
        }
    }
}
