package io.posteriors.examples.text;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Loads books in the PG-19 layout (one plain UTF-8 text file per book, {@code <id>.txt}), as a
 * series of "books" for the continual-learning example in place of the Brown genres.
 */
public final class Pg19Books {

    /**
     * One book.
     *
     * @param id the file name without {@code .txt}
     * @param words the words, lower-cased
     */
    public record Book(String id, List<String> words) {}

    private Pg19Books() {}

    /**
     * Loads every {@code .txt} file of a folder, sorted by name.
     *
     * @param dir the folder
     * @return the books
     * @throws IOException when the folder cannot be read or holds no {@code .txt} file
     */
    public static List<Book> load(Path dir) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".txt")).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new IOException("no .txt books in " + dir);
        }
        List<Book> out = new ArrayList<>();
        for (Path f : files) {
            String name = f.getFileName().toString();
            out.add(
                    new Book(
                            name.substring(0, name.length() - 4),
                            Tokens.words(Files.readString(f, StandardCharsets.UTF_8))));
        }
        return out;
    }
}
