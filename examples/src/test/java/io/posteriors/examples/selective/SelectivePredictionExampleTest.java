package io.posteriors.examples.selective;

import static io.posteriors.examples.text.ExampleChecks.inRange;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.posteriors.examples.ood.TextMethods;
import io.posteriors.examples.text.ExampleChecks;
import io.posteriors.examples.text.ExampleOptions;
import io.posteriors.examples.text.SampleData;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SelectivePredictionExampleTest {

    @Test
    void run_sampleData_writesCurvesWithAurcInRange(@TempDir Path out) throws IOException {
        ExampleOptions o = new ExampleOptions(false, 1, out, SampleData.dir());
        SelectivePredictionExample.run(o, new PrintStream(OutputStream.nullOutputStream()));
        JsonObject json = ExampleChecks.output(out, "selective-prediction");
        for (String setting : new String[] {"in_distribution", "with_foreign"}) {
            int methods = 0;
            for (JsonElement e : json.getAsJsonArray(setting)) {
                JsonObject m = e.getAsJsonObject();
                inRange(m.getAsJsonObject("maxprob"), "aurc", 0, 1);
                inRange(m.getAsJsonObject("neg_total"), "aurc", 0, 1);
                for (JsonElement a :
                        m.getAsJsonObject("maxprob").getAsJsonArray("accuracy_at_coverage")) {
                    double v = a.getAsDouble();
                    assertEquals(true, v >= 0 && v <= 1, "accuracy " + v);
                }
                methods++;
            }
            assertEquals(TextMethods.NAMES.size(), methods);
        }
    }
}
