package io.posteriors.examples.text;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The options every worked example takes: {@code --size=small|full}, {@code --seed=N}, {@code
 * --out=DIR} and {@code --data=DIR} (the folder {@code examples/data/fetch.sh} filled; default
 * {@code $POSTERIORS_DATA}, else {@code ~/.cache/posteriors-examples}).
 *
 * @param full whether the full size was asked for
 * @param seed the random seed
 * @param out the output folder
 * @param data the data folder
 */
public record ExampleOptions(boolean full, long seed, Path out, Path data) {

    /**
     * Parses the command line.
     *
     * @param args the arguments
     * @param name the example's name (the default output folder is {@code out/NAME})
     * @return the options
     * @throws IllegalArgumentException when an argument is unknown or malformed
     */
    public static ExampleOptions parse(String[] args, String name) {
        boolean full = false;
        long seed = 0;
        Path out = Path.of("out", name);
        String env = System.getenv("POSTERIORS_DATA");
        Path data =
                env != null && !env.isBlank()
                        ? Path.of(env)
                        : Path.of(System.getProperty("user.home"), ".cache", "posteriors-examples");
        for (String a : args) {
            if (a.startsWith("--size=")) {
                String v = a.substring(7).toLowerCase(Locale.ROOT);
                if (!v.equals("small") && !v.equals("full")) {
                    throw new IllegalArgumentException("--size must be small or full, got " + v);
                }
                full = v.equals("full");
            } else if (a.startsWith("--seed=")) {
                seed = Long.parseLong(a.substring(7));
            } else if (a.startsWith("--out=")) {
                out = Path.of(a.substring(6));
            } else if (a.startsWith("--data=")) {
                data = Path.of(a.substring(7));
            } else {
                throw new IllegalArgumentException(
                        "unknown argument "
                                + a
                                + "; use --size=small|full --seed=N --out=DIR --data=DIR");
            }
        }
        return new ExampleOptions(full, seed, out, data);
    }

    /**
     * Returns the size's name.
     *
     * @return {@code small} or {@code full}
     */
    public String size() {
        return full ? "full" : "small";
    }
}
