package io.posteriors.benchmarks;

import io.posteriors.State;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.optim.Adam;
import io.posteriors.sgmcmc.Baoa;
import io.posteriors.sgmcmc.Sgld;
import io.posteriors.sgmcmc.Sgnht;
import io.posteriors.vi.DiagVi;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The memory soak: long in-place chains of W6 (SGHMC on the 2-D Gaussian, 1,000,000 steps) and W1
 * (SGHMC on the MLP, 10,000 steps) in this JVM, sampling the resident set size (VmRSS). The growth
 * is the last sample minus the sample taken after the warm-up (the first 5% of the steps), when the
 * allocator and the JIT have settled. Target: under 20 MB.
 */
final class Soak {

    /** The fixed heap of the soak's JVM. */
    static final String HEAP = "512m";

    private static final double TARGET_MB = 20.0;

    private Soak() {}

    /**
     * Runs the soak; started by {@link BenchMain} in a JVM with a fixed, pre-touched heap.
     *
     * @param args W6 steps, W1 steps, threads, the results file to append to
     * @throws IOException when the results file cannot be written
     */
    public static void main(String[] args) throws IOException {
        long gauss = Long.parseLong(args[0]);
        long mlp = Long.parseLong(args[1]);
        int threads = Integer.parseInt(args[2]);
        boolean ok;
        try (PrintWriter results =
                new PrintWriter(
                        Files.newBufferedWriter(
                                Path.of(args[3]),
                                StandardCharsets.UTF_8,
                                StandardOpenOption.CREATE,
                                StandardOpenOption.APPEND))) {
            ok = run(gauss, mlp, threads, System.out, results);
        }
        System.exit(ok ? 0 : 1);
    }

    static boolean run(
            long gaussSteps, long mlpSteps, int threads, PrintStream out, PrintWriter results) {
        boolean ok = true;
        try (GaussProblem g = new GaussProblem()) {
            Runner<Object> r =
                    new Runner<>(
                            g.initialParams(),
                            List.of(GaussProblem.NO_BATCH),
                            gaussSteps,
                            threads,
                            out,
                            results);
            ok &= r.run("sghmc-gauss-2d", SgmcmcBenchmarks.sghmcGauss(g));
            ok &= r.run("sgld-gauss-2d", Sgld.builder(g.logProb(), 0.01).temperature(1.0).build());
            ok &=
                    r.run(
                            "sgnht-gauss-2d",
                            Sgnht.builder(g.logProb(), 0.01)
                                    .alpha(1.0)
                                    .temperature(1.0)
                                    .momenta(0.0)
                                    .build());
            ok &=
                    r.run(
                            "baoa-gauss-2d",
                            Baoa.builder(g.logProb(), 0.1)
                                    .alpha(10.0)
                                    .sigma(Math.sqrt(10.0))
                                    .temperature(1.0)
                                    .momenta(0.0)
                                    .build());
            ok &= r.run("vi-diag-gauss-2d", DiagVi.builder(g.logProb(), Adam.of(1e-2)).build());
        }
        try (ClassificationProblem p = ClassificationProblem.mlp()) {
            Runner<Batch> r =
                    new Runner<>(p.initialParams(), p.batches(), mlpSteps, threads, out, results);
            ok &= r.run("sghmc-mlp", SgmcmcBenchmarks.sghmcMlp(p));
            ok &=
                    r.run(
                            "vi-diag-mlp",
                            DiagVi.builder(p.logPosterior(), Adam.of(1e-3))
                                    .temperature(p.temperature())
                                    .build());
        }
        return ok;
    }

    /** Runs chains of one problem: same start, batches, length and output. */
    private record Runner<B>(
            TensorTree init,
            List<B> batches,
            long steps,
            int threads,
            PrintStream out,
            PrintWriter results) {
        <S extends State> boolean run(String name, Transform<S, B> t) {
            return chain(name, t, init, batches, steps, threads, out, results);
        }
    }

    private static <S extends State, B> boolean chain(
            String name,
            Transform<S, B> t,
            TensorTree init,
            List<B> batches,
            long steps,
            int threads,
            PrintStream out,
            PrintWriter results) {
        long warm = Math.max(1, steps / 20);
        long every = Math.max(1, steps / 20);
        S state = t.init(init);
        long rssWarm = 0;
        long peak = 0;
        long t0 = 0;
        int next = 0;
        for (long i = 1; i <= steps; i++) {
            Step<S> s = t.updateInPlace(state, batches.get(next));
            s.aux().close();
            state = s.state();
            if (++next == batches.size()) {
                next = 0;
            }
            if (i == warm) {
                rssWarm = Proc.rssKb();
                peak = rssWarm;
                t0 = System.nanoTime();
            }
            if (i % every == 0) {
                long rss = Proc.rssKb();
                peak = Math.max(peak, rss);
                System.err.printf(
                        Locale.ROOT, "# soak %s %d/%d rss %.1f MB%n", name, i, steps, rss / 1024.0);
            }
        }
        double perStepUs = (System.nanoTime() - t0) / 1e3 / (steps - warm);
        long rssEnd = Proc.rssKb();
        boolean finite = true;
        for (var a : state.arrays()) {
            if (a.getDataType().isFloating()) {
                try (var bad = a.isNaN();
                        var any = bad.any()) {
                    finite &= !any.getBoolean();
                }
            }
        }
        state.close();
        double growth = (rssEnd - rssWarm) / 1024.0;
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("soak", name);
        row.put("steps", steps);
        row.put("warmup_steps", warm);
        row.put("rss_after_warmup_mb", Math.round(rssWarm / 102.4) / 10.0);
        row.put("rss_end_mb", Math.round(rssEnd / 102.4) / 10.0);
        row.put("rss_peak_mb", Math.round(peak / 102.4) / 10.0);
        row.put("growth_mb", Math.round(growth * 10) / 10.0);
        row.put("target_mb", TARGET_MB);
        row.put("meets_target", growth < TARGET_MB);
        row.put("us_per_step", Math.round(perStepUs * 10) / 10.0);
        row.put("state_finite", finite);
        row.put("heap_mb", Math.round(Runtime.getRuntime().totalMemory() / 104857.6) / 10.0);
        row.put("threads", threads);
        row.put("loadavg", Proc.loadavg());
        String line = Json.object(row);
        out.println(line);
        out.flush();
        results.println(line);
        results.flush();
        out.printf(
                Locale.ROOT,
                "# soak %s: %d steps, %.1f us/step, rss %.1f MB after warm-up -> %.1f MB (growth"
                        + " %.1f MB, peak %.1f MB)%n",
                name,
                steps,
                perStepUs,
                rssWarm / 1024.0,
                rssEnd / 1024.0,
                growth,
                peak / 1024.0);
        // a missed target is reported (meets_target), not an error; NaN is an error
        return finite;
    }
}
