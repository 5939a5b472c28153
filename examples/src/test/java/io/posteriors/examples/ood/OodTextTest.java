package io.posteriors.examples.ood;

import static io.posteriors.examples.text.ExampleChecks.inRange;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.posteriors.examples.text.ExampleChecks;
import io.posteriors.examples.text.ExampleOptions;
import io.posteriors.examples.text.SampleData;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OodTextTest {

    @Test
    void run_sampleData_writesEveryMethodWithNumbersInRange(@TempDir Path out) throws IOException {
        ExampleOptions o = new ExampleOptions(false, 0, out, SampleData.dir());
        OodText.run(o, new PrintStream(OutputStream.nullOutputStream()));
        JsonObject json = ExampleChecks.output(out, "ood-text");
        List<String> names = new ArrayList<>();
        for (JsonElement e : json.getAsJsonArray("methods")) {
            JsonObject m = e.getAsJsonObject();
            names.add(m.get("name").getAsString());
            inRange(m, "accuracy", 0, 1);
            inRange(m, "nll", 0, 50);
            inRange(m, "ece", 0, 1);
            inRange(m, "epistemic_en", 0, Math.log(3) + 1e-9);
            inRange(m, "epistemic_es", 0, Math.log(3) + 1e-9);
            inRange(m, "ood_auroc_maxprob", 0, 1);
            inRange(m, "aurc", 0, 1);
            if (!m.get("name").getAsString().equals("map")) {
                inRange(m, "ood_auroc_epistemic", 0, 1);
            } else {
                assertTrue(m.get("ood_auroc_epistemic").isJsonNull());
            }
        }
        assertEquals(TextMethods.NAMES, names);
    }
}
