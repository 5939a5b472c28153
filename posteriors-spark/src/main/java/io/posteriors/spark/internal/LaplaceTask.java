package io.posteriors.spark.internal;

import ai.djl.ndarray.NDManager;
import io.posteriors.Checks;
import io.posteriors.State;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import io.posteriors.Transform;
import io.posteriors.io.PosteriorFiles;
import io.posteriors.spark.BatchAdapter;
import io.posteriors.spark.LaplaceRecipe;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** The body of one data-parallel Laplace task: a partition's rows to its partial sums. */
public final class LaplaceTask {

    private LaplaceTask() {}

    /**
     * Sums the curvature (and, when asked, the log likelihood) of one partition's rows at θ*.
     *
     * @param rows the partition's rows
     * @param mapBytes θ*, the bytes of a posterior file holding a tree
     * @param recipe builds the transform
     * @param adapter turns rows into batches
     * @param batchSize the rows per batch
     * @param withLogLikelihood whether to sum the log likelihood too
     * @param <R> the row type
     * @param <B> the batch type
     * @param <S> the state type
     * @return the partition's partial sums (the empty partial for an empty partition)
     * @throws IOException when θ* cannot be read
     */
    public static <R, B, S extends State> Partial run(
            Iterator<R> rows,
            byte[] mapBytes,
            LaplaceRecipe<B, S> recipe,
            BatchAdapter<R, B> adapter,
            int batchSize,
            boolean withLogLikelihood)
            throws IOException {
        if (!rows.hasNext()) {
            return Partial.empty();
        }
        long t0 = System.nanoTime();
        try (NDManager m = NDManager.newBaseManager()) {
            TensorTree map = PosteriorFiles.fromBytes(mapBytes, TensorTree.class, m);
            // building a model may draw its initial weights from the engine's generator, which
            // a seeded chain of another job may be holding in this JVM: build under its lock, and
            // from a fixed seed, so the build is reproducible too
            Transform<S, B> t =
                    Checks.notNull(
                            EngineLock.seeded(0, () -> recipe.build(m)), "the recipe's transform");
            ModelLogLikelihood<B> ll = withLogLikelihood ? ModelLogLikelihood.of(t) : null;
            S state = t.init(map);
            Accumulator<S> acc = Accumulator.of(state);
            acc.zero(state);
            long n = 0;
            double logLik = 0;
            List<R> buffer = new ArrayList<>(batchSize);
            while (rows.hasNext()) {
                buffer.add(rows.next());
                if (buffer.size() == batchSize || !rows.hasNext()) {
                    try (NDManager scope = m.newSubManager()) {
                        B batch = adapter.toBatch(buffer, scope);
                        Step<S> step = t.updateInPlace(state, batch);
                        step.aux().close();
                        state = step.state();
                        if (ll != null) {
                            logLik += ll.of(state.params(), batch);
                        }
                    }
                    n += buffer.size();
                    buffer.clear();
                }
            }
            List<Partial.Leaf> sums = Partial.leaves(acc.additive(state));
            long nanos = System.nanoTime() - t0;
            return new Partial(
                    sums, acc.samples(state, n), state.step(), n, logLik, 1, nanos, nanos);
        }
    }
}
