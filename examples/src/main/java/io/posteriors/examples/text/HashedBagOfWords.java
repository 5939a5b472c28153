package io.posteriors.examples.text;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Hashed bag-of-words features: each word goes to one of {@code dim} buckets by a fixed hash
 * (FNV-1a over its UTF-8 bytes, so the buckets do not depend on the JVM), the counts are damped to
 * {@code log(1 + count)} and the vector is scaled to unit length, so texts of different lengths
 * give comparable inputs.
 *
 * @param dim the number of buckets
 */
public record HashedBagOfWords(int dim) {

    /**
     * Checks the size.
     *
     * @throws IllegalArgumentException when {@code dim < 1}
     */
    public HashedBagOfWords {
        if (dim < 1) {
            throw new IllegalArgumentException("dim must be at least 1, got " + dim);
        }
    }

    /**
     * Returns the bucket of a word.
     *
     * @param word the word
     * @return its bucket in {@code [0, dim)}
     */
    public int bucket(String word) {
        int h = 0x811c9dc5;
        for (byte b : word.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x01000193;
        }
        return Math.floorMod(h, dim);
    }

    /**
     * Returns the feature vector of a list of words.
     *
     * @param words the words
     * @return a vector of length {@code dim}, unit length unless {@code words} is empty
     */
    public float[] features(List<String> words) {
        float[] v = new float[dim];
        for (String w : words) {
            v[bucket(w)] += 1;
        }
        double norm = 0;
        for (int i = 0; i < dim; i++) {
            if (v[i] != 0) {
                v[i] = (float) Math.log1p(v[i]);
                norm += v[i] * v[i];
            }
        }
        if (norm > 0) {
            float s = (float) (1 / Math.sqrt(norm));
            for (int i = 0; i < dim; i++) {
                v[i] *= s;
            }
        }
        return v;
    }
}
