package io.posteriors.spark;

import ai.djl.ndarray.NDManager;
import io.posteriors.Checks;
import io.posteriors.State;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.io.PosteriorFiles;
import io.posteriors.spark.internal.Accumulator;
import io.posteriors.spark.internal.LaplaceTask;
import io.posteriors.spark.internal.ModelLogLikelihood;
import io.posteriors.spark.internal.Partial;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;

/**
 * Data-parallel Laplace: the curvature of a Laplace approximation (diagonal, dense or K-FAC;
 * empirical Fisher, GGN or Hessian) and the log likelihood of the evidence, summed over a data set
 * held as a Spark {@code Dataset} or RDD across executors.
 *
 * <p>The MAP θ* is broadcast as the bytes of a posterior file. Each partition builds the model and
 * transform from the serialisable {@link LaplaceRecipe}, turns its rows into batches of {@code
 * batchSize} with the {@link BatchAdapter}, and from {@code init(θ*)} with the curvature set to
 * zero adds every batch's curvature (Laplace updates add a batch's curvature at θ*, whatever the
 * state holds) and, when asked, its log likelihood. The partitions' sums (float64 or float32
 * arrays, sent as Java arrays) are added with Spark's {@code treeAggregate}, and the driver adds
 * them to its own {@code init(θ*)}, which holds the prior precision once. Sums reassociate, so the
 * result equals the single-JVM fit over the same rows to rounding (in float64, about 1e-15 relative
 * for well-conditioned sums).
 *
 * <pre>{@code
 * JavaRDD<double[]> rows = ...;                       // or a Dataset<Row> and a Row adapter
 * SparkLaplace<double[], XY, DiagLaplaceState> laplace =
 *         SparkLaplace.builder(recipe, adapter).batchSize(256).logLikelihood(true).build();
 * try (NDManager m = NDManager.newBaseManager();
 *         LaplaceFit<DiagLaplaceState> fit = laplace.fit(rows, map, m)) {
 *     DiagLaplaceState state = fit.state();
 *     double evidence = Evidence.logEvidence(state, prior, fit.logLikelihood());
 * }
 * }</pre>
 *
 * <p>No random numbers are drawn, so partitions of one executor run concurrently (each with its own
 * model). Memory per task: the model, θ* and one state (a dense state holds a {@code P × P} matrix,
 * so does each task's partial sum).
 *
 * <p>A task that fails as often as {@code spark.task.maxFailures} allows fails the fit: Spark's
 * {@code org.apache.spark.SparkException} (checked, but thrown by Spark's Scala code without being
 * declared) propagates from {@code fit}, with the task's exception in its message and cause chain.
 * A task retried after a failure recomputes its partition's sums from the same rows, so a retry
 * does not change the result.
 *
 * @param <R> the row type
 * @param <B> the batch type
 * @param <S> the state type
 */
public final class SparkLaplace<R, B, S extends State> {

    private final LaplaceRecipe<B, S> recipe;
    private final BatchAdapter<R, B> adapter;
    private final int batchSize;
    private final boolean logLikelihood;
    private final int depth;

    private SparkLaplace(Builder<R, B, S> b) {
        this.recipe = b.recipe;
        this.adapter = b.adapter;
        this.batchSize = b.batchSize;
        this.logLikelihood = b.logLikelihood;
        this.depth = b.depth;
    }

    /**
     * Starts a builder.
     *
     * @param recipe builds the Laplace transform, with its prior, on the executors and the driver
     * @param adapter turns a partition's rows into batches
     * @param <R> the row type
     * @param <B> the batch type
     * @param <S> the state type
     * @return the builder
     * @throws NullPointerException when an argument is null
     */
    public static <R, B, S extends State> Builder<R, B, S> builder(
            LaplaceRecipe<B, S> recipe, BatchAdapter<R, B> adapter) {
        return new Builder<>(recipe, adapter);
    }

    /**
     * Options of {@link SparkLaplace}: the batch size, whether to sum the log likelihood, the depth
     * of the tree aggregation.
     *
     * @param <R> the row type
     * @param <B> the batch type
     * @param <S> the state type
     */
    public static final class Builder<R, B, S extends State> {
        private final LaplaceRecipe<B, S> recipe;
        private final BatchAdapter<R, B> adapter;
        private int batchSize = 256;
        private boolean logLikelihood;
        private int depth = 2;

        private Builder(LaplaceRecipe<B, S> recipe, BatchAdapter<R, B> adapter) {
            this.recipe = Checks.notNull(recipe, "recipe");
            this.adapter = Checks.notNull(adapter, "adapter");
        }

        /**
         * Sets the number of rows per batch (default 256); a partition's last batch may be smaller.
         *
         * @param batchSize the rows per batch; at least 1
         * @return this builder
         * @throws IllegalArgumentException when {@code batchSize < 1}
         */
        public Builder<R, B, S> batchSize(int batchSize) {
            this.batchSize = Checks.atLeast(batchSize, 1, "batchSize");
            return this;
        }

