package io.posteriors.examples.quickstart;

import io.posteriors.TensorTree;
import io.posteriors.optim.Adam;
import io.posteriors.predictive.ClassPredictions;
import io.posteriors.predictive.Plots;
import io.posteriors.predictive.Predictive;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The quick start: a small classifier on generated 2-D blobs, fitted by the methods chosen with
 * {@code --method}, then one table, method by method, of test accuracy, NLL, ECE, Brier score and
 * out-of-distribution AUROC (test blobs against shifted clusters, from epistemic uncertainty and
 * from max probability), with reliability diagrams and uncertainty histograms as PNG files.
 *
 * <pre>
 * ./quickstart.sh --method=all --epochs=20 --json=target/quickstart.jsonl --out=target/quickstart
 * </pre>
 */
@Command(
        name = "quickstart",
        mixinStandardHelpOptions = true,
        description =
                "Fits a small classifier on generated blobs with the chosen methods and prints"
                        + " one table of accuracy, NLL, ECE, Brier and OOD AUROC.")
public final class QuickStart implements Callable<Integer> {

    @Option(
            names = "--method",
            split = ",",
            defaultValue = "adam",
            paramLabel = "NAME",
            description = "comma-separated menu entries, or 'all' (see --list); default adam")
    private List<String> methods;

    @Option(names = "--epochs", defaultValue = "20", description = "passes over the data")
    private int epochs;

    @Option(names = "--seed", defaultValue = "42", description = "random seed")
    private long seed;

    @Option(names = "--list", description = "lists the methods and the options, then exits")
    private boolean list;

    @Option(
            names = "--json",
            paramLabel = "FILE",
            description = "also write the table as JSON lines")
    private Path json;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            description = "folder for the PNG figures; none are written when absent")
    private Path out;

    private final PrintStream console;

    private QuickStart(PrintStream console) {
        this.console = console;
    }

    /**
     * Returns every method of the menu, in order.
     *
     * @return the methods by name
     */
    public static Map<String, QuickStartMethod> methods() {
        List<QuickStartMethod> all = new ArrayList<>(OptimMethods.all());
        all.addAll(SgmcmcMethods.all());
        all.addAll(LaplaceMethods.all());
        all.addAll(ViMethods.all());
        all.addAll(EkfMethods.all());
        Map<String, QuickStartMethod> byName = new LinkedHashMap<>();
        for (QuickStartMethod m : all) {
            byName.put(m.name(), m);
        }
        return byName;
    }

    /**
     * Runs the quick start; exits with 0 on success, 2 on a usage error.
     *
     * @param args the options (see {@code --help})
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs the quick start without exiting.
     *
     * @param args the options; one argument holding several words is split at white space (as
     *     Maven's exec plugin passes them)
     * @param out where the table goes
     * @param err where usage errors go: one line and the usage
     * @return the exit code
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        List<String> words = new ArrayList<>();
        for (String a : args) {
            for (String w : a.trim().split("\\s+")) {
                if (!w.isEmpty()) {
                    words.add(w);
                }
            }
        }
        CommandLine cli = new CommandLine(new QuickStart(out));
        cli.setOut(new java.io.PrintWriter(out, true));
        cli.setErr(new java.io.PrintWriter(err, true));
        cli.setParameterExceptionHandler(
                (e, a) -> {
                    err.println("quickstart: " + e.getMessage());
                    e.getCommandLine().usage(err);
                    return 2;
                });
        cli.setColorScheme(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
        return cli.execute(words.toArray(new String[0]));
    }

    @Override
    public Integer call() throws IOException {
        Map<String, QuickStartMethod> menu = methods();
        if (list) {
            menu.values().forEach(m -> console.printf("%-24s %s%n", m.name(), m.description()));
            console.println();
            new CommandLine(this)
                    .setColorScheme(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF))
                    .usage(console);
            return 0;
        }
        List<QuickStartMethod> chosen = new ArrayList<>();
        for (String name : methods) {
            String n = name.trim().toLowerCase(Locale.ROOT);
            if (n.equals("all")) {
                chosen.addAll(menu.values());
            } else if (menu.containsKey(n)) {
                chosen.add(menu.get(n));
            } else {
                throw new CommandLine.ParameterException(
                        new CommandLine(this),
                        "unknown method '" + name + "'; choose from " + menu.keySet() + " or all");
            }
        }
        console.printf(
                "posteriors-java quick start: %d method(s), %d epochs of %d batches of %d%n",
                chosen.size(), epochs, Problem.N / Problem.BATCH, Problem.BATCH);
        List<Evaluation> rows = evaluate(chosen, epochs, seed, console);
        console.println();
        console.println(Evaluation.tableHeader());
        rows.forEach(r -> console.println(r.tableLine()));
        if (json != null) {
            writeJson(rows, json);
            console.println("table written to " + json);
        }
        if (out != null) {
            writeFigures(rows, out);
            console.println("figures written to " + out);
        }
        return 0;
    }

    /**
     * Trains the MAP once, fits every chosen method and evaluates each row: the MAP row first.
     *
     * @param chosen the methods
     * @param epochs passes over the data
     * @param seed the random seed
     * @param out where progress is printed
     * @return the evaluations, in order
     */
    public static List<Evaluation> evaluate(
            List<QuickStartMethod> chosen, int epochs, long seed, PrintStream out) {
        List<Evaluation> evaluations = new ArrayList<>();
        try (Problem problem = new Problem(seed)) {
            out.println("MAP by Adam (lr 0.01), the starting point of Laplace and the map row:");
            TensorTree map = OptimMethods.train(problem, epochs, Adam.of(0.01), out);
            List<Row> rows = new ArrayList<>();
            rows.add(new Row("map", "map", 0.0, OptimMethods.pointPredictive(problem, map)));
            for (QuickStartMethod m : chosen) {
                out.printf("%n== %s: %s%n", m.name(), m.description());
                rows.addAll(m.fit(problem, epochs, map, out));
            }
            int[] labels = Problem.labels(problem.test());
            for (Row row : rows) {
                Predictive p = row.model();
                ClassPredictions test = p.classifyAll(Problem.inputs(problem.test()));
                ClassPredictions shifted = p.classifyAll(Problem.inputs(problem.ood()));
                evaluations.add(Evaluation.of(row, test, labels, shifted));
            }
        }
        return evaluations;
    }

    private static void writeJson(List<Evaluation> rows, Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        StringBuilder sb = new StringBuilder();
        rows.forEach(r -> sb.append(r.json()).append('\n'));
        Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
    }

    private static void writeFigures(List<Evaluation> rows, Path dir) throws IOException {
        Files.createDirectories(dir);
        for (Evaluation r : rows) {
            String id = r.method() + "-" + r.predictive();
            Plots.reliabilityDiagram(
                    r.calibration(),
                    dir.resolve("reliability-" + id + ".png"),
                    "Reliability: " + id);
            Map<String, double[]> series = new LinkedHashMap<>();
            series.put("test blobs", r.test().epistemic());
            series.put("shifted clusters", r.shifted().epistemic());
            Plots.histograms(
                    series,
                    30,
                    dir.resolve("epistemic-" + id + ".png"),
                    "Epistemic uncertainty: " + id,
                    "mutual information (nats)");
        }
    }
}
