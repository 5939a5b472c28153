package io.posteriors.examples.ood;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.posteriors.examples.text.ExampleOptions;
import io.posteriors.examples.text.JsonOut;
import io.posteriors.predictive.Binning;
import io.posteriors.predictive.ClassPredictions;
import io.posteriors.predictive.ClassificationMetrics;
import io.posteriors.predictive.OodDetection;
import io.posteriors.predictive.Plots;
import io.posteriors.predictive.SelectivePrediction;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

/**
 * Knowing when a passage is foreign: a genre classifier trained on English (Brown corpus), and for
 * each method its test accuracy, NLL, ECE, total / aleatoric / epistemic uncertainty on English
 * test passages and on Spanish sayings (fortunes-es), and how well epistemic uncertainty and max
 * probability tell the two apart (AUROC, Spanish = positive).
 *
 * <pre>
 * ./example.sh ood-text --size=small --seed=0 --out=out
 * </pre>
 *
 * Writes {@code ood-text.json} (one object per method under {@code methods}), {@code
 * ood-text-uncertainty.png} (mean uncertainties, English against Spanish, per method), {@code
 * ood-text-epistemic-<method>.png} (histograms) and {@code ood-text-reliability-<method>.png}.
 */
public final class OodText {

    /** Calibration bins. */
    public static final int BINS = 10;

    private OodText() {}

    /**
     * Runs the example.
     *
     * @param args {@code --size=small|full --seed=N --out=DIR --data=DIR}
     * @throws IOException when the data cannot be read or the results cannot be written
     */
    public static void main(String[] args) throws IOException {
        run(ExampleOptions.parse(args, "ood-text"), System.out);
    }

    /**
     * Runs the example with parsed options.
     *
     * @param o the options
     * @param out where to print
     * @return the JSON written
     * @throws IOException when the data cannot be read or the results cannot be written
     */
    public static JsonObject run(ExampleOptions o, PrintStream out) throws IOException {
        long start = System.nanoTime();
        Files.createDirectories(o.out());
        TextMethods.TaskResults results = TextMethods.runTask(o, out);
        Map<String, TextMethods.Predictions> preds = results.predictions();
        int[] labels = results.labels();
        JsonObject json = new JsonObject();
        json.addProperty("example", "ood-text");
        json.addProperty("size", o.size());
        json.addProperty("seed", o.seed());
        JsonArray methods = new JsonArray();
        out.printf(
                "%n%-18s %8s %8s %7s %9s %9s %9s %9s %7s%n",
                "method",
                "accuracy",
                "nll",
                "ece",
                "epi-en",
                "epi-es",
                "auroc-epi",
                "auroc-max",
                "aurc");
        for (TextMethods.Predictions p : preds.values()) {
            JsonObject m = evaluate(p, labels);
            methods.add(m);
            out.printf(
                    Locale.ROOT,
                    "%-18s %8.3f %8.4f %7.4f %9.4f %9.4f %9.3f %9.3f %7.4f%n",
                    p.name(),
                    m.get("accuracy").getAsDouble(),
                    m.get("nll").getAsDouble(),
                    m.get("ece").getAsDouble(),
                    m.get("epistemic_en").getAsDouble(),
                    m.get("epistemic_es").getAsDouble(),
                    num(m, "ood_auroc_epistemic"),
                    m.get("ood_auroc_maxprob").getAsDouble(),
                    m.get("aurc").getAsDouble());
            Plots.reliabilityDiagram(
                    ClassificationMetrics.calibration(
                            p.english().probs(), labels, BINS, Binning.EQUAL_WIDTH),
                    o.out().resolve("ood-text-reliability-" + p.name() + ".png"),
                    "reliability, " + p.name() + " (English test)");
            if (!p.name().equals("map")) {
                Plots.histograms(
                        histogramSeries(p.english().epistemic(), p.spanish().epistemic()),
                        30,
                        o.out().resolve("ood-text-epistemic-" + p.name() + ".png"),
                        "epistemic uncertainty, " + p.name(),
                        "mutual information (nats)");
            }
        }
        json.add("methods", methods);
        uncertaintyBars(preds, o.out().resolve("ood-text-uncertainty.png"));
        json.addProperty("seconds", (System.nanoTime() - start) / 1e9);
        JsonOut.write(json, o.out().resolve("ood-text.json"));
        out.printf(
                "wrote %s and figures in %.1f s%n",
                o.out().resolve("ood-text.json"), (System.nanoTime() - start) / 1e9);
        return json;
    }

