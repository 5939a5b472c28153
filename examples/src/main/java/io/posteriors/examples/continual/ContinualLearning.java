package io.posteriors.examples.continual;

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
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.posteriors.FunctionalModel;
import io.posteriors.LogLikelihoods;
import io.posteriors.ModelLogPosterior;
import io.posteriors.Scalars;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.examples.common.Progress;
import io.posteriors.examples.ood.TextBatch;
import io.posteriors.examples.text.BrownCorpus;
import io.posteriors.examples.text.ExampleOptions;
import io.posteriors.examples.text.HashedBagOfWords;
import io.posteriors.examples.text.JsonOut;
import io.posteriors.io.PosteriorFiles;
import io.posteriors.laplace.DiagFisher;
import io.posteriors.laplace.DiagLaplaceState;
import io.posteriors.optim.Adam;
import io.posteriors.optim.Optimize;
import io.posteriors.optim.OptimizeState;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;

/**
 * Learning books without forgetting. A word-level language model with a fixed context window (the
 * previous {@value #CONTEXT} words, hashed with their positions into a bag of features, one tanh
 * hidden layer, a softmax over the most frequent words plus an unknown-word class) is trained first
 * on a base corpus (the Brown genres that are not books). Its two {@code Linear} layers are then
 * frozen inside {@link LoraLinear} blocks, and only the low-rank adapters ({@code A} and {@code B}
 * of both layers) are trained on one book after another (books = Brown genres, in the order of
 * {@link #BOOKS}). The adapter tree is all that the optimisers, the Fisher and the prior see.
 *
 * <p>Two runs from the same base and the same initial adapters: {@code adamw} (Adam with decoupled
 * weight decay, no memory of earlier books) and {@code laplace} (plain Adam on the log likelihood
 * plus, from the second book on, the log density of the previous book's diagonal empirical-Fisher
 * Laplace posterior over the adapters, whose precision accumulates book by book through {@link
 * DiagFisher.Builder#prior}). Each book's posterior is saved with {@link PosteriorFiles#save} to
 * {@code continual-learning-laplace-bookN.safetensors} in the output folder and loaded back with
 * {@link PosteriorFiles#load} as the next book's prior, as a user would carry it from one session
 * to the next. After every epoch the validation loss (NLL per word) of every book is recorded. The
 * joint floor is the same adapters trained by AdamW on all books at once for the same number of
 * epochs.
 *
 * <pre>
 * ./example.sh continual-learning --size=small --seed=0 --out=out
 * </pre>
 */
public final class ContinualLearning {

    /** Words of context. */
    public static final int CONTEXT = 3;

    /** The books, Brown genre letters, in training order. */
    public static final String BOOKS = "ajkn";

    /** The full size's books. */
    public static final String BOOKS_FULL = "ajknbelp";

    private static final int BATCH = 128;

    /**
     * Samples per batch of the diagonal Fisher (the generic per-sample path is quadratic in it).
     */
    private static final int FISHER_BATCH = 16;

    /** The precision of the first book's Laplace posterior before its data (a N(0, 1) prior). */
    private static final double FIRST_PRIOR_PRECISION = 1.0;

    /** AdamW's decoupled weight decay. */
    private static final double WEIGHT_DECAY = 1e-2;

    /**
     * Sizes and settings.
     *
     * @param dim hashed context features
     * @param hidden hidden units
     * @param vocab words predicted (plus one unknown-word class)
     * @param baseWords words of base corpus
     * @param bookWords training and validation words per book
     * @param baseEpochs epochs of the base model
     * @param epochs epochs per book
     * @param rank LoRA rank
     * @param alpha LoRA scale numerator (the update is scaled by alpha / rank)
     * @param lr Adam's learning rate for the adapters
     * @param priorTemperature the temperature the previous book's posterior is used at as prior
     */
    private record Size(
            int dim,
            int hidden,
            int vocab,
            int baseWords,
            int bookWords,
            int baseEpochs,
            int epochs,
            int rank,
            double alpha,
            double lr,
            double priorTemperature) {}

