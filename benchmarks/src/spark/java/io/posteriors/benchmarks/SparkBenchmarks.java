package io.posteriors.benchmarks;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import io.posteriors.FunctionalModel;
import io.posteriors.LogLikelihoods;
import io.posteriors.ModelLogPosterior;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.laplace.DiagGgn;
import io.posteriors.laplace.DiagLaplaceState;
import io.posteriors.spark.BatchAdapter;
import io.posteriors.spark.JobStats;
import io.posteriors.spark.LaplaceFit;
import io.posteriors.spark.LaplaceRecipe;
import io.posteriors.spark.SparkLaplace;
import io.posteriors.spark.SparkSessions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * Data-parallel Laplace on Spark against the single-JVM fit, in one run: the diagonal GGN of the
 * MLP 784-256-256-10 (float32, synthetic inputs and labels) over a data set of {@link #ROWS} rows,
 * 8 partitions of 8 batches of 64: 8 times the 8 batches a partition holds, so that each of the 8
 * Spark tasks does what one single-JVM fit of 8 batches does. One invocation is one whole fit.
 *
 * <p>The single-JVM baseline builds its batches from the same rows with the same adapter, inside
 * the timed fit, as the tasks do. The Spark fit runs on {@code local[2]}: two tasks at a time in
 * the fork's JVM, each with the libtorch thread setting of the run, so on a 2-core machine it can
 * at best halve the time; what it adds per task (scheduling, the broadcast θ*, building the model,
 * serialising the sums, the tree aggregation) is reported as {@code spark_overhead_per_task_ms}
 * from {@link JobStats#overheadPerTaskNanos()}, with the tasks' own compute time. The forks need
 * Spark's {@code --add-opens} options: {@link #JVM_ARGS}.
 */
public final class SparkBenchmarks {

    /** The JVM options Spark needs on Java 17 (what spark-submit adds): append them to forks. */
    public static final List<String> JVM_ARGS =
            List.of(
                    "-XX:+IgnoreUnrecognizedVMOptions",
                    "--add-opens=java.base/java.lang=ALL-UNNAMED",
                    "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
                    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
                    "--add-opens=java.base/java.io=ALL-UNNAMED",
                    "--add-opens=java.base/java.net=ALL-UNNAMED",
                    "--add-opens=java.base/java.nio=ALL-UNNAMED",
                    "--add-opens=java.base/java.util=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
                    "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
                    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
                    "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
                    "--add-opens=java.base/sun.security.action=ALL-UNNAMED",
                    "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
                    "-Djdk.reflect.useDirectMethodHandle=false",
                    "-Dio.netty.tryReflectionSetAccessible=true");

    /** The number of partitions (Spark tasks). */
    static final int PARTITIONS = 8;

    /** Batches per partition. */
    static final int BATCHES_PER_PARTITION = 8;

    /** Rows per batch, as the other MLP benchmarks. */
    static final int BATCH = ClassificationProblem.MLP_BATCH;

    /** The rows of the data set: 8 × 8 × 64 = 4096. */
    static final int ROWS = PARTITIONS * BATCHES_PER_PARTITION * BATCH;

    private static final int INPUTS = 784;
    private static final int CLASSES = 10;

    private SparkBenchmarks() {}

    /** The MLP 784-256-256-10 with ReLU, initialised in float32 on {@code m}. */
    static SequentialBlock mlp(NDManager m) {
        SequentialBlock block = new SequentialBlock();
        block.add(Linear.builder().setUnits(256).build());
        block.add(Activation::relu);
        block.add(Linear.builder().setUnits(256).build());
        block.add(Activation::relu);
        block.add(Linear.builder().setUnits(CLASSES).build());
        block.initialize(m, DataType.FLOAT32, new Shape(1, INPUTS));
        return block;
    }

    /** The recipe: the diagonal GGN of the summed categorical log likelihood. */
    static LaplaceRecipe<Batch, DiagLaplaceState> recipe() {
        return m ->
                DiagGgn.builder(
                                ModelLogPosterior.<Batch>builder(
                                                FunctionalModel.of(mlp(m)),
                                                b -> new NDList(b.x()),
                                                (o, b) -> LogLikelihoods.categorical(o, b.y()))
                                        .build())
                        .build();
    }

    /** The adapter: 784 float inputs then the label, per row. */
    static BatchAdapter<float[], Batch> adapter() {
        return (rows, m) -> {
            float[] x = new float[rows.size() * INPUTS];
            long[] y = new long[rows.size()];
            for (int i = 0; i < rows.size(); i++) {
                System.arraycopy(rows.get(i), 0, x, i * INPUTS, INPUTS);
                y[i] = (long) rows.get(i)[INPUTS];
            }
            return new Batch(m.create(x, new Shape(rows.size(), INPUTS)), m.create(y));
        };
    }

    /** Synthetic rows: standard normal inputs, uniform labels, from a fixed seed. */
    static List<float[]> rows() {
        Random r = new Random(0);
        List<float[]> rows = new ArrayList<>(ROWS);
        for (int i = 0; i < ROWS; i++) {
            float[] row = new float[INPUTS + 1];
            for (int j = 0; j < INPUTS; j++) {
                row[j] = (float) r.nextGaussian();
            }
            row[INPUTS] = r.nextInt(CLASSES);
            rows.add(row);
        }
        return rows;
    }

    /** Shared set-up: the rows, θ* and a driver manager. */
    @State(Scope.Benchmark)
    public abstract static class FitBench extends Monitored {
        /** The data set. */
        protected List<float[]> rows;

        /** The driver's manager. */
        protected NDManager manager;

        /** θ*: the MLP's initial parameters (the curvature does not care that it is no MAP). */
        protected TensorTree map;

        /** Creates the state (JMH calls this). */
        protected FitBench() {}

        /** Builds the rows and θ*, then what the subclass needs. */
        @Setup(Level.Trial)
        public void setUpTrial() {
            rows = rows();
            manager = NDManager.newBaseManager();
            map = TensorTree.fromBlock(mlp(manager)).copy();
            prepare();
        }

        /**
         * Builds what the fit needs, once the rows and θ* exist (JMH does not order the set-up
         * methods of a class and its subclass, so there is only one).
         */
        protected abstract void prepare();

        @Override
        protected void release() {
            manager.close();
        }
    }

    /** The single-JVM fit over the 64 batches (the baseline). */
    @State(Scope.Benchmark)
    public static class DiagGgnSingleJvm extends FitBench {
        private Transform<DiagLaplaceState, Batch> transform;
        private BatchAdapter<float[], Batch> adapter;

        /** Creates the state (JMH calls this). */
        public DiagGgnSingleJvm() {}

        /** Builds the transform once, as the driver does. */
        @Override
        protected void prepare() {
            transform = recipe().build(manager);
            adapter = adapter();
        }

        /** Fits once over every row. */
        @Benchmark
        public void fit() {
            DiagLaplaceState s = transform.init(map);
            for (int i = 0; i < ROWS; i += BATCH) {
                try (NDManager scope = manager.newSubManager()) {
                    Step<DiagLaplaceState> step =
                            transform.updateInPlace(
                                    s, adapter.toBatch(rows.subList(i, i + BATCH), scope));
                    step.aux().close();
                    s = step.state();
                }
            }
            s.close();
        }
    }

    /**
     * The data-parallel fit over 8 partitions on a local master ({@code local[2]} by default;
     * {@code -p master=local[1]} runs the tasks one at a time, which isolates Spark's overhead from
     * the two tasks competing for the cores).
     */
    @State(Scope.Benchmark)
    public static class DiagGgnSparkLocal extends FitBench {
        /** The Spark master. */
        @Param({"local[2]"})
        public String master;

        private SparkSession spark;
        private JavaRDD<float[]> rdd;
        private SparkLaplace<float[], Batch, DiagLaplaceState> laplace;
        private long fits;
        private double overheadNanos;
        private double taskNanos;
        private double wallNanos;
        private int slots;
        private boolean measuring;

        /** Creates the state (JMH calls this). */
        public DiagGgnSparkLocal() {}

        /**
         * Notes whether the iteration is measured: the job statistics are averaged over the
         * measured fits only.
         *
         * @param params the iteration's parameters
         */
        @Setup(Level.Iteration)
        public void noteIteration(IterationParams params) {
            measuring = params.getType() == IterationType.MEASUREMENT;
        }

        /** Starts Spark and caches the rows in 8 partitions. */
        @Override
        protected void prepare() {
            spark = SparkSessions.local(master);
            spark.sparkContext().setLogLevel("WARN");
            rdd =
                    JavaSparkContext.fromSparkContext(spark.sparkContext())
                            .parallelize(rows, PARTITIONS)
                            .cache();
            rdd.count();
            laplace = SparkLaplace.builder(recipe(), adapter()).batchSize(BATCH).build();
        }

        /** Fits once over every row, on Spark. */
        @Benchmark
        public void fit() {
            try (LaplaceFit<DiagLaplaceState> f = laplace.fit(rdd, map, manager)) {
                if (!measuring) {
                    return;
                }
                JobStats st = f.stats();
                fits++;
                overheadNanos += st.overheadPerTaskNanos();
                taskNanos += (double) st.taskNanos() / st.tasks();
                wallNanos += st.wallNanos();
                slots = st.slots();
            }
        }

        @Override
        protected Map<String, Object> extraStats() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("spark_master", master);
            m.put("spark_tasks", PARTITIONS);
            m.put("spark_slots", slots);
            m.put("spark_fits", fits);
            if (fits > 0) {
                m.put("spark_overhead_per_task_ms", ms(overheadNanos / fits));
                m.put("spark_task_compute_ms", ms(taskNanos / fits));
                m.put("spark_wall_ms", ms(wallNanos / fits));
            }
            return m;
        }

        private static String ms(double nanos) {
            return String.format(Locale.ROOT, "%.2f", nanos / 1e6);
        }

        @Override
        protected void release() {
            rdd.unpersist(true);
            spark.stop();
            super.release();
        }
    }
}
