package io.posteriors.examples.quickstart;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The quick start: trains or infers a small classifier on generated data with the method chosen by
 * {@code --method}, printing progress and held-out accuracy and NLL.
 *
 * <pre>
 * mvn -q -pl examples -am install -DskipTests &amp;&amp; mvn -q -pl examples exec:exec -Dquickstart.args="--method=adam"
 * </pre>
 *
 * Options: {@code --method=NAME} (see {@code --list}), {@code --epochs=N}, {@code --seed=S}.
 */
public final class QuickStart {

    private QuickStart() {}

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
     * Runs the quick start.
     *
     * @param args {@code --method=NAME}, {@code --epochs=N}, {@code --seed=S}, {@code --list}
     */
    public static void main(String[] args) {
        String method = "adam";
        int epochs = 20;
        long seed = 42;
        PrintStream out = System.out;
        Map<String, QuickStartMethod> methods = methods();
        List<String> words = new ArrayList<>();
        for (String a : args) {
            // exec:exec passes -Dquickstart.args as one argument
            words.addAll(List.of(a.trim().split("\\s+")));
        }
        for (String a : words) {
            if (a.isBlank()) {
                continue;
            } else if (a.startsWith("--method=")) {
                method = a.substring(9).toLowerCase(Locale.ROOT);
            } else if (a.startsWith("--epochs=")) {
                epochs = Integer.parseInt(a.substring(9));
            } else if (a.startsWith("--seed=")) {
                seed = Long.parseLong(a.substring(7));
            } else if (a.equals("--list")) {
                methods.values().forEach(m -> out.printf("%-24s %s%n", m.name(), m.description()));
                return;
            } else {
                throw new IllegalArgumentException("unknown argument " + a + "; try --list");
            }
        }
        QuickStartMethod m = methods.get(method);
        if (m == null) {
            throw new IllegalArgumentException(
                    "unknown method '" + method + "'; choose one of " + methods.keySet());
        }
        out.printf(
                "posteriors-java quick start: %s (%s), %d epochs of %d batches of %d%n",
                m.name(), m.description(), epochs, Problem.N / Problem.BATCH, Problem.BATCH);
        try (Problem problem = new Problem(seed)) {
            m.run(problem, epochs, out);
        }
    }
}
