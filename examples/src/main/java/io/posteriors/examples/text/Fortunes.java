package io.posteriors.examples.text;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Loads fortune files in the strfile text format of Debian's {@code fortunes} and {@code
 * fortunes-es}: entries separated by lines holding a single {@code %}. Attribution lines (those
 * that start, after white space, with {@code --}) are dropped, so only the saying itself is kept.
 */
public final class Fortunes {

    private Fortunes() {}

    /**
     * Parses the entries of one file's text.
     *
     * @param text the file's text
     * @return the entries, trimmed, without attributions; empty entries dropped
     */
    public static List<String> parse(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder entry = new StringBuilder();
        for (String line : text.split("\r?\n", -1)) {
            if (line.equals("%")) {
                flush(out, entry);
            } else if (!line.strip().startsWith("--")) {
                entry.append(line).append('\n');
            }
        }
        flush(out, entry);
        return out;
    }

    private static void flush(List<String> out, StringBuilder entry) {
        String s = entry.toString().strip();
        if (!s.isEmpty()) {
            out.add(s);
        }
        entry.setLength(0);
    }

    /**
     * Loads every fortune file of a folder: the UTF-8 {@code *.u8} files when there are any (as in
     * fortunes-es), else every file without an extension (as in fortunes); sorted by name.
     *
     * @param dir the folder
     * @return the entries of all files, in file order
     * @throws IOException when the folder cannot be read or holds no fortune file
     */
    public static List<String> load(Path dir) throws IOException {
        List<Path> all;
        try (Stream<Path> s = Files.list(dir)) {
            all = s.filter(Files::isRegularFile).sorted().toList();
        }
        List<Path> files = all.stream().filter(p -> p.toString().endsWith(".u8")).toList();
        if (files.isEmpty()) {
            files =
                    all.stream()
                            .filter(p -> !p.getFileName().toString().contains("."))
                            .filter(p -> !p.getFileName().toString().equals("copyright"))
                            .toList();
        }
        if (files.isEmpty()) {
            throw new IOException("no fortune files in " + dir);
        }
        List<String> out = new ArrayList<>();
        for (Path f : files) {
            out.addAll(parse(new String(Files.readAllBytes(f), StandardCharsets.UTF_8)));
        }
        return out;
    }
}