    private static final Size SMALL =
            new Size(2048, 48, 400, 40_000, 6_000, 4, 4, 4, 8.0, 1e-3, 1.0);
    private static final Size FULL =
            new Size(2048, 96, 2000, 120_000, 20_000, 4, 4, 4, 8.0, 1e-3, 1.0);

    private ContinualLearning() {}

    /**
     * Runs the example.
     *
     * @param args {@code --size=small|full --seed=N --out=DIR --data=DIR}
     * @throws IOException when the data cannot be read or the results cannot be written
     */
    public static void main(String[] args) throws IOException {
        run(ExampleOptions.parse(args, "continual-learning"), System.out);
    }

    /** One book's data: training batches and a validation batch of hidden features. */
    private record Book(String name, List<TextBatch> train, int n, TextBatch val) {}

    /**
     * Runs the example with parsed options.
     *
     * @param o the options
     * @param out where to print
     * @return the JSON written
     * @throws IOException when the data cannot be read or the results cannot be written
     */
    public static JsonObject run(ExampleOptions o, PrintStream out) throws IOException {
        long start = System.nanoTime();
        Files.createDirectories(o.out());
        Size size = o.full() ? FULL : SMALL;
        String letters = o.full() ? BOOKS_FULL : BOOKS;
        Engine.getInstance().setRandomSeed((int) o.seed());
        List<BrownCorpus.Document> docs = BrownCorpus.load(o.data().resolve("brown"));
        Map<Character, List<String>> byGenre = new LinkedHashMap<>();
        List<String> base = new ArrayList<>();
        for (BrownCorpus.Document d : docs) {
            if (letters.indexOf(d.genre()) >= 0) {
                byGenre.computeIfAbsent(d.genre(), g -> new ArrayList<>()).addAll(d.words());
            } else {
                base.addAll(d.words());
            }
        }
        base = base.subList(0, Math.min(base.size(), size.baseWords()));
        Map<String, Integer> vocab = vocabulary(base, size.vocab());
        HashedBagOfWords bow = new HashedBagOfWords(size.dim());
        JsonObject json = new JsonObject();
        try (NDManager manager = NDManager.newBaseManager()) {
            // base model: context features -> tanh hidden -> next word
            SequentialBlock block = new SequentialBlock();
            block.add(Linear.builder().setUnits(size.hidden()).build());
            block.add(Activation::tanh);
            block.add(Linear.builder().setUnits(size.vocab() + 1).build());
            block.initialize(manager, DataType.FLOAT32, new Shape(BATCH, size.dim()));
            FunctionalModel full = FunctionalModel.of(block);
            TensorTree init = TensorTree.fromBlock(block).copy(manager);
            List<TextBatch> baseBatches = batches(manager, examples(base, vocab, bow), size.dim());
            out.printf(
                    "base corpus: %d words (%d batches); vocabulary %d + unknown; books %s%n",
                    base.size(), baseBatches.size(), size.vocab(), letters);
            TensorTree params =
                    train(
                            full,
                            null,
                            init,
                            baseBatches,
                            size.baseEpochs(),
                            Adam.of(1e-2),
                            out,
                            "base model",
                            q -> {});
            init.close();
            // the adapted model: the trained layers frozen inside LoRA blocks, whose adapters
            // (A and B of each layer) are the only parameters the runs below see
            List<NDArray> base0 = params.leaves();
            SequentialBlock loraBlock = new SequentialBlock();
            LoraLinear hiddenLora =
                    new LoraLinear(base0.get(0), base0.get(1), size.rank(), size.alpha());
            LoraLinear outputLora =
                    new LoraLinear(base0.get(2), base0.get(3), size.rank(), size.alpha());
            loraBlock.add(hiddenLora);
            loraBlock.add(Activation::tanh);
            loraBlock.add(outputLora);
            loraBlock.initialize(manager, DataType.FLOAT32, new Shape(BATCH, size.dim()));
            FunctionalModel lora = FunctionalModel.of(loraBlock);
            TensorTree adapterInit = TensorTree.fromBlock(loraBlock).copy(manager);
            long trainable = hiddenLora.trainableParameters() + outputLora.trainableParameters();
            out.printf(
                    "LoRA adapters: rank %d, alpha %.1f, %d trainable parameters (base model %d)%n",
                    size.rank(), size.alpha(), trainable, params.numel());
            baseBatches.forEach(
                    t -> {
                        t.x().close();
                        t.y().close();
                    });
            List<Book> books = new ArrayList<>();
            for (char g : letters.toCharArray()) {
                List<String> w = byGenre.getOrDefault(g, List.of());
                w = w.subList(0, Math.min(w.size(), size.bookWords() * 10 / 9));
                int cut = w.size() * 9 / 10;
                List<TextBatch> tr =
                        batches(manager, examples(w.subList(0, cut), vocab, bow), size.dim());
                List<TextBatch> va =
                        batches(
                                manager,
                                examples(w.subList(cut, w.size()), vocab, bow),
                                size.dim());
                if (tr.isEmpty() || va.isEmpty()) {
                    throw new IOException(
                            "too little text for book " + g + ": " + w.size() + " words");
                }
                books.add(
                        new Book(
                                BrownCorpus.GENRES.get(g),
                                tr,
                                tr.size() * BATCH,
                                join(manager, va)));
            }
            int k = books.size();
            int epochs = size.epochs();
            // the two sequential runs
            double[][][] curves = new double[2][][];
            List<String> posteriorFiles = new ArrayList<>();
            String[] runs = {"adamw", "laplace"};
            double fisherSeconds = 0;
            long fisherSamples = 0;
            for (int r = 0; r < 2; r++) {
                boolean laplace = r == 1;
                TensorTree p = adapterInit.copy(manager);
                DiagLaplaceState prior = null;
                List<double[]> rows = new ArrayList<>();
                for (int b = 0; b < k; b++) {
                    Book book = books.get(b);
                    DiagLaplaceState pr = prior;
                    TensorTree next =
                            train(
                                    lora,
                                    pr == null ? null : q -> pr.logProb(q, size.priorTemperature()),
                                    p,
                                    book.train(),
                                    epochs,
                                    laplace
                                            ? Adam.of(size.lr())
                                            : Adam.of(size.lr()).weightDecay(WEIGHT_DECAY),
                                    null,
                                    null,
                                    q -> rows.add(evaluate(lora, q, books)));
                    p.close();
                    p = next;
                    out.printf(
                            Locale.ROOT,
                            "%s after book %d (%s): val loss per book %s%n",
                            runs[r],
                            b + 1,
                            book.name(),
                            fmt(rows.get(rows.size() - 1)));
                    if (laplace && b < k - 1) {
                        long t0 = System.nanoTime();
                        DiagLaplaceState s = fisher(lora, p, book, prior, size.priorTemperature());
                        fisherSeconds += (System.nanoTime() - t0) / 1e9;
                        fisherSamples += book.n();
                        // the posterior goes through a file, as it would between two sessions:
                        // the next book's run reads its prior back from the output folder
                        Path file =
                                o.out()
                                        .resolve(
                                                String.format(
                                                        Locale.ROOT,
                                                        "continual-learning-laplace-book%d"
                                                                + ".safetensors",
                                                        b + 1));
                        PosteriorFiles.save(file, s);
                        s.close();
                        if (prior != null) {
                            prior.close();
                        }
                        prior = PosteriorFiles.load(file, DiagLaplaceState.class, manager);
                        posteriorFiles.add(file.getFileName().toString());
                    }
                }
                if (prior != null) {
                    prior.close();
                }
                p.close();
                curves[r] = rows.toArray(new double[0][]);
            }
            out.printf(
                    Locale.ROOT,
                    "diagonal Fisher over the adapters: %d samples in %.1f s (%.2f ms per sample,"
                            + " batches of %d)%n",
                    fisherSamples,
                    fisherSeconds,
                    1e3 * fisherSeconds / Math.max(1, fisherSamples),
                    FISHER_BATCH);
            // the joint floor: all books at once, the same number of epochs in total
            List<TextBatch> all = new ArrayList<>();
            books.forEach(b -> all.addAll(b.train()));
            java.util.Collections.shuffle(all, new java.util.Random(o.seed()));
            TensorTree joint =
                    train(
                            lora,
                            null,
                            adapterInit,
                            all,
                            epochs,
                            Adam.of(size.lr()).weightDecay(WEIGHT_DECAY),
                            out,
                            "joint floor",
                            q -> {});
            double[] jointLoss = evaluate(lora, joint, books);
            joint.close();
            double jointFloor = mean(jointLoss, k - 1);
            double adamwOld = mean(curves[0][curves[0].length - 1], k - 1);
            double laplaceOld = mean(curves[1][curves[1].length - 1], k - 1);
            double target = adamwOld - 0.5 * (adamwOld - jointFloor);
            out.printf(
                    Locale.ROOT,
                    "%nearlier books' average val loss after the last book: adamw %.4f, laplace %.4f,"
                            + " joint floor %.4f; target laplace <= %.4f: %s%n",
                    adamwOld,
                    laplaceOld,
                    jointFloor,
                    target,
                    laplaceOld <= target ? "met" : "missed");
            json.addProperty("example", "continual-learning");
            json.addProperty("size", o.size());
            json.addProperty("seed", o.seed());
            JsonObject adapters = new JsonObject();
            adapters.addProperty("layers", "hidden and output Linear (base weights frozen)");
            adapters.addProperty("rank", size.rank());
            adapters.addProperty("alpha", size.alpha());
            adapters.addProperty("trainable_params", trainable);
            adapters.addProperty("base_params", params.numel());
            json.add("adapters", adapters);
            json.addProperty("learning_rate", size.lr());
            json.addProperty("prior_temperature", size.priorTemperature());
            json.add("fisher_seconds", JsonOut.num(fisherSeconds));
            json.addProperty("fisher_samples", fisherSamples);
            JsonArray bn = new JsonArray();
            books.forEach(b -> bn.add(b.name()));
            json.add("books", bn);
            JsonArray pf = new JsonArray();
            posteriorFiles.forEach(pf::add);
            json.add("posterior_files", pf);
            json.addProperty("base_epochs", size.baseEpochs());
            json.addProperty("epochs_per_book", epochs);
            json.add("joint_floor", JsonOut.num(jointFloor));
            json.add("adamw_old_avg_final", JsonOut.num(adamwOld));
            json.add("laplace_old_avg_final", JsonOut.num(laplaceOld));
            json.add("target_laplace_max", JsonOut.num(target));
            json.addProperty("target_met", laplaceOld <= target);
            json.add("joint_val_loss", JsonOut.array(jointLoss));
            json.add("adamw_val_loss", JsonOut.matrix(curves[0]));
            json.add("laplace_val_loss", JsonOut.matrix(curves[1]));
            figures(o, books, curves, epochs, jointFloor, runs);
        }
        json.addProperty("seconds", (System.nanoTime() - start) / 1e9);
        JsonOut.write(json, o.out().resolve("continual-learning.json"));
        out.printf(
                "wrote %s in %.1f s%n",
                o.out().resolve("continual-learning.json"), (System.nanoTime() - start) / 1e9);
        return json;
    }

