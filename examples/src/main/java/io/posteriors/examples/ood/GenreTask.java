package io.posteriors.examples.ood;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import io.posteriors.DiagNormal;
import io.posteriors.FunctionalModel;
import io.posteriors.LogLikelihoods;
import io.posteriors.ModelLogPosterior;
import io.posteriors.TensorTree;
import io.posteriors.examples.text.BrownCorpus;
import io.posteriors.examples.text.Fortunes;
import io.posteriors.examples.text.HashedBagOfWords;
import io.posteriors.examples.text.Tokens;
import io.posteriors.examples.text.VocabularyFeatures;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * The classification task of the OOD and selective-prediction examples: which kind of writing a
 * passage of English comes from, in three classes of Brown-corpus genres (press: A–C; non-fiction:
 * D–J; fiction and humour: K–R), from bag-of-words features, by a one-hidden-layer MLP. The
 * features have one column per word of the training passages and a few thousand hashed columns that
 * every other word lands in ({@link VocabularyFeatures}), so words the training text never used
 * meet weights that no data has moved.
 *
 * <p>Documents are split into training and test by document (every fifth document is test), so no
 * test passage shares a document with a training one. Training passages are consecutive runs of
 * {@value #CHUNK} words; test passages have random lengths from 10 to {@value #CHUNK} words, like
 * the Spanish passages (fortunes-es sayings of at least 10 words, cut at {@value #CHUNK}), so
 * length alone does not tell the two apart.
 */
public final class GenreTask implements AutoCloseable {

    /** Words per training passage, and the most per test passage. */
    public static final int CHUNK = 40;

    /** The fewest words a test or Spanish passage has. */
    public static final int MIN_WORDS = 10;

    /** Minibatch size. */
    public static final int BATCH = 128;

    /** The class names. */
    public static final List<String> CLASSES = List.of("press", "non-fiction", "fiction");

    /**
     * Sizes of the task.
     *
     * @param dim hashed feature buckets (for {@link Features#VOCABULARY}, those of unseen words)
     * @param hidden hidden units
     * @param trainPerClass the most training passages per class
     * @param testPerClass the most English test passages per class
     * @param spanish the most Spanish passages
     * @param priorPrecision δ of the N(0, 1/δ) prior on every parameter
     * @param features how a passage becomes a vector; {@code dim} is the number of hashed buckets
     *     (for {@link Features#VOCABULARY}, the buckets of words outside the vocabulary)
     */
    public record Size(
            int dim,
            int hidden,
            int trainPerClass,
            int testPerClass,
            int spanish,
            double priorPrecision,
            Features features) {}

    /** How a passage becomes a vector. */
    public enum Features {
        /** Words hashed into {@code dim} buckets ({@link HashedBagOfWords}). */
        HASHED_WORDS,
        /**
         * A column per training word, other words hashed into {@code dim} more ({@link
         * VocabularyFeatures}).
         */
        VOCABULARY
    }

    /** The small size: under two minutes for a whole example on two cores. */
    public static final Size SMALL = new Size(4096, 16, 1200, 300, 600, 1.0, Features.VOCABULARY);

    /** The full size. */
    public static final Size FULL = new Size(4096, 16, 3000, 600, 1500, 1.0, Features.VOCABULARY);

    private final NDManager manager;
    private final FunctionalModel model;
    private final SequentialBlock block;
    private final List<TextBatch> batches;
    private final int n;
    private final NDArray testX;
    private final int[] testLabels;
    private final NDArray spanishX;
    private final Size size;
    private final int dim;

    /**
     * Loads the data and builds the model.
     *
     * @param data the data folder (with {@code brown/} and {@code fortunes-es/})
     * @param size the size
     * @param seed the seed of the split's shuffling and of the initial weights
     * @param out where to print
     * @throws IOException when the data cannot be read
     */
    public GenreTask(Path data, Size size, long seed, PrintStream out) throws IOException {
        this.size = size;
        Engine.getInstance().setRandomSeed((int) seed);
        Random rnd = new Random(seed);
        List<BrownCorpus.Document> docs = BrownCorpus.load(data.resolve("brown"));
        List<List<List<String>>> train = new ArrayList<>();
        List<List<List<String>>> test = new ArrayList<>();
        for (int c = 0; c < CLASSES.size(); c++) {
            train.add(new ArrayList<>());
            test.add(new ArrayList<>());
        }
        int k = 0;
        for (BrownCorpus.Document d : docs) {
            int c = classOf(d.genre());
            boolean isTest = k++ % 5 == 4;
            List<String> w = d.words();
            for (int i = 0; i + CHUNK <= w.size(); i += CHUNK) {
                if (isTest) {
                    int len = MIN_WORDS + rnd.nextInt(CHUNK - MIN_WORDS + 1);
                    test.get(c).add(w.subList(i, i + len));
                } else {
                    train.get(c).add(w.subList(i, i + CHUNK));
                }
            }
        }
        List<List<String>> trainP = new ArrayList<>();
        List<Integer> trainY = new ArrayList<>();
        List<List<String>> testP = new ArrayList<>();
        List<Integer> tY = new ArrayList<>();
        for (int c = 0; c < CLASSES.size(); c++) {
            Collections.shuffle(train.get(c), rnd);
            Collections.shuffle(test.get(c), rnd);
            for (List<String> p : cap(train.get(c), size.trainPerClass())) {
                trainP.add(p);
                trainY.add(c);
            }
            for (List<String> p : cap(test.get(c), size.testPerClass())) {
                testP.add(p);
                tY.add(c);
            }
        }
        List<List<String>> spanishP = new ArrayList<>();
        List<String> spanish = new ArrayList<>(Fortunes.load(data.resolve("fortunes-es")));
        Collections.shuffle(spanish, rnd);
        for (String s : spanish) {
            List<String> w = Tokens.words(s);
            if (w.size() >= MIN_WORDS && spanishP.size() < size.spanish()) {
                spanishP.add(w.subList(0, Math.min(CHUNK, w.size())));
            }
        }
        if (trainP.isEmpty() || testP.isEmpty() || spanishP.isEmpty()) {
            throw new IOException(
                    String.format(
                            "too little data in %s: %d training, %d test, %d Spanish passages",
                            data, trainP.size(), testP.size(), spanishP.size()));
        }
        manager = NDManager.newBaseManager();
        // shuffle the training set once, across classes, so minibatches mix them
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < trainP.size(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, rnd);
        // small samples (the tests' committed data) get one smaller batch size
        int bs = Math.min(BATCH, trainP.size());
        n = (trainP.size() / bs) * bs;
        List<List<String>> used = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            used.add(trainP.get(order.get(i)));
        }
        // the feature map sees the training passages only (the vocabulary is theirs)
        Function<List<String>, float[]> features;
        if (size.features() == Features.VOCABULARY) {
            VocabularyFeatures v = VocabularyFeatures.fit(used, size.dim());
            features = v::features;
            dim = v.dim();
        } else {
            features = new HashedBagOfWords(size.dim())::features;
            dim = size.dim();
        }
        float[][] xs = new float[n][];
        long[] ys = new long[n];
        for (int i = 0; i < n; i++) {
            xs[i] = features.apply(used.get(i));
            ys[i] = trainY.get(order.get(i));
        }
        NDArray x = matrix(xs);
        NDArray y = manager.create(ys);
        batches = new ArrayList<>();
        for (int i = 0; i < n; i += bs) {
            NDIndex idx = new NDIndex("{}:{}", i, i + bs);
            batches.add(new TextBatch(x.get(idx), y.get(idx)));
        }
        float[][] tX = testP.stream().map(features).toArray(float[][]::new);
        float[][] esX = spanishP.stream().map(features).toArray(float[][]::new);
        testX = matrix(tX);
        testLabels = tY.stream().mapToInt(Integer::intValue).toArray();
        spanishX = matrix(esX);
        block = newBlock();
        model = FunctionalModel.of(block);
        out.printf(
                "genre task: %d training passages (%d per class at most), %d English test, %d"
                        + " Spanish; %s features: %d (%d hashed), %d hidden units, %d parameters%n",
                n,
                size.trainPerClass(),
                testLabels.length,
                spanishX.getShape().get(0),
                size.features(),
                dim,
                size.dim(),
                size.hidden(),
                TensorTree.fromBlock(block).numel());
    }

    private static <T> List<T> cap(List<T> l, int max) {
        return l.size() <= max ? l : l.subList(0, max);
    }

    /**
     * Returns the class of a Brown genre letter.
     *
     * @param genre the letter
     * @return 0 press (A–C), 1 non-fiction (D–J), 2 fiction and humour (K–R)
     */
    public static int classOf(char genre) {
        if (genre <= 'c') {
            return 0;
        }
        return genre <= 'j' ? 1 : 2;
    }

    private NDArray matrix(float[][] rows) {
        float[] flat = new float[rows.length * dim];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, flat, i * dim, dim);
        }
        return manager.create(flat, new Shape(rows.length, dim));
    }

    private SequentialBlock newBlock() {
        SequentialBlock b = new SequentialBlock();
        b.add(Linear.builder().setUnits(size.hidden()).build());
        b.add(Activation::tanh);
        b.add(Linear.builder().setUnits(CLASSES.size()).build());
        b.initialize(manager, DataType.FLOAT32, new Shape(BATCH, dim));
        return b;
    }

    /**
     * Returns freshly initialised parameters (a new draw from the engine's generator).
     *
     * @return the parameters, on the task's manager
     */
    public TensorTree freshParams() {
        return TensorTree.fromBlock(newBlock()).copy(manager);
    }

    /**
     * Returns the log posterior of a batch: mean log likelihood plus the N(0, 1/δ) prior over N.
     *
     * @return the function
     */
    public ModelLogPosterior<TextBatch> logPosterior() {
        double sd = 1 / Math.sqrt(size.priorPrecision());
        return ModelLogPosterior.<TextBatch>builder(
                        model, b -> new NDList(b.x()), GenreTask::logLik)
                .prior(p -> DiagNormal.logProb(p, 0.0, sd, true), n)
                .build();
    }

    /**
     * Returns the mean log likelihood of a batch (no prior), for Laplace.
     *
     * @return the function
     */
    public ModelLogPosterior<TextBatch> logLikelihood() {
        return ModelLogPosterior.<TextBatch>builder(
                        model, b -> new NDList(b.x()), GenreTask::logLik)
                .build();
    }

    private static NDArray logLik(NDArray logits, TextBatch b) {
        return LogLikelihoods.categorical(logits, b.y());
    }

    /**
     * Splits inputs into chunks of {@code rows} for streaming prediction.
     *
     * @param x the inputs
     * @param rows rows per chunk
     * @return the input lists
     */
    public static List<NDList> inputs(NDArray x, int rows) {
        long m = x.getShape().get(0);
        List<NDList> out = new ArrayList<>();
        for (long i = 0; i < m; i += rows) {
            out.add(new NDList(x.get(new NDIndex("{}:{}", i, Math.min(m, i + rows)))));
        }
        return out;
    }

    /**
     * Returns the model.
     *
     * @return the functional model
     */
    public FunctionalModel model() {
        return model;
    }

    /**
     * Returns the training batches.
     *
     * @return the batches
     */
    public List<TextBatch> batches() {
        return batches;
    }

    /**
     * Returns the number of training passages N.
     *
     * @return N
     */
    public int n() {
        return n;
    }

    /**
     * Returns the English test features.
     *
     * @return shape {@code (m, dim)}
     */
    public NDArray testX() {
        return testX;
    }

    /**
     * Returns the English test labels.
     *
     * @return the labels
     */
    public int[] testLabels() {
        return testLabels.clone();
    }

    /**
     * Returns the Spanish features.
     *
     * @return shape {@code (m, dim)}
     */
    public NDArray spanishX() {
        return spanishX;
    }

    /**
     * Returns the prior precision δ of every parameter.
     *
     * @return δ
     */
    public double priorPrecision() {
        return size.priorPrecision();
    }

    /**
     * Returns the manager that owns the data.
     *
     * @return the manager
     */
    public NDManager manager() {
        return manager;
    }

    @Override
    public void close() {
        manager.close();
    }
}
