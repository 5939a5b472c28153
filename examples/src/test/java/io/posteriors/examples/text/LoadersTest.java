package io.posteriors.examples.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoadersTest {

    @Test
    void brown_sample_parsesWordsWithoutTags() throws IOException {
        List<BrownCorpus.Document> docs = BrownCorpus.load(SampleData.dir().resolve("brown"));
        assertEquals(10, docs.size());
        BrownCorpus.Document first = docs.get(0);
        assertEquals("ca01", first.id());
        assertEquals('a', first.genre());
        assertEquals(
                List.of("the", "fulton", "county", "grand", "jury", "said"),
                first.words().subList(0, 6));
        assertTrue(first.words().stream().noneMatch(w -> w.contains("/")));
    }

    @Test
    void fortunes_sample_dropsAttributions() throws IOException {
        List<String> f = Fortunes.load(SampleData.dir().resolve("fortunes-es"));
        assertTrue(f.size() > 10);
        assertEquals(
                "Los inventos son a manera de nuevas creaciones, imitaciones de las obras\ndivinas.",
                f.get(0));
        assertTrue(f.stream().noneMatch(s -> s.contains("-- ")));
    }

    @Test
    void tokens_accentsAndApostrophes_kept() {
        assertEquals(List.of("filósofo", "don't", "año"), Tokens.words("Filósofo, don't -- AÑO!"));
    }

    @Test
    void yelp_jsonLines_parsesStarsAndLabel(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("reviews.json");
        Files.writeString(
                f,
                "{\"review_id\":\"x\",\"stars\":4.0,\"text\":\"Great \\\"tacos\\\"\\nfriendly\"}\n\n"
                        + "{\"label\":0,\"text\":\"awful\"}\n");
        List<YelpReviews.Review> r = YelpReviews.load(f, 10);
        assertEquals(new YelpReviews.Review("Great \"tacos\"\nfriendly", 4), r.get(0));
        assertEquals(new YelpReviews.Review("awful", 1), r.get(1));
        assertThrows(
                IllegalArgumentException.class,
                () -> YelpReviews.parse("{\"stars\":9,\"text\":\"a\"}"));
    }

    @Test
    void pg19_folder_loadsBooksByName(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("2.txt"), "Second book.");
        Files.writeString(dir.resolve("1.txt"), "It was the best of times.");
        List<Pg19Books.Book> b = Pg19Books.load(dir);
        assertEquals("1", b.get(0).id());
        assertEquals(List.of("it", "was", "the", "best", "of", "times"), b.get(0).words());
    }

    @Test
    void hashedBagOfWords_unitLengthAndStableBuckets() {
        HashedBagOfWords h = new HashedBagOfWords(64);
        float[] v = h.features(List.of("a", "b", "a"));
        double norm = 0;
        for (float x : v) {
            norm += x * x;
        }
        assertEquals(1.0, norm, 1e-6);
        assertEquals(h.bucket("posterior"), new HashedBagOfWords(64).bucket("posterior"));
        assertThrows(IllegalArgumentException.class, () -> new HashedBagOfWords(0));
    }

    @Test
    void vocabularyFeatures_ownColumnsForTrainingWords_hashedColumnsForOthers() {
        VocabularyFeatures v =
                VocabularyFeatures.fit(List.of(List.of("the", "cat"), List.of("the", "dog")), 8);
        assertEquals(3, v.vocabularySize());
        assertEquals(11, v.dim());
        assertEquals(0, v.column("the"));
        assertEquals(2, v.column("dog"));
        int gato = 3 + new HashedBagOfWords(8).bucket("gato");
        assertEquals(gato, v.column("gato"));
        // "the" twice and one unseen word: log(1 + 2) and log(1 + 1), scaled to unit length
        float[] f = v.features(List.of("the", "gato", "the"));
        double norm = Math.hypot(Math.log(3), Math.log(2));
        float[] want = new float[11];
        want[0] = (float) (Math.log(3) / norm);
        want[gato] = (float) (Math.log(2) / norm);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], f[i], 1e-6, "column " + i);
        }
        String msg =
                assertThrows(
                                IllegalArgumentException.class,
                                () -> VocabularyFeatures.fit(List.of(), 0))
                        .getMessage();
        assertTrue(msg.contains("oovBuckets") && msg.contains("0"), msg);
    }
}
