package io.posteriors.examples.continual;

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
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContinualLearningTest {

    @Test
    void run_sampleData_writesLossesOfEveryBookAfterEveryEpoch(@TempDir Path out)
            throws IOException {
        ExampleOptions o = new ExampleOptions(false, 0, out, SampleData.dir());
        ContinualLearning.run(o, new PrintStream(OutputStream.nullOutputStream()));
        JsonObject json = ExampleChecks.output(out, "continual-learning");
        // losses per word over a 401-class softmax: between 0 and a generous multiple of log 401
        inRange(json, "joint_floor", 0, 20);
        inRange(json, "adamw_old_avg_final", 0, 20);
        inRange(json, "laplace_old_avg_final", 0, 20);
        // only the LoRA adapters are trained: rank r over both layers, far fewer than the base
        JsonObject adapters = json.getAsJsonObject("adapters");
        int rank = adapters.get("rank").getAsInt();
        assertTrue(rank >= 1, "rank " + rank);
        inRange(adapters, "alpha", Double.MIN_VALUE, 1e3);
        double trainable = inRange(adapters, "trainable_params", 1, 1e9);
        double base = inRange(adapters, "base_params", 1, 1e9);
        assertTrue(trainable < base / 4, trainable + " adapter parameters against " + base);
        inRange(json, "fisher_seconds", 0, 600);
        int books = json.getAsJsonArray("books").size();
        // every book but the last hands its Laplace posterior to the next through a file
        assertEquals(books - 1, json.getAsJsonArray("posterior_files").size());
        for (JsonElement f : json.getAsJsonArray("posterior_files")) {
            assertTrue(Files.isRegularFile(out.resolve(f.getAsString())), f + " written");
        }
        assertEquals(ContinualLearning.BOOKS.length(), books);
        for (String run : new String[] {"adamw_val_loss", "laplace_val_loss"}) {
            assertEquals(
                    books * json.get("epochs_per_book").getAsInt(),
                    json.getAsJsonArray(run).size());
            for (JsonElement row : json.getAsJsonArray(run)) {
                assertEquals(books, row.getAsJsonArray().size());
                row.getAsJsonArray().forEach(v -> assertTrue(Double.isFinite(v.getAsDouble())));
            }
        }
    }
}