        /**
         * Sets whether the fit also sums {@code log p(y_i | x_i, θ*)} over the rows, the first term
         * of the Laplace evidence (default false). The transform must carry its model (a GGN or
         * K-FAC transform, or a Fisher or Hessian transform of a {@code ModelLogPosterior}).
         *
         * @param logLikelihood whether to sum the log likelihood
         * @return this builder
         */
        public Builder<R, B, S> logLikelihood(boolean logLikelihood) {
            this.logLikelihood = logLikelihood;
            return this;
        }

        /**
         * Sets the depth of Spark's tree aggregation of the partitions' sums (default 2: the
         * partial sums meet on executors in about √tasks groups before the driver).
         *
         * @param depth at least 1
         * @return this builder
         * @throws IllegalArgumentException when {@code depth < 1}
         */
        public Builder<R, B, S> depth(int depth) {
            this.depth = Checks.atLeast(depth, 1, "depth");
            return this;
        }

        /**
         * Builds the fitter.
         *
         * @return the fitter
         */
        public SparkLaplace<R, B, S> build() {
            return new SparkLaplace<>(this);
        }
    }

    /**
     * Fits over the rows of a {@code Dataset} (its {@code javaRDD()}).
     *
     * @param rows the data, each row once
     * @param map θ*, the parameters the approximation is built around; read, not changed
     * @param manager the driver's manager that owns the returned state
     * @return the fit
     * @throws NullPointerException when an argument is null
     * @throws IllegalArgumentException as {@link #fit(JavaRDD, TensorTree, NDManager)}
     */
    public LaplaceFit<S> fit(Dataset<R> rows, TensorTree map, NDManager manager) {
        Checks.notNull(rows, "rows");
        return fit(rows.javaRDD(), map, manager);
    }

    /**
     * Fits over the rows of an RDD.
     *
     * @param rows the data, each row once
     * @param map θ*, the parameters the approximation is built around; read, not changed
     * @param manager the driver's manager that owns the returned state
     * @return the fit
     * @throws NullPointerException when an argument is null
     * @throws IllegalArgumentException when the recipe's transform does not give a diagonal, dense
     *     or K-FAC Laplace state, or when {@code logLikelihood(true)} and the transform carries no
     *     model (both checked on the driver before any task starts)
     * @throws UncheckedIOException when θ* cannot be serialised
     */
    public LaplaceFit<S> fit(JavaRDD<R> rows, TensorTree map, NDManager manager) {
        Checks.notNull(rows, "rows");
        Checks.openTree(map, "map");
        Checks.notNull(manager, "manager");
        long t0 = System.nanoTime();
        // the driver's own init: validates the recipe and θ* before any task, and holds the prior;
        // the driver's model is built on a scope closed once the state exists
        S init;
        try (NDManager scope = manager.newSubManager()) {
            Transform<S, B> t = Checks.notNull(recipe.build(scope), "the recipe's transform");
            if (logLikelihood) {
                ModelLogLikelihood.of(t);
            }
            try (TensorTree local = map.copy(manager)) {
                init = t.init(local);
            }
        }
        try {
            Accumulator<S> acc = Accumulator.of(init);
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(rows.context());
            Broadcast<byte[]> theta = sc.broadcast(PosteriorFiles.toBytes(map));
            Partial total;
            try {
                LaplaceRecipe<B, S> r = recipe;
                BatchAdapter<R, B> a = adapter;
                int size = batchSize;
                boolean ll = logLikelihood;
                total =
                        rows.mapPartitions(
                                        it ->
                                                List.of(
                                                                LaplaceTask.run(
                                                                        it,
                                                                        theta.value(),
                                                                        r,
                                                                        a,
                                                                        size,
                                                                        ll))
                                                        .iterator())
                                .treeAggregate(
                                        Partial.empty(), Partial::plus, Partial::plus, depth);
            } finally {
                theta.destroy();
            }
            S state = init;
            if (total.sums() != null) {
                try (NDManager scope = manager.newSubManager()) {
                    TensorTree sums = total.tree(scope);
                    state = acc.combine(init, sums, total.samples(), total.steps());
                }
            }
            JobStats stats =
                    new JobStats(
                            rows.getNumPartitions(),
                            Math.max(1, sc.defaultParallelism()),
                            System.nanoTime() - t0,
                            total.taskNanos(),
                            total.maxTaskNanos());
            return new LaplaceFit<>(
                    state, logLikelihood ? total.logLikelihood() : Double.NaN, total.rows(), stats);
        } catch (IOException e) {
            init.close();
            throw new UncheckedIOException("serialising a Laplace fit's arrays failed", e);
        } catch (RuntimeException e) {
            init.close();
            throw e;
        }
    }
}
