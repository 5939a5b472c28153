package io.posteriors.examples.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Splits text into lower-case words: runs of letters (any script), apostrophes kept inside. */
public final class Tokens {

    private Tokens() {}

    /**
     * Returns the words of a text, lower-cased.
     *
     * @param text the text
     * @return the words, in order
     */
    public static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isLetter(c) || (c == '\'' && w.length() > 0)) {
                w.append(c);
            } else if (w.length() > 0) {
                add(out, w);
            }
        }
        if (w.length() > 0) {
            add(out, w);
        }
        return out;
    }

    private static void add(List<String> out, StringBuilder w) {
        int end = w.length();
        while (end > 0 && w.charAt(end - 1) == '\'') {
            end--;
        }
        if (end > 0) {
            out.add(w.substring(0, end).toLowerCase(Locale.ROOT));
        }
        w.setLength(0);
    }
}
