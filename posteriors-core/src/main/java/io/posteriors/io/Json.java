package io.posteriors.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict, bounded JSON reader and a writer for the headers of posterior files.
 *
 * <p>The reader accepts RFC 8259 JSON with two restrictions that suit a header: numbers must be
 * integers that fit a {@code long} (safetensors shapes and offsets are), and objects must not
 * repeat a key (a repeated key is a classic way to make two readers see different files). Nesting
 * is limited to {@link #MAX_DEPTH}. Objects become {@link LinkedHashMap}s (file order), arrays
 * {@link ArrayList}s, strings {@link String}s, numbers {@link Long}s, booleans {@link Boolean}s and
 * {@code null} the {@link #NULL} marker.
 */
final class Json {

    /** The deepest nesting of objects and arrays the reader accepts. */
    static final int MAX_DEPTH = 64;

    /** The value of a JSON {@code null}. */
    static final Object NULL =
            new Object() {
                @Override
                public String toString() {
                    return "null";
                }
            };

    /** A syntax error, with the character offset where it was found. */
    static final class SyntaxException extends Exception {
        private static final long serialVersionUID = 1L;

        SyntaxException(String message, int at) {
            super(message + " at character " + at);
        }
    }

    private final String s;
    private int i;

    private Json(String s) {
        this.s = s;
    }

    /**
     * Parses one JSON value that spans the whole text (surrounding white space allowed).
     *
     * @param text the text
     * @return the value
     * @throws SyntaxException when the text is not strict JSON within the limits
     */
    static Object parse(String text) throws SyntaxException {
        Json p = new Json(text);
        p.skipWhitespace();
        Object v = p.value(0);
        p.skipWhitespace();
        if (p.i != text.length()) {
            throw new SyntaxException("unexpected text after the JSON value", p.i);
        }
        return v;
    }

    private Object value(int depth) throws SyntaxException {
        if (depth > MAX_DEPTH) {
            throw new SyntaxException("nesting deeper than " + MAX_DEPTH, i);
        }
        if (i >= s.length()) {
            throw new SyntaxException("unexpected end of JSON", i);
        }
        char c = s.charAt(i);
        switch (c) {
            case '{':
                return object(depth);
            case '[':
                return array(depth);
            case '"':
                return string();
            case 't':
                literal("true");
                return Boolean.TRUE;
            case 'f':
                literal("false");
                return Boolean.FALSE;
            case 'n':
                literal("null");
                return NULL;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw new SyntaxException("unexpected character " + describe(c), i);
        }
    }

    private Map<String, Object> object(int depth) throws SyntaxException {
        Map<String, Object> m = new LinkedHashMap<>();
        i++;
        skipWhitespace();
        if (peek() == '}') {
            i++;
            return m;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw new SyntaxException("expected a string key", i);
            }
            int at = i;
            String key = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            Object v = value(depth + 1);
            if (m.put(key, v) != null) {
                throw new SyntaxException("duplicate key \"" + printable(key) + "\"", at);
            }
            skipWhitespace();
            char c = peek();
            i++;
            if (c == '}') {
                return m;
            }
            if (c != ',') {
                throw new SyntaxException("expected ',' or '}'", i - 1);
            }
        }
    }

    private List<Object> array(int depth) throws SyntaxException {
        List<Object> a = new ArrayList<>();
        i++;
        skipWhitespace();
        if (peek() == ']') {
            i++;
            return a;
        }
        while (true) {
            skipWhitespace();
            a.add(value(depth + 1));
            skipWhitespace();
            char c = peek();
            i++;
            if (c == ']') {
                return a;
            }
            if (c != ',') {
                throw new SyntaxException("expected ',' or ']'", i - 1);
            }
        }
    }

    private String string() throws SyntaxException {
        i++;
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (i >= s.length()) {
                throw new SyntaxException("unterminated string", i);
            }
            char c = s.charAt(i++);
            if (c == '"') {
                return sb.toString();
            }
            if (c < 0x20) {
                throw new SyntaxException("control character " + describe(c) + " in string", i - 1);
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (i >= s.length()) {
                throw new SyntaxException("unterminated escape", i);
            }
            char e = s.charAt(i++);
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    if (i + 4 > s.length()) {
                        throw new SyntaxException("truncated \\u escape", i);
                    }
                    int v = 0;
                    for (int k = 0; k < 4; k++) {
                        int d = Character.digit(s.charAt(i + k), 16);
                        if (d < 0) {
                            throw new SyntaxException("bad \\u escape", i);
                        }
                        v = v * 16 + d;
                    }
                    i += 4;
                    sb.append((char) v);
                }
                default -> throw new SyntaxException("bad escape \\" + describe(e), i - 1);
            }
        }
    }

    private Long number() throws SyntaxException {
        int start = i;
        if (peek() == '-') {
            i++;
        }
        int digits = i;
        while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
            i++;
        }
        if (i == digits) {
            throw new SyntaxException("expected a digit", i);
        }
        if (s.charAt(digits) == '0' && i - digits > 1) {
            throw new SyntaxException("number with a leading zero", start);
        }
        if (i < s.length() && (s.charAt(i) == '.' || s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            throw new SyntaxException("only integers are allowed in a header", start);
        }
        try {
            return Long.parseLong(s.substring(start, i));
        } catch (NumberFormatException ex) {
            throw new SyntaxException("integer does not fit 64 bits", start);
        }
    }

    private void literal(String word) throws SyntaxException {
        if (!s.startsWith(word, i)) {
            throw new SyntaxException("unexpected literal", i);
        }
        i += word.length();
    }

    private void expect(char c) throws SyntaxException {
        if (peek() != c) {
            throw new SyntaxException("expected '" + c + "'", i);
        }
        i++;
    }

    private char peek() throws SyntaxException {
        if (i >= s.length()) {
            throw new SyntaxException("unexpected end of JSON", i);
        }
        return s.charAt(i);
    }

    private void skipWhitespace() {
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            i++;
        }
    }

    private static String describe(char c) {
        return c >= 0x20 && c < 0x7f
                ? "'" + c + "'"
                : String.format(java.util.Locale.ROOT, "U+%04X", (int) c);
    }

    /**
     * Returns {@code text} with control and non-ASCII characters escaped, safe to put in an error
     * message, and cut to 120 characters.
     *
     * @param text any text
     * @return the printable form
     */
    static String printable(String text) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < text.length() && sb.length() < 120; k++) {
            char c = text.charAt(k);
            if (c >= 0x20 && c < 0x7f) {
                sb.append(c);
            } else {
                sb.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
            }
        }
        if (sb.length() >= 120) {
            sb.append("...");
        }
        return sb.toString();
    }

    /**
     * Writes a value made of maps with string keys, lists, strings, numbers, booleans and {@link
     * #NULL}, compactly (no white space) and in iteration order.
     *
     * @param value the value
     * @return the JSON text
     */
    static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(value, sb);
        return sb.toString();
    }

    private static void write(Object v, StringBuilder sb) {
        if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                writeString((String) e.getKey(), sb);
                sb.append(':');
                write(e.getValue(), sb);
            }
            sb.append('}');
        } else if (v instanceof List<?> l) {
            sb.append('[');
            for (int k = 0; k < l.size(); k++) {
                if (k > 0) {
                    sb.append(',');
                }
                write(l.get(k), sb);
            }
            sb.append(']');
        } else if (v instanceof String str) {
            writeString(str, sb);
        } else if (v instanceof Long || v instanceof Integer) {
            sb.append(v);
        } else if (v instanceof Boolean) {
            sb.append(v);
        } else if (v == NULL || v == null) {
            sb.append("null");
        } else {
            throw new IllegalArgumentException("cannot write " + v.getClass() + " as JSON");
        }
    }

    private static void writeString(String str, StringBuilder sb) {
        sb.append('"');
        for (int k = 0; k < str.length(); k++) {
            char c = str.charAt(k);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        sb.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
