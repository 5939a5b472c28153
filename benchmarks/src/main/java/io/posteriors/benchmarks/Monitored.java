package io.posteriors.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * Base of every benchmark state: measures, over the measurement iterations only, the share of the
 * machine's CPU that other processes used (as the reference's {@code foreign_cpu_pct}), and the
 * resident memory at the end, and hands both to the harness in a small properties file in the
 * directory named by the system property {@code posteriors.bench.statsDir}.
 */
@State(Scope.Benchmark)
public abstract class Monitored {

    /** The system property naming the directory for the per-benchmark statistics files. */
    public static final String STATS_DIR = "posteriors.bench.statsDir";

    private long[] iterationStart;
    private long total;
    private long idle;
    private long self;

    /** Creates the state (JMH calls this). */
    protected Monitored() {}

    /**
     * Takes a CPU snapshot at the start of a measurement iteration.
     *
     * @param params the iteration's parameters
     */
    @Setup(Level.Iteration)
    public void monitorStart(IterationParams params) {
        iterationStart = params.getType() == IterationType.MEASUREMENT ? Proc.cpuSnapshot() : null;
    }

    /** Adds the CPU used during a measurement iteration. */
    @TearDown(Level.Iteration)
    public void monitorStop() {
        if (iterationStart == null) {
            return;
        }
        long[] end = Proc.cpuSnapshot();
        if (end != null) {
            total += end[0] - iterationStart[0];
            idle += end[1] - iterationStart[1];
            self += end[2] - iterationStart[2];
        }
        iterationStart = null;
    }

    /**
     * Writes the statistics of the trial, then releases its resources.
     *
     * @param params the benchmark's parameters (its name names the file)
     */
    @TearDown(Level.Trial)
    public void monitorReport(BenchmarkParams params) {
        String dir = System.getProperty(STATS_DIR);
        if (dir == null) {
            release();
            return;
        }
        Map<String, Object> stats = new LinkedHashMap<>();
        if (total > 0) {
            double foreign = Math.max(0.0, (double) (total - idle - self) / total);
            stats.put("foreign_cpu_pct", Math.round(1000 * foreign) / 10.0);
        }
        stats.put("rss_mb", Math.round(Proc.rssKb() / 102.4) / 10.0);
        stats.putAll(extraStats());
        try {
            StringBuilder sb = new StringBuilder();
            stats.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
            Files.writeString(Path.of(dir, params.getBenchmark() + ".properties"), sb);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            release();
        }
    }

    /**
     * Closes what the trial holds; runs after {@link #extraStats()} (JMH does not order the
     * tear-down methods of one state, so there is only one).
     */
    protected abstract void release();

    /**
     * Returns workload-specific facts for the results line (a final value that shows the run was
     * sane, for example); empty by default.
     *
     * @return names to numbers or strings
     */
    protected Map<String, Object> extraStats() {
        return Map.of();
    }
}
