package io.posteriors.examples.selective;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.posteriors.examples.ood.TextMethods;
import io.posteriors.examples.text.ExampleOptions;
import io.posteriors.examples.text.JsonOut;
import io.posteriors.predictive.ClassPredictions;
import io.posteriors.predictive.Plots;
import io.posteriors.predictive.RiskCoverage;
import io.posteriors.predictive.SelectivePrediction;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Answering only when sure: the genre classifier of the OOD example answers the passages it is most
 * confident about and abstains on the rest. For each method, accuracy–coverage curves and AURC for
 * three confidence scores: max probability (for {@code map} this is raw softmax confidence),
 * negative total uncertainty, and negative epistemic uncertainty. Two settings: the English test
 * set alone, and the English test set with the Spanish passages mixed in (a question it cannot
 * answer: any answer counts as wrong).
 *
 * <pre>
 * ./example.sh selective-prediction --size=small --seed=0 --out=out
 * </pre>
 */
public final class SelectivePredictionExample {

    /** Coverages at which accuracy is reported. */
    private static final double[] COVERAGES = {0.1, 0.25, 0.5, 0.75, 1.0};

    private SelectivePredictionExample() {}

    /**
     * Runs the example.
     *
     * @param args {@code --size=small|full --seed=N --out=DIR --data=DIR}
     * @throws IOException when the data cannot be read or the results cannot be written
     */
    public static void main(String[] args) throws IOException {
        run(ExampleOptions.parse(args, "selective-prediction"), System.out);
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
        json.addProperty("example", "selective-prediction");
        json.addProperty("size", o.size());
        json.addProperty("seed", o.seed());
        JsonArray coverages = JsonOut.array(COVERAGES);
        json.add("coverages", coverages);
        for (boolean foreign : new boolean[] {false, true}) {
            String setting = foreign ? "with_foreign" : "in_distribution";
            JsonArray methods = new JsonArray();
            Map<String, double[][]> maxprobCurves = new LinkedHashMap<>();
            Map<String, double[][]> epistemicCurves = new LinkedHashMap<>();
            out.printf(
                    "%n%s: %-18s %-10s %7s  accuracy at coverage %s%n",
                    setting, "method", "score", "aurc", java.util.Arrays.toString(COVERAGES));
            for (TextMethods.Predictions p : preds.values()) {
                ClassPredictions c = foreign ? concat(p.english(), p.spanish()) : p.english();
                boolean[] correct = correct(p.english(), labels, foreign ? p.spanish().size() : 0);
                JsonObject m = new JsonObject();
                m.addProperty("name", p.name());
                Map<String, double[]> scores = new LinkedHashMap<>();
                scores.put("maxprob", c.maxProbability());
                scores.put("neg_total", ClassPredictions.negate(c.total()));
                if (!p.name().equals("map")) {
                    scores.put("neg_epistemic", ClassPredictions.negate(c.epistemic()));
                }
                for (Map.Entry<String, double[]> s : scores.entrySet()) {
                    RiskCoverage rc = SelectivePrediction.curve(s.getValue(), correct);
                    JsonObject r = new JsonObject();
                    r.add("aurc", JsonOut.num(rc.aurc()));
                    double[] acc = new double[COVERAGES.length];
                    for (int i = 0; i < acc.length; i++) {
                        acc[i] = rc.accuracyAtCoverage(COVERAGES[i]);
                    }
                    r.add("accuracy_at_coverage", JsonOut.array(acc));
                    m.add(s.getKey(), r);
                    out.printf(
                            Locale.ROOT,
                            "%s: %-18s %-13s %7.4f  %s%n",
                            setting,
                            p.name(),
                            s.getKey(),
                            rc.aurc(),
                            fmt(acc));
                    double[][] xy = {rc.coverage(), rc.accuracy()};
                    if (s.getKey().equals("maxprob")) {
                        maxprobCurves.put(
                                p.name() + (p.name().equals("map") ? " (softmax)" : ""), xy);
                    } else if (s.getKey().equals("neg_epistemic")) {
                        epistemicCurves.put(p.name() + " (epistemic)", xy);
                    }
                }
                methods.add(m);
            }
            json.add(setting, methods);
            Map<String, double[][]> all = new LinkedHashMap<>(maxprobCurves);
            all.putAll(epistemicCurves);
            Plots.curves(
                    all,
                    o.out().resolve("selective-prediction-" + setting.replace('_', '-') + ".png"),
                    "accuracy vs coverage, "
                            + (foreign ? "English test + Spanish (always wrong)" : "English test"),
                    "coverage (fraction answered)",
                    "accuracy on answered");
        }
        json.addProperty("seconds", (System.nanoTime() - start) / 1e9);
        JsonOut.write(json, o.out().resolve("selective-prediction.json"));
        out.printf(
                "wrote %s in %.1f s%n",
                o.out().resolve("selective-prediction.json"), (System.nanoTime() - start) / 1e9);
        return json;
    }

    private static String fmt(double[] v) {
        StringBuilder b = new StringBuilder();
        for (double x : v) {
            b.append(String.format(Locale.ROOT, " %.3f", x));
        }
        return b.toString();
    }

    private static boolean[] correct(ClassPredictions en, int[] labels, int wrongAfter) {
        boolean[] c = en.correct(labels);
        boolean[] out = new boolean[c.length + wrongAfter];
        System.arraycopy(c, 0, out, 0, c.length);
        return out;
    }

    private static ClassPredictions concat(ClassPredictions a, ClassPredictions b) {
        return new ClassPredictions(
                cat(a.probs(), b.probs()),
                cat(a.total(), b.total()),
                cat(a.aleatoric(), b.aleatoric()),
                cat(a.epistemic(), b.epistemic()));
    }

    private static double[] cat(double[] a, double[] b) {
        double[] o = new double[a.length + b.length];
        System.arraycopy(a, 0, o, 0, a.length);
        System.arraycopy(b, 0, o, a.length, b.length);
        return o;
    }

    private static double[][] cat(double[][] a, double[][] b) {
        double[][] o = new double[a.length + b.length][];
        System.arraycopy(a, 0, o, 0, a.length);
        System.arraycopy(b, 0, o, a.length, b.length);
        return o;
    }
}
