package io.posteriors.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Keeps the README's first pom and Java blocks equal to the consumer project that {@code mvn
 * verify} builds and runs against the installed artifacts (posteriors-all/src/it/consumer), so the
 * README's code cannot rot: edit the consumer project and paste its marked parts into the README.
 */
class ReadmeSnippetTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path CONSUMER = ROOT.resolve("posteriors-all/src/it/consumer");

    @Test
    void readme_javaBlock_isTheConsumerQuickStartVerbatim() throws IOException {
        String source = read(CONSUMER.resolve("src/main/java/com/example/QuickStart.java"));
        String snippet = between(source, "// README java begin\n", "// README java end\n");
        assertReadmeHasBlock("java", snippet);
    }

    @Test
    void readme_pomBlock_isTheConsumerPomVerbatim() throws IOException {
        String pom = read(CONSUMER.resolve("pom.xml"));
        String version = projectVersion(read(ROOT.resolve("pom.xml")));
        String snippet =
                dedent(
                        between(pom, "  <!-- README pom begin -->\n", "  <!-- README pom end -->\n")
                                .replace("@project.version@", version),
                        2);
        assertReadmeHasBlock("xml", snippet);
    }

    private static void assertReadmeHasBlock(String language, String body) throws IOException {
        String readme = read(ROOT.resolve("README.md"));
        String block = "```" + language + "\n" + body + "```\n";
        assertTrue(
                readme.contains(block),
                "README.md must contain, verbatim, the " + language + " block:\n" + block);
    }

    private static String between(String text, String begin, String end) {
        int b = text.indexOf(begin);
        int e = text.indexOf(end);
        assertTrue(b >= 0 && e > b, "markers " + begin.strip() + " ... " + end.strip());
        return text.substring(b + begin.length(), e);
    }

    private static String dedent(String text, int spaces) {
        StringBuilder out = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            out.append(line.startsWith(" ".repeat(spaces)) ? line.substring(spaces) : line)
                    .append('\n');
        }
        return out.substring(0, out.length() - 1);
    }

    private static String projectVersion(String rootPom) {
        String tag = "<artifactId>posteriors-parent</artifactId>";
        int at = rootPom.indexOf(tag);
        int b = rootPom.indexOf("<version>", at) + "<version>".length();
        return rootPom.substring(b, rootPom.indexOf("</version>", b));
    }

    private static String read(Path p) throws IOException {
        return Files.readString(p, StandardCharsets.UTF_8);
    }
}
