package io.posteriors.benchmarks;

import io.posteriors.benchmarks.Catalog.Spec;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.Reader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormat;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;
import org.openjdk.jmh.util.Statistics;

/**
 * Runs the benchmarks: every workload in its own JMH fork (sample-time mode, one invocation per
 * step), baselines first, and prints one JSON line per workload to stdout and to {@code
 * benchmarks/results/<timestamp>.jsonl}, then a table and a summary line. The ratio of a workload
 * is its median over the median of its baseline (a plain DJL SGD step on the same model and
 * batches) measured in the same run.
 *
 * <p>Usage: {@code java -Dai.djl.offline=true -jar benchmarks/target/benchmarks.jar [--quick]
 * [--soak] [--only=a,b] [--threads=N] [--forks=N] [--out=DIR] [--list] [--verbose]}.
 */
public final class BenchMain {

    private static final String THREADS_PROPERTY = "ai.djl.pytorch.num_threads";

    // DJL warns on every start of a machine without a GPU that it found none
    private static final String CUDA_LOG = "org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils";

    private BenchMain() {}

    /** Parsed command line. */
    private static final class Args {
        boolean quick;
        boolean soak;
        boolean list;
        boolean verbose;
        String only;
        int threads = Integer.parseInt(System.getProperty(THREADS_PROPERTY, "2"));
        int forks = 1;
        double waitIdle;
        long soakGauss;
        long soakMlp;
        String out;
        String pythonRef;
    }

    /** One measured workload, in milliseconds. */
    private record Measured(
            double medianMs, double p10Ms, double p90Ms, long samples, Map<String, Object> stats) {}

