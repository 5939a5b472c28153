package io.posteriors.examples.text;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** The committed sample data of the worked examples' tests. */
public final class SampleData {

    private SampleData() {}

    /**
     * Returns the sample data folder (with {@code brown/} and {@code fortunes-es/}).
     *
     * @return the folder
     */
    public static Path dir() {
        try {
            return Path.of(
                            SampleData.class
                                    .getResource("/io/posteriors/examples/text-sample/NOTICE.md")
                                    .toURI())
                    .getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
