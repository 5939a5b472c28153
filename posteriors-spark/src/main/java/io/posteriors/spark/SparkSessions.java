package io.posteriors.spark;

import io.posteriors.Checks;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * Builds the embedded Spark session the rest of this package runs on when no cluster is at hand:
 * {@code local[*]}, one task slot per core, in this JVM.
 *
 * <pre>{@code
 * SparkSession spark = SparkSessions.local();          // local[*]
 * SparkSession two = SparkSessions.local("local[2,2]"); // 2 slots, a failed task is retried once
 * }</pre>
 *
 * <p>On Java 17 Spark needs the {@code --add-opens} options of {@code docs/spark.md} on the JVM
 * command line (spark-submit adds them itself); the JVM should also run with {@code
 * -Dai.djl.offline=true} and the environment variable {@code OPT_OUT_TRACKING=true}, which this
 * package's local executors share with the driver.
 */
public final class SparkSessions {

    private SparkSessions() {}

    /**
     * Returns the settings this package recommends, on top of {@code conf}: no web UI, the driver
     * on the loopback address (a local session needs no network), and DJL's offline settings passed
     * on to executors (they matter on a cluster; local executors are the driver's JVM).
     *
     * @param conf the settings to add to; changed and returned
     * @return {@code conf}
     * @throws NullPointerException when {@code conf} is null
     */
    public static SparkConf defaults(SparkConf conf) {
        Checks.notNull(conf, "conf");
        return conf.setIfMissing("spark.ui.enabled", "false")
                .setIfMissing("spark.driver.host", "127.0.0.1")
                .setIfMissing("spark.driver.bindAddress", "127.0.0.1")
                .setIfMissing("spark.executor.extraJavaOptions", "-Dai.djl.offline=true")
                .setIfMissing("spark.executorEnv.OPT_OUT_TRACKING", "true");
    }

    /**
     * Returns the session of this JVM on {@code local[*]}, creating it when there is none.
     *
     * @return the session
     */
    public static SparkSession local() {
        return local("local[*]");
    }

    /**
     * Returns the session of this JVM on a local master, creating it with {@link
     * #defaults(SparkConf)} when there is none (an existing session is returned as it is).
     *
     * @param master {@code local}, {@code local[N]}, {@code local[*]} or {@code local[N,F]} (F the
     *     attempts a task gets before the job fails)
     * @return the session
     * @throws IllegalArgumentException when {@code master} is not a local master
     * @throws NullPointerException when {@code master} is null
     */
    public static SparkSession local(String master) {
        Checks.notNull(master, "master");
        if (!master.equals("local") && !master.startsWith("local[")) {
            throw new IllegalArgumentException(
                    Checks.format(
                            "master must be local, local[N], local[*] or local[N,F], got '%s'",
                            master));
        }
        SparkConf conf = defaults(new SparkConf().setMaster(master).setAppName("posteriors"));
        return SparkSession.builder().config(conf).getOrCreate();
    }
}