    private static void figures(
            ExampleOptions o,
            List<Book> books,
            double[][][] curves,
            int epochs,
            double jointFloor,
            String[] runs)
            throws IOException {
        int k = books.size();
        int rows = curves[0].length;
        double[] x = new double[rows];
        for (int i = 0; i < rows; i++) {
            x[i] = (i + 1.0) / epochs;
        }
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double[][] c : curves) {
            for (double[] row : c) {
                for (double v : row) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        for (int r = 0; r < 2; r++) {
            Map<String, double[][]> series = new LinkedHashMap<>();
            for (int b = 0; b < k; b++) {
                double[] y = new double[rows];
                for (int i = 0; i < rows; i++) {
                    y[i] = curves[r][i][b];
                }
                series.put("book " + (b + 1) + ": " + books.get(b).name(), new double[][] {x, y});
            }
            for (int b = 1; b < k; b++) {
                series.put("start of book " + (b + 1), new double[][] {{b, b}, {lo, hi}});
            }
            io.posteriors.predictive.Plots.curves(
                    series,
                    o.out().resolve("continual-learning-" + runs[r] + ".png"),
                    "validation loss of each book, " + runs[r],
                    "episode (book)",
                    "NLL per word");
        }
        Map<String, double[][]> avg = new LinkedHashMap<>();
        for (int r = 0; r < 2; r++) {
            double[] y = new double[rows];
            for (int i = 0; i < rows; i++) {
                int seen = Math.min(k, i / epochs + 1);
                y[i] = mean(curves[r][i], seen);
            }
            avg.put(runs[r], new double[][] {x, y});
        }
        avg.put(
                "joint floor (earlier books)",
                new double[][] {{x[0], x[rows - 1]}, {jointFloor, jointFloor}});
        io.posteriors.predictive.Plots.curves(
                avg,
                o.out().resolve("continual-learning-average.png"),
                "average validation loss over the books seen so far",
                "episode (book)",
                "NLL per word");
    }

    private static String fmt(double[] v) {
        StringBuilder b = new StringBuilder("[");
        for (double x : v) {
            b.append(String.format(Locale.ROOT, " %.3f", x));
        }
        return b.append(" ]").toString();
    }

    private static double mean(double[] v, int first) {
        double s = 0;
        for (int i = 0; i < first; i++) {
            s += v[i];
        }
        return s / first;
    }

    private static Map<String, Integer> vocabulary(List<String> words, int v) {
        Map<String, Integer> counts = new HashMap<>();
        words.forEach(w -> counts.merge(w, 1, Integer::sum));
        List<String> top =
                counts.entrySet().stream()
                        .sorted(
                                Map.Entry.<String, Integer>comparingByValue()
                                        .reversed()
                                        .thenComparing(Map.Entry.comparingByKey()))
                        .limit(v)
                        .map(Map.Entry::getKey)
                        .toList();
        Map<String, Integer> out = new HashMap<>();
        for (int i = 0; i < top.size(); i++) {
            out.put(top.get(i), i);
        }
        return out;
    }

    /** Next-word examples: features of the previous words, and the next word's class. */
    private static List<Object[]> examples(
            List<String> w, Map<String, Integer> vocab, HashedBagOfWords bow) {
        List<Object[]> out = new ArrayList<>();
        int unk = vocab.size();
        for (int i = CONTEXT; i < w.size(); i++) {
            List<String> ctx = new ArrayList<>();
            for (int j = 1; j <= CONTEXT; j++) {
                ctx.add(j + ":" + w.get(i - j));
            }
            out.add(new Object[] {bow.features(ctx), (long) vocab.getOrDefault(w.get(i), unk)});
        }
        return out;
    }

    private static List<TextBatch> batches(NDManager m, List<Object[]> ex, int dim) {
        return batches(m, ex, dim, BATCH);
    }

    private static List<TextBatch> batches(NDManager m, List<Object[]> ex, int dim, int batch) {
        final int BATCH = batch;
        List<TextBatch> out = new ArrayList<>();
        for (int i = 0; i + BATCH <= ex.size(); i += BATCH) {
            float[] x = new float[BATCH * dim];
            long[] y = new long[BATCH];
            for (int j = 0; j < BATCH; j++) {
                System.arraycopy((float[]) ex.get(i + j)[0], 0, x, j * dim, dim);
                y[j] = (Long) ex.get(i + j)[1];
            }
            out.add(new TextBatch(m.create(x, new Shape(BATCH, dim)), m.create(y)));
        }
        return out;
    }

    private static TextBatch join(NDManager m, List<TextBatch> in) {
        NDList xs = new NDList();
        NDList ys = new NDList();
        in.forEach(
                t -> {
                    xs.add(t.x());
                    ys.add(t.y());
                });
        TextBatch joined =
                new TextBatch(
                        ai.djl.ndarray.NDArrays.concat(xs), ai.djl.ndarray.NDArrays.concat(ys));
        xs.close();
        ys.close();
        return joined;
    }

    private static ModelLogPosterior<TextBatch> logLik(
            FunctionalModel model,
            java.util.function.Function<TensorTree, NDArray> logPrior,
            int n) {
        var b =
                ModelLogPosterior.<TextBatch>builder(
                        model,
                        t -> new NDList(t.x()),
                        (logits, t) -> LogLikelihoods.categorical(logits, t.y()));
        if (logPrior != null) {
            b.prior(logPrior, n);
        }
        return b.build();
    }

    /**
     * Trains from {@code init} (which is left as it is) and returns the final parameters, a fresh
     * tree; {@code afterEpoch} sees the parameters after every epoch.
     */
    private static TensorTree train(
            FunctionalModel model,
            java.util.function.Function<TensorTree, NDArray> logPrior,
            TensorTree init,
            List<TextBatch> batches,
            int epochs,
            Adam opt,
            PrintStream out,
            String label,
            java.util.function.Consumer<TensorTree> afterEpoch) {
        Transform<OptimizeState, TextBatch> t =
                Optimize.builder(logLik(model, logPrior, batches.size() * BATCH), opt).build();
        OptimizeState s = t.init(init);
        ProgressBar bar =
                out == null ? null : Progress.bar(out, label, (long) epochs * batches.size());
        try {
            for (int e = 0; e < epochs; e++) {
                for (TextBatch b : batches) {
                    var step = t.updateInPlace(s, b);
                    step.aux().close();
                    s = step.state();
                    if (bar != null) {
                        bar.step();
                    }
                }
                afterEpoch.accept(s.params());
            }
            return s.params().copy();
        } finally {
            s.close();
            if (bar != null) {
                bar.close();
            }
        }
    }

    /**
     * The diagonal empirical-Fisher Laplace posterior of the adapters at {@code p} after one book:
     * the previous book's precision (at the given temperature) plus the book's squared per-sample
     * gradients. A model with LoRA blocks takes the generic per-sample path of {@link
     * io.posteriors.Autodiff#perSampleGradMoments} (one reverse pass per sample, each through the
     * whole batch's graph), so the book is fed in small batches of {@value #FISHER_BATCH}.
     */
    private static DiagLaplaceState fisher(
            FunctionalModel model,
            TensorTree p,
            Book book,
            DiagLaplaceState prior,
            double temperature) {
        var builder = DiagFisher.builder(logLik(model, null, book.n()));
        builder =
                prior == null
                        ? builder.initPrecDiag(FIRST_PRIOR_PRECISION)
                        : builder.prior(prior, temperature);
        var t = builder.build();
        DiagLaplaceState s = t.init(p);
        for (TextBatch tb : book.train()) {
            long rows = tb.x().getShape().get(0);
            for (long i = 0; i < rows; i += FISHER_BATCH) {
                NDIndex idx = new NDIndex("{}:{}", i, Math.min(rows, i + FISHER_BATCH));
                try (NDArray x = tb.x().get(idx);
                        NDArray y = tb.y().get(idx)) {
                    var step = t.updateInPlace(s, new TextBatch(x, y));
                    step.aux().close();
                    s = step.state();
                }
            }
        }
        return s;
    }

    /** Validation NLL per word of every book. */
    private static double[] evaluate(FunctionalModel head, TensorTree p, List<Book> books) {
        double[] out = new double[books.size()];
        for (int i = 0; i < out.length; i++) {
            TextBatch v = books.get(i).val();
            try (NDArray logits = head.forward(p, new NDList(v.x())).singletonOrThrow();
                    NDArray ll = LogLikelihoods.categorical(logits, v.y());
                    NDArray mean = ll.mean()) {
                out[i] = -Scalars.value(mean);
            }
        }
        return out;
    }
}
