package io.posteriors.spark;

import ai.djl.ndarray.NDManager;
import io.posteriors.Checks;
import io.posteriors.SamplePosterior;
import io.posteriors.State;
import io.posteriors.io.PosteriorFiles;
import io.posteriors.spark.internal.EngineLock;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * Runs K independent SG-MCMC chains or ensemble members as K Spark tasks and brings their samples
 * or final states back to the driver as one sample-based posterior.
 *
 * <pre>{@code
 * SparkChains chains = SparkChains.builder(SparkSessions.local(), 16).seed(42).build();
 * try (NDManager m = NDManager.newBaseManager();
 *         SamplePosterior pooled = chains.sample(recipe, m)) {   // 16 chains' kept samples
 *     ... Predictive / predictive metrics on pooled ...
 * }
 * SamplePosterior ensemble = chains.ensemble(memberRecipe, OptimizeState.class, m);
 * }</pre>
 *
 * <p>Each task builds its model and transform from the serialisable recipe, seeds the engine's
 * generator with {@link #chainSeed(long, int) chainSeed(seed, index)} and runs; the result travels
 * to the driver as the bytes of a posterior file ({@link PosteriorFiles#toBytes(Object)}). The seed
 * depends on the chain's index only, never on the attempt, so a task that Spark retries after a
 * failure (a lost executor, an exception) returns the same samples, and a run is reproducible bit
 * for bit on the same hardware and thread settings.
 *
 * <p>DJL's engine has one random generator per JVM, shared by its threads. A task holds a JVM-wide
 * lock from seeding to its last draw, so chains in one executor JVM run one after the other: on a
 * cluster, give each executor one task slot ({@code spark.executor.cores} equal to {@code
 * spark.task.cpus}) and as many executors as chains, and let libtorch's threads ({@code
 * ai.djl.pytorch.num_threads}) use the executor's cores. In {@code local[N]} the chains share the
 * driver's JVM and therefore run one at a time: local mode checks a job, it does not speed it up.
 *
 * <p>A task that fails as often as {@code spark.task.maxFailures} allows fails the run: Spark's
 * {@code org.apache.spark.SparkException} (a checked exception that Spark's Scala code throws
 * without declaring it) propagates from these methods, with the recipe's exception in its message
 * and cause chain.
 */
public final class SparkChains {

    private final JavaSparkContext sc;
    private final int chains;
    private final long seed;

    private SparkChains(Builder b) {
        this.sc = b.sc;
        this.chains = b.chains;
        this.seed = b.seed;
    }

    /**
     * Starts a builder.
     *
     * @param spark the session whose executors run the chains
     * @param chains the number of chains or members K, one task each; at least 1
     * @return the builder
     * @throws NullPointerException when {@code spark} is null
     * @throws IllegalArgumentException when {@code chains < 1}
     */
    public static Builder builder(SparkSession spark, int chains) {
        Checks.notNull(spark, "spark");
        return builder(JavaSparkContext.fromSparkContext(spark.sparkContext()), chains);
    }

    /**
     * Starts a builder.
     *
     * @param sc the context whose executors run the chains
     * @param chains the number of chains or members K, one task each; at least 1
     * @return the builder
     * @throws NullPointerException when {@code sc} is null
     * @throws IllegalArgumentException when {@code chains < 1}
     */
    public static Builder builder(JavaSparkContext sc, int chains) {
        return new Builder(sc, chains);
    }

    /** Options of {@link SparkChains}: the base seed. */
    public static final class Builder {
        private final JavaSparkContext sc;
        private final int chains;
        private long seed;

        private Builder(JavaSparkContext sc, int chains) {
            this.sc = Checks.notNull(sc, "sc");
            this.chains = Checks.atLeast(chains, 1, "chains");
        }

        /**
         * Sets the seed every chain's seed is derived from (default 0).
         *
         * @param seed the base seed
         * @return this builder
         */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Builds the runner.
         *
         * @return the runner
         */
        public SparkChains build() {
            return new SparkChains(this);
        }
    }

    /**
     * Returns the seed of chain {@code index} of a run with base seed {@code seed}: the SplitMix64
     * finaliser of {@code seed + (index + 1) φ} (φ the 64-bit golden ratio), folded to an int, the
     * type of the engine's seed. Nearby chains and nearby base seeds get unrelated seeds.
     *
     * @param seed the run's base seed
     * @param index the chain's index; non-negative
     * @return the chain's seed
     * @throws IllegalArgumentException when {@code index} is negative
     */
    public static int chainSeed(long seed, int index) {
        Checks.atLeast(index, 0, "index");
        long z = seed + (index + 1L) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (int) (z ^ (z >>> 32));
    }

    /**
     * Returns the number of chains K.
     *
     * @return K
     */
    public int chains() {
        return chains;
    }

    /**
     * Returns the base seed.
     *
     * @return the seed
     */
    public long seed() {
        return seed;
    }

    /**
     * Runs the chains and returns each chain's kept samples, in chain order.
     *
     * @param recipe builds and runs one chain; serialised to the executors
     * @param manager the driver's manager that owns the returned posteriors
     * @return K posteriors, owned by the caller
     * @throws NullPointerException when an argument is null
     * @throws UncheckedIOException when a chain's bytes cannot be read back
     */
    public List<SamplePosterior> sampleChains(ChainRecipe recipe, NDManager manager) {
        Checks.notNull(recipe, "recipe");
        Checks.notNull(manager, "manager");
        return load(
                run((ctx) -> requireResult(recipe.run(ctx), ctx)), SamplePosterior.class, manager);
    }

    /**
     * Runs the chains and pools their kept samples, chain after chain, into one posterior that the
     * predictive module consumes.
     *
     * @param recipe builds and runs one chain; serialised to the executors
     * @param manager the driver's manager that owns the returned posterior
     * @return the pooled posterior, owned by the caller
     * @throws NullPointerException when an argument is null
     * @throws IllegalArgumentException when the chains' samples differ in structure
     * @throws UncheckedIOException when a chain's bytes cannot be read back
     */
    public SamplePosterior sample(ChainRecipe recipe, NDManager manager) {
        List<SamplePosterior> parts = sampleChains(recipe, manager);
        try {
            return SamplePosterior.pool(parts);
        } finally {
            parts.forEach(SamplePosterior::close);
        }
    }

    /**
     * Trains the members and returns their final states, in member order.
     *
     * @param recipe builds and trains one member; serialised to the executors
     * @param type the state's record class, which the bytes are checked against
     * @param manager the driver's manager that owns the returned states
     * @param <S> the state type
     * @return K states, owned by the caller
     * @throws NullPointerException when an argument is null
     * @throws UncheckedIOException when a state's bytes cannot be read back
     */
    public <S extends State> List<S> train(
            MemberRecipe<S> recipe, Class<S> type, NDManager manager) {
        Checks.notNull(recipe, "recipe");
        Checks.notNull(type, "type");
        Checks.notNull(manager, "manager");
        return load(run((ctx) -> requireResult(recipe.run(ctx), ctx)), type, manager);
    }

    /**
     * Trains the members and returns the ensemble of their final parameters, one sample per member
     * in member order.
     *
     * @param recipe builds and trains one member; serialised to the executors
     * @param type the state's record class
     * @param manager the driver's manager that owns the returned posterior
     * @param <S> the state type
     * @return the ensemble, owned by the caller
     * @throws NullPointerException when an argument is null
     * @throws UncheckedIOException when a state's bytes cannot be read back
     */
    public <S extends State> SamplePosterior ensemble(
            MemberRecipe<S> recipe, Class<S> type, NDManager manager) {
        List<S> states = train(recipe, type, manager);
        try {
            return SamplePosterior.ofStates(states);
        } finally {
            states.forEach(State::close);
        }
    }

    // ------------------------------------------------------------------------------- tasks

    /** What a task runs: a chain or member, returning something posterior files can save. */
    @FunctionalInterface
    private interface Work extends Serializable {
        AutoCloseable run(ChainContext ctx);
    }

    /** A task's result: the chain's index and the bytes of its result. */
    private record Output(int index, byte[] bytes) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    private static <T extends AutoCloseable> T requireResult(T result, ChainContext ctx) {
        if (result == null) {
            throw new IllegalStateException(
                    Checks.format("the recipe of chain %d returned null", ctx.index()));
        }
        return result;
    }

    private List<byte[]> run(Work work) {
        long base = seed;
        List<Integer> indices = IntStream.range(0, chains).boxed().toList();
        List<Output> outputs =
                new ArrayList<>(
                        sc.parallelize(indices, chains)
                                .map(index -> runTask(work, base, index))
                                .collect());
        outputs.sort(Comparator.comparingInt(Output::index));
        List<byte[]> bytes = new ArrayList<>(outputs.size());
        outputs.forEach(o -> bytes.add(o.bytes()));
        return bytes;
    }

    private static Output runTask(Work work, long base, int index) throws IOException {
        int s = chainSeed(base, index);
        byte[] bytes =
                EngineLock.seeded(
                        s,
                        () -> {
                            try (NDManager m = NDManager.newBaseManager()) {
                                try (AutoCloseable result =
                                        work.run(new ChainContext(index, s, m))) {
                                    return PosteriorFiles.toBytes(result);
                                } catch (IOException | RuntimeException e) {
                                    throw e;
                                } catch (Exception e) {
                                    // close() of a state or posterior throws nothing checked
                                    throw new IllegalStateException(e);
                                }
                            }
                        });
        return new Output(index, bytes);
    }

    private static <T> List<T> load(List<byte[]> bytes, Class<T> type, NDManager manager) {
        List<T> out = new ArrayList<>(bytes.size());
        try {
            for (int k = 0; k < bytes.size(); k++) {
                out.add(PosteriorFiles.fromBytes(bytes.get(k), type, manager));
            }
            return out;
        } catch (IOException e) {
            closeAll(out);
            throw new UncheckedIOException("reading a chain's result back failed", e);
        } catch (RuntimeException e) {
            closeAll(out);
            throw e;
        }
    }

    private static void closeAll(List<?> values) {
        for (Object v : values) {
            if (v instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // best effort: the first failure is the one reported
                }
            }
        }
    }
}
