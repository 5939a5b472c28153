package io.posteriors.examples.text;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Checks shared by the example tests. */
public final class ExampleChecks {

    private ExampleChecks() {}

    /**
     * Reads the JSON an example wrote and checks that at least one PNG was written beside it.
     *
     * @param dir the output folder
     * @param name the example's name
     * @return the JSON
     * @throws IOException when it cannot be read
     */
    public static JsonObject output(Path dir, String name) throws IOException {
        Path json = dir.resolve(name + ".json");
        assertTrue(Files.isRegularFile(json), json + " written");
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(
                    s.anyMatch(p -> p.toString().endsWith(".png") && p.toFile().length() > 1000),
                    "a PNG figure written in " + dir);
        }
        return JsonParser.parseString(Files.readString(json)).getAsJsonObject();
    }

    /**
     * Returns a number of an object, checking that it is finite and in range.
     *
     * @param o the object
     * @param key the key
     * @param lo the smallest allowed value
     * @param hi the largest allowed value
     * @return the value
     */
    public static double inRange(JsonObject o, String key, double lo, double hi) {
        JsonElement e = o.get(key);
        assertTrue(e != null && !e.isJsonNull(), key + " present and not null in " + o);
        double v = e.getAsDouble();
        assertTrue(
                Double.isFinite(v) && v >= lo && v <= hi,
                key + " = " + v + " in [" + lo + ", " + hi + "]");
        return v;
    }
}
