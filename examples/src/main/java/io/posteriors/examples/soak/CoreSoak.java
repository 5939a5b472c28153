package io.posteriors.examples.soak;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import io.posteriors.Autodiff;
import io.posteriors.DiagNormal;
import io.posteriors.FunctionalModel;
import io.posteriors.LogLikelihoods;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.TensorTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resident-memory soak of the gradient engine: gradient evaluations and Hessian-vector products on
 * an MLP, printing the resident set size as it goes.
 *
 * <p>Usage: {@code CoreSoak [gradients] [hvps]} (defaults 100000 and 10000). The MLP is
 * 784-256-256-10 with a batch of 64 unless {@code --small} is given (64-64-64-10, batch 32).
 */
public final class CoreSoak {

    private CoreSoak() {}

    /**
     * Runs the soak.
     *
     * @param args counts and flags
     * @throws IOException when /proc cannot be read
     */
    public static void main(String[] args) throws IOException {
        long grads = 100_000;
        long hvps = 10_000;
        boolean small = false;
        int pos = 0;
        for (String a : args) {
            if (a.equals("--small")) {
                small = true;
            } else if (pos++ == 0) {
                grads = Long.parseLong(a);
            } else {
                hvps = Long.parseLong(a);
            }
        }
        Engine.getInstance().setRandomSeed(1);
        int in = small ? 64 : 784;
        int hidden = small ? 64 : 256;
        int batch = small ? 32 : 64;
        try (NDManager manager = NDManager.newBaseManager()) {
            SequentialBlock block = new SequentialBlock();
            block.add(Linear.builder().setUnits(hidden).build());
            block.add(Activation::relu);
            block.add(Linear.builder().setUnits(hidden).build());
            block.add(Activation::relu);
            block.add(Linear.builder().setUnits(10).build());
            block.initialize(manager, DataType.FLOAT32, new Shape(batch, in));
            FunctionalModel model = FunctionalModel.of(block);
            TensorTree params = TensorTree.fromBlock(block).copy(manager);
            NDArray x = manager.randomNormal(new Shape(batch, in));
            NDArray y = manager.randomInteger(0, 10, new Shape(batch), DataType.INT64);
            LogProbFn<Void> logPost =
                    (p, b) -> {
                        NDArray logits = model.forward(p, new NDList(x)).singletonOrThrow();
                        NDArray ll = LogLikelihoods.categorical(logits, y).mean();
                        return LogProb.of(ll.add(DiagNormal.logProb(p, 0, 1, true).div(60000)));
                    };
            TensorTree v = params.map(NDArray::onesLike);
            System.out.printf(
                    "params %d, batch %d, threads %s%n",
                    params.numel(),
                    batch,
                    System.getProperty("ai.djl.pytorch.num_threads", "default"));
            run("gradient", grads, () -> Autodiff.grad(logPost, params, null).close());
            run("hvp", hvps, () -> Autodiff.hvp(logPost, params, null, v).close());
        }
    }

    private static void run(String what, long n, Runnable op) throws IOException {
        long warm = Math.max(1, n / 20);
        for (long i = 0; i < warm; i++) {
            op.run();
        }
        long start = rssKb();
        long t0 = System.nanoTime();
        long max = start;
        for (long i = 1; i <= n; i++) {
            op.run();
            if (i % Math.max(1, n / 10) == 0) {
                long rss = rssKb();
                max = Math.max(max, rss);
                System.out.printf("%s %d/%d rss %.1f MB%n", what, i, n, rss / 1024.0);
            }
        }
        double ms = (System.nanoTime() - t0) / 1e6 / n;
        System.out.printf(
                "%s: %d calls after %d warm-up, %.3f ms/call, rss %.1f MB -> %.1f MB (growth %.1f"
                        + " MB, peak %.1f MB)%n",
                what,
                n,
                warm,
                ms,
                start / 1024.0,
                rssKb() / 1024.0,
                (rssKb() - start) / 1024.0,
                max / 1024.0);
    }

    private static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
