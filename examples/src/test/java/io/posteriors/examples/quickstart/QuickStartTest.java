package io.posteriors.examples.quickstart;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every entry of the quick start's menu runs and predicts the held-out blobs far better than chance
 * (1/3): a smoke test that keeps the examples working as the library changes.
 */
class QuickStartTest {

    static Stream<String> methods() {
        return QuickStart.methods().keySet().stream();
    }

    @ParameterizedTest
    @MethodSource("methods")
    void method_runs_andBeatsChance(String name) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
                Problem problem = new Problem(42)) {
            QuickStart.methods().get(name).run(problem, 3, out);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("accuracy[^0-9]*([0-9.]+)").matcher(text);
        double last = -1;
        while (m.find()) {
            last = Double.parseDouble(m.group(1));
        }
        // the three blobs overlap: the Bayes classifier is about 0.83 accurate; chance is 1/3
        assertTrue(last > 0.6, name + " printed accuracy " + last + ":\n" + text);
    }
}
