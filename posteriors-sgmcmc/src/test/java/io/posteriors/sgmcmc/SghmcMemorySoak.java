package io.posteriors.sgmcmc;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.Step;
import io.posteriors.TensorTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Not a unit test: runs SGHMC with {@code updateInPlace} for many steps (default 1,000,000) on a
 * 2-D Gaussian and prints the resident memory (VmRSS from /proc/self/status), the count of arrays
 * on the manager and the time per step every 100,000 steps. Run it after {@code mvn -pl
 * posteriors-sgmcmc -am test-compile}, with the module's test classpath:
 *
 * <pre>
 * OPT_OUT_TRACKING=true java -Dai.djl.offline=true -Xmx64m -cp "$CP" \
 *     io.posteriors.sgmcmc.SghmcMemorySoak 1000000
 * </pre>
 */
final class SghmcMemorySoak {

    private SghmcMemorySoak() {}

    public static void main(String[] args) throws IOException {
        long steps = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000;
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(7);
            NDArray mean = m.create(new float[] {0.5f, -1f});
            NDArray prec = m.create(new float[][] {{1.5f, 0.3f}, {0.3f, 0.8f}});
            LogProbFn<Void> lp =
                    (p, b) -> {
                        NDArray d = p.get("x").sub(mean);
                        return LogProb.of(d.matMul(prec).mul(d).sum().mul(-0.5f));
                    };
            var t =
                    Sghmc.<Void>builder(lp, 0.1)
                            .alpha(10)
                            .sigma(Math.sqrt(10))
                            .momenta(0.0)
                            .build();
            SghmcState s = t.init(TensorTree.of(m.randomNormal(new Shape(2))));
            int arrays0 = m.getManagedArrays().size();
            long t0 = System.nanoTime();
            for (long i = 1; i <= steps; i++) {
                Step<SghmcState> next = t.updateInPlace(s, null);
                next.aux().close();
                s = next.state();
                if (i == 10_000 || i % 100_000 == 0) {
                    System.out.printf(
                            Locale.ROOT,
                            "step %8d  VmRSS %7d kB  arrays %+d  %.1f us/step  x=%s%n",
                            i,
                            residentKb(),
                            m.getManagedArrays().size() - arrays0,
                            (System.nanoTime() - t0) / 1e3 / i,
                            Arrays.toString(s.params().get("x").toFloatArray()));
                }
            }
        }
    }

    private static long residentKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
