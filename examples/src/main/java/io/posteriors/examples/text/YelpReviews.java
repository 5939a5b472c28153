package io.posteriors.examples.text;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads reviews in the JSON-lines format of the Yelp open dataset ({@code
 * yelp_academic_dataset_review.json}, or the Hugging Face {@code yelp_review_full} export): one
 * object per line with a {@code text} and a star rating ({@code stars}, 1–5, or {@code label},
 * 0–4). A user with the real data can train the OOD example's classifier on it.
 */
public final class YelpReviews {

    /**
     * One review.
     *
     * @param text the review text
     * @param stars the rating, 1 to 5
     */
    public record Review(String text, int stars) {}

    private YelpReviews() {}

    /**
     * Parses one JSON line.
     *
     * @param line the line
     * @return the review
     * @throws IllegalArgumentException when the line has no text or no rating in range
     */
    public static Review parse(String line) {
        JsonObject o = JsonParser.parseString(line).getAsJsonObject();
        if (!o.has("text")) {
            throw new IllegalArgumentException("review line has no \"text\": " + abbreviate(line));
        }
        int stars;
        if (o.has("stars")) {
            stars = (int) Math.round(o.get("stars").getAsDouble());
        } else if (o.has("label")) {
            stars = o.get("label").getAsInt() + 1;
        } else {
            throw new IllegalArgumentException(
                    "review line has neither \"stars\" nor \"label\": " + abbreviate(line));
        }
        if (stars < 1 || stars > 5) {
            throw new IllegalArgumentException("stars must be in [1, 5], got " + stars);
        }
        return new Review(o.get("text").getAsString(), stars);
    }

    /**
     * Loads up to {@code limit} reviews from a JSON-lines file, skipping blank lines.
     *
     * @param file the file
     * @param limit the most reviews to read
     * @return the reviews
     * @throws IOException when the file cannot be read
     */
    public static List<Review> load(Path file, int limit) throws IOException {
        List<Review> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while (out.size() < limit && (line = r.readLine()) != null) {
                if (!line.isBlank()) {
                    out.add(parse(line));
                }
            }
        }
        return out;
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
