package io.posteriors.examples.text;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Bag-of-words features with one column per word of a training vocabulary and {@code oovBuckets}
 * more columns that every other word is hashed into ({@link HashedBagOfWords#bucket}); counts are
 * damped to {@code log(1 + count)} and the vector is scaled to unit length, as in {@link
 * HashedBagOfWords}.
 *
 * <p>Unlike plain hashing, no word the training text never used shares a column with one it did:
 * the columns of unseen words carry no training data at all, so a posterior keeps the prior's
 * spread on their weights, and a passage made mostly of unseen words (another language) meets that
 * spread in full. Unseen words are not dropped (a passage of them is not an empty input); they land
 * on columns the model knows nothing about, which is what their novelty means.
 */
public final class VocabularyFeatures {

    private final Map<String, Integer> index;
    private final HashedBagOfWords unseen;

    private VocabularyFeatures(Map<String, Integer> index, int oovBuckets) {
        this.index = index;
        this.unseen = new HashedBagOfWords(oovBuckets);
    }

    /**
     * Builds the vocabulary of some training passages: every word they use, numbered in order of
     * first use.
     *
     * @param passages the training passages
     * @param oovBuckets the columns that words outside the vocabulary are hashed into, at least 1
     * @return the features
     * @throws IllegalArgumentException when {@code oovBuckets < 1}
     */
    public static VocabularyFeatures fit(List<List<String>> passages, int oovBuckets) {
        if (oovBuckets < 1) {
            throw new IllegalArgumentException("oovBuckets must be at least 1, got " + oovBuckets);
        }
        Map<String, Integer> index = new LinkedHashMap<>();
        for (List<String> p : passages) {
            for (String w : p) {
                index.putIfAbsent(w, index.size());
            }
        }
        return new VocabularyFeatures(Collections.unmodifiableMap(index), oovBuckets);
    }

    /**
     * Returns the size of the vocabulary.
     *
     * @return the number of words with a column of their own
     */
    public int vocabularySize() {
        return index.size();
    }

    /**
     * Returns the length of a feature vector: the vocabulary plus the buckets of unseen words.
     *
     * @return the dimension
     */
    public int dim() {
        return index.size() + unseen.dim();
    }

    /**
     * Returns the column of a word.
     *
     * @param word the word
     * @return its own column when in the vocabulary, else its hashed column after the vocabulary
     */
    public int column(String word) {
        Integer i = index.get(word);
        return i != null ? i : index.size() + unseen.bucket(word);
    }

    /**
     * Returns the feature vector of a list of words.
     *
     * @param words the words
     * @return a vector of length {@link #dim()}, unit length unless {@code words} is empty
     */
    public float[] features(List<String> words) {
        float[] v = new float[dim()];
        for (String w : words) {
            v[column(w)] += 1;
        }
        double norm = 0;
        for (int i = 0; i < v.length; i++) {
            if (v[i] != 0) {
                v[i] = (float) Math.log1p(v[i]);
                norm += v[i] * v[i];
            }
        }
        if (norm > 0) {
            float s = (float) (1 / Math.sqrt(norm));
            for (int i = 0; i < v.length; i++) {
                v[i] *= s;
            }
        }
        return v;
    }
}