    private static double num(JsonObject m, String k) {
        return m.get(k).isJsonNull() ? Double.NaN : m.get(k).getAsDouble();
    }

    private static Map<String, double[]> histogramSeries(double[] en, double[] es) {
        Map<String, double[]> s = new LinkedHashMap<>();
        s.put("English test", en);
        s.put("Spanish", es);
        return s;
    }

    /**
     * Computes the figures of one method.
     *
     * @param p its predictions
     * @param labels the English test labels
     * @return the JSON object, keys as the issue fixes them
     */
    public static JsonObject evaluate(TextMethods.Predictions p, int[] labels) {
        ClassPredictions en = p.english();
        ClassPredictions es = p.spanish();
        JsonObject m = new JsonObject();
        m.addProperty("name", p.name());
        m.add("accuracy", JsonOut.num(ClassificationMetrics.accuracy(en.probs(), labels)));
        m.add("nll", JsonOut.num(ClassificationMetrics.nll(en.probs(), labels)));
        m.add("ece", JsonOut.num(ClassificationMetrics.ece(en.probs(), labels, BINS)));
        m.add("brier", JsonOut.num(ClassificationMetrics.brier(en.probs(), labels)));
        m.add("total_en", JsonOut.num(mean(en.total())));
        m.add("total_es", JsonOut.num(mean(es.total())));
        m.add("aleatoric_en", JsonOut.num(mean(en.aleatoric())));
        m.add("aleatoric_es", JsonOut.num(mean(es.aleatoric())));
        m.add("epistemic_en", JsonOut.num(mean(en.epistemic())));
        m.add("epistemic_es", JsonOut.num(mean(es.epistemic())));
        // a point estimate has no epistemic uncertainty: its AUROC is undefined (null), not 0.5
        double epi =
                p.name().equals("map")
                        ? Double.NaN
                        : OodDetection.auroc(en.epistemic(), es.epistemic());
        m.add("ood_auroc_epistemic", JsonOut.num(epi));
        m.add(
                "ood_auroc_maxprob",
                JsonOut.num(
                        OodDetection.auroc(
                                ClassPredictions.negate(en.maxProbability()),
                                ClassPredictions.negate(es.maxProbability()))));
        m.add("ood_auroc_total", JsonOut.num(OodDetection.auroc(en.total(), es.total())));
        m.add(
                "aurc",
                JsonOut.num(
                        SelectivePrediction.curve(en.maxProbability(), en.correct(labels)).aurc()));
        m.add("fit_seconds", JsonOut.num(p.seconds()));
        return m;
    }

    private static double mean(double[] x) {
        return Arrays.stream(x).average().orElse(Double.NaN);
    }

    /** Mean total, aleatoric and epistemic uncertainty per method, English beside Spanish. */
    private static void uncertaintyBars(Map<String, TextMethods.Predictions> preds, Path png)
            throws IOException {
        List<String> names = List.copyOf(preds.keySet());
        for (String kind : List.of("total", "aleatoric", "epistemic")) {
            CategoryChart c =
                    new CategoryChartBuilder()
                            .width(900)
                            .height(450)
                            .title(kind + " uncertainty: English test vs Spanish")
                            .xAxisTitle("method")
                            .yAxisTitle("mean " + kind + " (nats)")
                            .build();
            c.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
            c.addSeries("English test", names, values(preds, kind, true));
            c.addSeries("Spanish", names, values(preds, kind, false));
            String file =
                    png.toString().replace(".png", kind.equals("epistemic") ? "" : "-" + kind);
            BitmapEncoder.saveBitmap(c, file, BitmapEncoder.BitmapFormat.PNG);
        }
    }

    private static List<Double> values(
            Map<String, TextMethods.Predictions> preds, String kind, boolean english) {
        return preds.values().stream()
                .map(p -> english ? p.english() : p.spanish())
                .map(
                        c ->
                                mean(
                                        switch (kind) {
                                            case "total" -> c.total();
                                            case "aleatoric" -> c.aleatoric();
                                            default -> c.epistemic();
                                        }))
                .toList();
    }
}