    /**
     * Runs the benchmarks (or the soak) and exits non-zero when a workload failed.
     *
     * @param argv the command line
     * @throws Exception when the harness itself fails
     */
    public static void main(String[] argv) throws Exception {
        Args args = parse(argv);
        if (args == null) {
            return;
        }
        // every JVM offline, forks included (they get the same flags below)
        setDefault("ai.djl.offline", "true");
        setDefault("OPT_OUT_TRACKING", "true");
        setDefault("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        setDefault(CUDA_LOG, "error");
        System.setProperty(THREADS_PROPERTY, Integer.toString(args.threads));

        PrintStream out = System.out;
        if (args.list) {
            for (Spec s : select(args.only)) {
                out.printf("%-28s %-3s -> %-13s %s%n", s.name(), s.ref(), s.baseline(), s.config());
            }
            return;
        }
        String stamp =
                DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT)
                        .withZone(ZoneOffset.UTC)
                        .format(Instant.now());
        Path dir = args.out != null ? Path.of(args.out) : defaultResultsDir();
        Files.createDirectories(dir);
        String mode =
                args.soak ? (args.quick ? "soak-quick" : "soak") : args.quick ? "quick" : "full";
        Path file = dir.resolve(stamp + "-" + mode + ".jsonl");
        String loadStart = Proc.loadavg();
        out.printf(
                Locale.ROOT,
                "# posteriors-java benchmarks: mode %s, %s=%d, %d cpus, java %s, loadavg at start"
                        + " %s%n",
                mode,
                THREADS_PROPERTY,
                args.threads,
                Proc.cpus(),
                System.getProperty("java.version"),
                loadStart);
        out.printf("# results: %s%n", file);
        boolean ok;
        if (args.soak) {
            long gauss = args.soakGauss > 0 ? args.soakGauss : args.quick ? 100_000 : 1_000_000;
            long mlp = args.soakMlp > 0 ? args.soakMlp : args.quick ? 1_000 : 10_000;
            ok = soak(gauss, mlp, args.threads, file);
        } else {
            try (PrintWriter results =
                    new PrintWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8))) {
                ok = bench(args, mode, out, results);
            }
        }
        String loadEnd = Proc.loadavg();
        out.printf("# loadavg at end %s (at start %s)%n", loadEnd, loadStart);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("summary", mode);
        summary.put("threads", args.threads);
        summary.put("cpus", Proc.cpus());
        summary.put("java", System.getProperty("java.version"));
        summary.put("loadavg_start", loadStart);
        summary.put("loadavg_end", loadEnd);
        summary.put("ok", ok);
        summary.put("started_utc", stamp);
        String line = Json.object(summary);
        out.println(line);
        Files.writeString(
                file,
                line + "\n",
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        if (!ok) {
            System.exit(1);
        }
    }

    /**
     * Runs the soak in a child JVM whose heap is fixed and touched up front (-Xms = -Xmx,
     * AlwaysPreTouch), so that the resident-memory growth it reports is native memory (tensors not
     * freed) and not the Java heap growing into its default maximum.
     */
    private static boolean soak(long gauss, long mlp, int threads, Path file)
            throws IOException, InterruptedException {
        List<String> cmd =
                new ArrayList<>(
                        List.of(
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "-Xms" + Soak.HEAP,
                                "-Xmx" + Soak.HEAP,
                                "-XX:+AlwaysPreTouch",
                                "-Xss4m",
                                "-Dai.djl.offline=true",
                                "-DOPT_OUT_TRACKING=true",
                                "-D" + THREADS_PROPERTY + "=" + threads,
                                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                                "-D" + CUDA_LOG + "=error",
                                "-cp",
                                System.getProperty("java.class.path"),
                                Soak.class.getName(),
                                Long.toString(gauss),
                                Long.toString(mlp),
                                Integer.toString(threads),
                                file.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
        pb.environment().put("OPT_OUT_TRACKING", "true");
        return pb.start().waitFor() == 0;
    }

    private static boolean bench(Args args, String mode, PrintStream out, PrintWriter results)
            throws IOException, InterruptedException {
        List<Spec> specs = select(args.only);
        Path statsDir = Files.createTempDirectory("posteriors-bench");
        List<String> jvmArgs = new ArrayList<>(Catalog.sparkJvmArgs());
        jvmArgs.addAll(
                List.of(
                        "-Dai.djl.offline=true",
                        "-DOPT_OUT_TRACKING=true",
                        "-D" + THREADS_PROPERTY + "=" + args.threads,
                        "-Xss4m",
                        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                        "-D" + CUDA_LOG + "=error",
                        "-D" + Monitored.STATS_DIR + "=" + statsDir));
        OutputFormat format =
                OutputFormatFactory.createFormatInstance(
                        System.err, args.verbose ? VerboseMode.NORMAL : VerboseMode.SILENT);
        Map<String, Measured> measured = new LinkedHashMap<>();
        List<Map<String, Object>> rows = new ArrayList<>();
        List<Spec> plan = new ArrayList<>(specs);
        boolean endBaseline =
                specs.stream().anyMatch(s -> s.name().equals(Catalog.SGD_MLP)) && specs.size() > 2;
        if (endBaseline) {
            Spec sgd =
                    specs.stream().filter(s -> s.name().equals(Catalog.SGD_MLP)).findFirst().get();
            // the baseline again at the end: how much the machine drifted during the run
            plan.add(
                    new Spec(
                            Catalog.SGD_MLP + "-end",
                            "",
                            sgd.benchmark(),
                            Catalog.SGD_MLP,
                            sgd.params(),
                            sgd.batch(),
                            "the baseline measured again at the end of the run (ratio = drift)",
                            null,
                            null,
                            null));
        }
        PythonReference python = PythonReference.read(args.pythonRef);
        boolean ok = true;
        int i = 0;
        for (Spec spec : plan) {
            i++;
            waitIdle(args.waitIdle);
            System.err.printf(
                    Locale.ROOT,
                    "# [%d/%d] %s (loadavg %s)%n",
                    i,
                    plan.size(),
                    spec.name(),
                    Proc.loadavg());
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("workload", spec.name());
            try {
                Measured m = measure(spec, args, jvmArgs, format, statsDir);
                measured.put(spec.name(), m);
                Measured base = measured.get(spec.baseline());
                row.put("median_ms", m.medianMs());
                row.put("baseline_ms", base == null ? null : base.medianMs());
                row.put(
                        "ratio",
                        base == null
                                ? null
                                : Math.round(1000 * m.medianMs() / base.medianMs()) / 1000.0);
                fill(row, spec, args, mode);
                row.put("p10_ms", m.p10Ms());
                row.put("p90_ms", m.p90Ms());
                row.put("samples", m.samples());
                if (spec.batch() == 0) {
                    row.put("median_us", m.medianMs() * 1000);
                }
                Boolean meets = meets(spec, m, base);
                if (meets != null) {
                    row.put("meets_target", meets);
                }
                python.compare(spec, m.medianMs(), row);
                row.putAll(m.stats());
            } catch (RunnerException | RuntimeException e) {
                ok = false;
                row.put("median_ms", null);
                row.put("baseline_ms", null);
                row.put("ratio", null);
                fill(row, spec, args, mode);
                row.put("error", rootMessage(e));
                System.err.println("# " + spec.name() + " failed:");
                e.printStackTrace(System.err);
            }
            row.put("loadavg", Proc.loadavg());
            String line = Json.object(row);
            out.println(line);
            out.flush();
            results.println(line);
            results.flush();
            rows.add(row);
        }
        printTable(out, rows);
        long contaminated =
                rows.stream()
                        .filter(
                                r ->
                                        r.get("foreign_cpu_pct") instanceof Number f
                                                && f.doubleValue() > 5)
                        .count();
        if (contaminated > 0) {
            out.printf(
                    "# WARNING: %d of %d workloads ran while other processes used more than 5%% of"
                            + " the CPUs: the timings are contaminated (see foreign_cpu_pct and"
                            + " sgd-mlp-end); rerun on a quiet machine, e.g. with --wait-idle=300%n",
                    contaminated, rows.size());
        }
        return ok;
    }

    /**
     * Waits (up to a limit) until other processes use under 5% of the machine, as the reference.
     */
    private static void waitIdle(double maxSeconds) throws InterruptedException {
        if (maxSeconds <= 0) {
            return;
        }
        long end = System.nanoTime() + (long) (maxSeconds * 1e9);
        while (true) {
            long[] a = Proc.cpuSnapshot();
            Thread.sleep(1000);
            long[] b = Proc.cpuSnapshot();
            if (a == null || b == null) {
                return;
            }
            double total = b[0] - a[0];
            double foreign = total <= 0 ? 0 : ((total - (b[1] - a[1])) - (b[2] - a[2])) / total;
            if (foreign < 0.05) {
                return;
            }
            if (System.nanoTime() > end) {
                System.err.printf(
                        Locale.ROOT,
                        "# wait-idle: gave up, other processes use %.0f%% of the CPUs%n",
                        100 * foreign);
                return;
            }
        }
    }

    private static void fill(Map<String, Object> row, Spec spec, Args args, String mode) {
        row.put("threads", args.threads);
        row.put("params", spec.params());
        row.put("batch", spec.batch());
        row.put("ref", spec.ref().isEmpty() ? null : spec.ref());
        row.put("baseline", spec.baseline());
        row.put("target", target(spec));
        row.put("python_ref_ms", spec.pythonMs());
        row.put("mode", mode);
        row.put("config", spec.config());
    }

    private static String target(Spec spec) {
        String python =
                spec.ref().isEmpty()
                        ? null
                        : "W6".equals(spec.ref()) ? "python autograd x1" : "python x1";
        String own = null;
        if (spec.targetRatio() != null) {
            own = String.format(Locale.ROOT, "ratio <= %.1f", spec.targetRatio());
        } else if (spec.targetUs() != null) {
            own = String.format(Locale.ROOT, "<= %.0f us/step", spec.targetUs());
        }
        if (own == null) {
            return python;
        }
        return python == null ? own : own + ", " + python;
    }

    private static Boolean meets(Spec spec, Measured m, Measured base) {
        if (spec.targetRatio() != null && base != null) {
            return m.medianMs() / base.medianMs() <= spec.targetRatio();
        }
        if (spec.targetUs() != null) {
            return m.medianMs() * 1000 <= spec.targetUs();
        }
        return null;
    }

    private static Measured measure(
            Spec spec, Args args, List<String> jvmArgs, OutputFormat format, Path statsDir)
            throws RunnerException, IOException {
        int warmups = args.quick ? 1 : 3;
        int iterations = args.quick ? 2 : 5;
        long iterationMs = args.quick ? 500 : 1000;
        Path stats = statsDir.resolve(spec.benchmark() + ".properties");
        Files.deleteIfExists(stats);
        Options options =
                new OptionsBuilder()
                        .include("^" + Pattern.quote(spec.benchmark()) + "$")
                        .mode(Mode.SampleTime)
                        .timeUnit(TimeUnit.MICROSECONDS)
                        .warmupIterations(warmups)
                        .warmupTime(TimeValue.milliseconds(iterationMs))
                        .measurementIterations(iterations)
                        .measurementTime(TimeValue.milliseconds(iterationMs))
                        .forks(args.forks)
                        .threads(1)
                        .shouldFailOnError(true)
                        .jvmArgsAppend(jvmArgs.toArray(new String[0]))
                        .build();
        Collection<RunResult> results = new Runner(options, format).run();
        if (results.isEmpty()) {
            throw new IllegalStateException("JMH returned no result for " + spec.benchmark());
        }
        Statistics st = results.iterator().next().getPrimaryResult().getStatistics();
        Map<String, Object> extra = new LinkedHashMap<>();
        if (Files.exists(stats)) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(stats)) {
                p.load(r);
            }
            for (String k : p.stringPropertyNames().stream().sorted().toList()) {
                extra.put(k, parseValue(p.getProperty(k)));
            }
        }
        return new Measured(
                round4(st.getPercentile(50) / 1000),
                round4(st.getPercentile(10) / 1000),
                round4(st.getPercentile(90) / 1000),
                st.getN(),
                extra);
    }

    private static Object parseValue(String v) {
        if (v.equals("true") || v.equals("false")) {
            return Boolean.valueOf(v);
        }
        try {
            return Long.valueOf(v);
        } catch (NumberFormatException e) {
            // not an integer
        }
        try {
            return Double.valueOf(v);
        } catch (NumberFormatException e) {
            return v;
        }
    }

    private static double round4(double ms) {
        // four significant digits is more than a 2-core shared machine can resolve
        if (ms == 0 || !Double.isFinite(ms)) {
            return ms;
        }
        double scale = Math.pow(10, 3 - Math.floor(Math.log10(Math.abs(ms))));
        return Math.round(ms * scale) / scale;
    }

    private static void printTable(PrintStream out, List<Map<String, Object>> rows) {
        out.println("#");
        out.printf(
                "# %-28s %-3s %11s %11s %8s %-28s %6s %9s %7s %8s%n",
                "workload",
                "ref",
                "median ms",
                "baseline ms",
                "ratio",
                "target",
                "met",
                "python ms",
                "vs py",
                "foreign%");
        for (Map<String, Object> r : rows) {
            out.printf(
                    Locale.ROOT,
                    "# %-28s %-3s %11s %11s %8s %-28s %6s %9s %7s %8s%n",
                    r.get("workload"),
                    blank(r.get("ref")),
                    r.containsKey("error") ? "FAILED" : number(r.get("median_ms")),
                    number(r.get("baseline_ms")),
                    number(r.get("ratio")),
                    blank(r.get("target")),
                    blank(r.get("meets_target")),
                    number(r.get("python_ref_ms")),
                    number(
                            r.containsKey("vs_python_autograd")
                                    ? r.get("vs_python_autograd")
                                    : r.get("vs_python")),
                    r.get("foreign_cpu_pct") instanceof Number f
                            ? String.format(Locale.ROOT, "%.1f", f.doubleValue())
                            : "");
        }
    }

    private static String blank(Object o) {
        return o == null ? "" : o.toString();
    }

    private static String number(Object o) {
        if (o instanceof Number n) {
            double d = n.doubleValue();
            return d >= 100
                    ? String.format(Locale.ROOT, "%.1f", d)
                    : d >= 1
                            ? String.format(Locale.ROOT, "%.3f", d)
                            : String.format(Locale.ROOT, "%.4f", d);
        }
        return "";
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        String msg = e.toString();
        while (t != null) {
            if (t.getMessage() != null) {
                msg = t.getMessage();
            }
            t = t.getCause();
        }
        int nl = msg.indexOf('\n');
        return nl > 0 ? msg.substring(0, nl) : msg;
    }

    /** The selected workloads with the baselines they need, in catalog order. */
    private static List<Spec> select(String only) {
        List<Spec> all = Catalog.all();
        if (only == null) {
            return all;
        }
        Set<String> wanted = new LinkedHashSet<>();
        for (String n : only.split(",")) {
            String name = n.trim();
            if (all.stream().noneMatch(s -> s.name().equals(name))) {
                throw new IllegalArgumentException(
                        "unknown workload '" + name + "'; use --list to see them");
            }
            wanted.add(name);
        }
        boolean grew = true;
        while (grew) {
            grew = false;
            for (Spec s : all) {
                if (wanted.contains(s.name()) && wanted.add(s.baseline())) {
                    grew = true;
                }
            }
        }
        return all.stream().filter(s -> wanted.contains(s.name())).toList();
    }

    private static Path defaultResultsDir() {
        try {
            Path jar =
                    Path.of(
                            BenchMain.class
                                    .getProtectionDomain()
                                    .getCodeSource()
                                    .getLocation()
                                    .toURI());
            Path parent = jar.getParent();
            // benchmarks/target/benchmarks.jar or benchmarks/target/classes -> benchmarks/results
            if (parent != null && parent.getFileName().toString().equals("target")) {
                return parent.resolveSibling("results");
            }
            if (parent != null
                    && parent.getParent() != null
                    && parent.getParent().getFileName().toString().equals("target")) {
                return parent.getParent().resolveSibling("results");
            }
        } catch (URISyntaxException | RuntimeException e) {
            // fall through to the working directory
        }
        return Path.of("benchmarks", "results");
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    private static Args parse(String[] argv) {
        Args a = new Args();
        for (String s : argv) {
            if (s.equals("--quick")) {
                a.quick = true;
            } else if (s.equals("--soak")) {
                a.soak = true;
            } else if (s.equals("--list")) {
                a.list = true;
            } else if (s.equals("--verbose")) {
                a.verbose = true;
            } else if (s.startsWith("--only=")) {
                a.only = s.substring("--only=".length());
            } else if (s.startsWith("--threads=")) {
                a.threads = Integer.parseInt(s.substring("--threads=".length()));
            } else if (s.startsWith("--forks=")) {
                a.forks = Integer.parseInt(s.substring("--forks=".length()));
            } else if (s.startsWith("--python-ref=")) {
                a.pythonRef = s.substring("--python-ref=".length());
            } else if (s.startsWith("--wait-idle=")) {
                a.waitIdle = Double.parseDouble(s.substring("--wait-idle=".length()));
            } else if (s.startsWith("--soak-gauss=")) {
                a.soakGauss = Long.parseLong(s.substring("--soak-gauss=".length()));
            } else if (s.startsWith("--soak-mlp=")) {
                a.soakMlp = Long.parseLong(s.substring("--soak-mlp=".length()));
            } else if (s.startsWith("--out=")) {
                a.out = s.substring("--out=".length());
            } else if (s.equals("--help") || s.equals("-h")) {
                System.out.println(
                        "usage: java -Dai.djl.offline=true -jar benchmarks.jar [--quick] [--soak]"
                                + " [--only=a,b] [--threads=N] [--forks=N] [--out=DIR] [--list]"
                                + " [--verbose]\n"
                                + "  --quick    short iterations (a smoke run)\n"
                                + "  --soak     1,000,000 steps of each sampler and of diagonal VI on"
                                + " the 2-D Gaussian, 10,000 of SGHMC and VI on the MLP, printing"
                                + " resident-memory growth (with --quick: 100,000 and 1,000)\n"
                                + "  --soak-gauss=N, --soak-mlp=N  other soak lengths\n"
                                + "  --only     these workloads (and their baselines)\n"
                                + "  --threads  PyTorch intra-op threads (default 2, or"
                                + " -Dai.djl.pytorch.num_threads)\n"
                                + "  --forks    JMH forks per workload (default 1)\n"
                                + "  --out      results directory (default benchmarks/results)\n"
                                + "  --verbose  JMH's own progress on stderr\n"
                                + "  --python-ref=FILE  JSON lines of shared/reference/ref_bench.py"
                                + " run beside this one: python_ref_ms, vs_python per W1-W6\n"
                                + "  --wait-idle=S  before each workload, wait up to S seconds for"
                                + " other processes to use under 5% of the CPUs");
                return null;
            } else {
                throw new IllegalArgumentException("unknown argument '" + s + "'; try --help");
            }
        }
        if (a.threads < 1 || a.forks < 1) {
            throw new IllegalArgumentException("--threads and --forks must be at least 1");
        }
        return a;
    }
}
