package io.posteriors.examples.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every entry of the quick start's menu runs, predicts the held-out blobs far better than chance
 * (1/3), and, when it is Bayesian, is more uncertain about the parameters on the shifted clusters
 * than on the test blobs: a smoke test that keeps the examples working as the library changes.
 */
class QuickStartTest {

    static Stream<String> methods() {
        return QuickStart.methods().keySet().stream();
    }

    @ParameterizedTest
    @MethodSource("methods")
    void method_runs_beatsChance_andIsMoreUncertainOffTheData(String name) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        List<Evaluation> rows;
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            rows = QuickStart.evaluate(List.of(QuickStart.methods().get(name)), 3, 42, out);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertEquals("map", rows.get(0).method());
        assertTrue(rows.size() >= 2, text);
        for (Evaluation r : rows) {
            String id = r.method() + "/" + r.predictive();
            // the three blobs overlap: the Bayes classifier is about 0.83 accurate; chance is 1/3
            assertTrue(r.accuracy() > 0.6, id + " accuracy " + r.accuracy() + ":\n" + text);
            assertTrue(Double.isFinite(r.nll()) && r.nll() > 0, id + " nll " + r.nll());
            assertTrue(r.ece() >= 0 && r.ece() <= 1, id + " ece " + r.ece());
            assertTrue(r.brier() >= 0 && r.brier() <= 2, id + " brier " + r.brier());
            if (!r.predictive().equals("map")) {
                assertTrue(
                        r.epistemicOut() > r.epistemicIn(),
                        id
                                + " epistemic uncertainty on shifted inputs "
                                + r.epistemicOut()
                                + " is not above the test inputs' "
                                + r.epistemicIn());
            }
        }
    }

    @Test
    void cli_unknownFlag_printsOneLineAndTheUsage_andExitsWith2() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code =
                QuickStart.run(
                        new String[] {"--methd=adam"},
                        new PrintStream(out, true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8));
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, code);
        assertTrue(e.startsWith("quickstart: Unknown option: '--methd=adam'"), e);
        assertTrue(e.contains("Usage: quickstart"), e);
        assertTrue(e.contains("--epochs"), e);
        assertTrue(!e.contains("\u001b["), "no ANSI codes");
    }

    @Test
    void cli_unknownMethod_namesTheMenu() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code =
                QuickStart.run(
                        new String[] {"--method=adam,nope"},
                        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8));
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, code);
        assertTrue(e.startsWith("quickstart: unknown method 'nope'; choose from [sgd"), e);
    }

    @Test
    void cli_list_showsMethodsAndOptions() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code =
                QuickStart.run(
                        new String[] {"--list"},
                        new PrintStream(out, true, StandardCharsets.UTF_8),
                        System.err);
        String o = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code);
        assertTrue(o.contains("laplace-diag-ggn"), o);
        assertTrue(o.contains("--epochs") && o.contains("--seed") && o.contains("--json"), o);
    }

    @Test
    void cli_json_writesOneObjectPerRowWithTheDocumentedKeys(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("table.jsonl");
        int code =
                QuickStart.run(
                        new String[] {
                            "--method=sgd,laplace-diag-ggn",
                            "--epochs=2",
                            "--json=" + json,
                            "--out=" + dir.resolve("png")
                        },
                        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                        System.err);
        assertEquals(0, code);
        List<String> lines = Files.readAllLines(json);
        // map, sgd, and laplace with mc, linearised and linearised-mc
        assertEquals(5, lines.size(), String.join("\n", lines));
        assertTrue(
                lines.get(0).startsWith("{\"method\":\"map\",\"predictive\":\"map\""),
                lines.get(0));
        for (String l : lines) {
            for (String key :
                    List.of(
                            "method",
                            "predictive",
                            "temperature",
                            "accuracy",
                            "nll",
                            "ece",
                            "brier",
                            "ood_auroc_epistemic",
                            "ood_auroc_maxprob")) {
                assertTrue(l.contains("\"" + key + "\":"), key + " missing in " + l);
            }
        }
        assertTrue(Files.size(dir.resolve("png/reliability-map-map.png")) > 1000);
        assertTrue(Files.size(dir.resolve("png/epistemic-laplace-diag-ggn-linearised.png")) > 1000);
    }
}
