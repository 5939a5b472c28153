package io.posteriors.examples.text;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Small helpers to write the examples' JSON files (JSON has no NaN: undefined is null). */
public final class JsonOut {

    private JsonOut() {}

    /**
     * Returns a number, or JSON null when it is not finite.
     *
     * @param v the value
     * @return the element
     */
    public static JsonElement num(double v) {
        return Double.isFinite(v) ? new JsonPrimitive(v) : JsonNull.INSTANCE;
    }

    /**
     * Returns an array of numbers.
     *
     * @param v the values
     * @return the array
     */
    public static JsonArray array(double[] v) {
        JsonArray a = new JsonArray();
        for (double x : v) {
            a.add(num(x));
        }
        return a;
    }

    /**
     * Returns a matrix as an array of arrays.
     *
     * @param m the rows
     * @return the array
     */
    public static JsonArray matrix(double[][] m) {
        JsonArray a = new JsonArray();
        for (double[] row : m) {
            a.add(array(row));
        }
        return a;
    }

    /**
     * Writes an object, pretty-printed, creating the folder.
     *
     * @param o the object
     * @param file the file
     * @throws IOException when it cannot be written
     */
    public static void write(JsonObject o, Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(
                file,
                new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(o) + "\n",
                StandardCharsets.UTF_8);
    }
}
