package io.posteriors.ekf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.posteriors.LogProb;
import io.posteriors.LogProbFn;
import io.posteriors.ModelOutput;
import io.posteriors.Scalars;
import io.posteriors.Schedule;
import io.posteriors.TensorTree;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * In one dimension a diagonal covariance is the whole covariance, so {@link DiagEkf} with
 * transition sd s and initial sd s0 must equal {@link DenseEkf} with transition covariance s^2 and
 * initial covariance s0^2, step by step, for every curvature: the two filters share no update code
 * (elementwise against Woodbury with a Cholesky factor), so this checks each against the other.
 */
class OneDimensionTest {

    /** A batch of a one-parameter logistic regression: inputs a (n) and labels y (n). */
    record Batch(NDArray a, NDArray y) {}

    /** The curvature under test. */
    enum Curvature {
        FISHER_PER_SAMPLE,
        FISHER_PER_SAMPLIFIED,
        GGN
    }

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private static NDArray perSample(TensorTree p, Batch b) {
        return Logistic.bernoulli(b.a().mul(p.get("x")), b.y());
    }

    @ParameterizedTest
    @EnumSource(Curvature.class)
    void diagEkf_equalsDenseEkf_inOneDimension(Curvature c) {
        Schedule lr = step -> 1.0 / (1 + step % 4);
        LogProbFn<Batch> perSampleLl = (p, b) -> LogProb.of(perSample(p, b));
        LogProbFn<Batch> meanLl = (p, b) -> LogProb.of(perSample(p, b).mean());
        DiagEkf.Builder<Batch> diag =
                DiagEkf.builder(c == Curvature.FISHER_PER_SAMPLE ? perSampleLl : meanLl, lr)
                        .perSample(c == Curvature.FISHER_PER_SAMPLE)
                        .transitionSd(0.2)
                        .initSds(1.5);
        DenseEkf.Builder<Batch> dense =
                DenseEkf.builder(c == Curvature.FISHER_PER_SAMPLE ? perSampleLl : meanLl, lr)
                        .perSample(c == Curvature.FISHER_PER_SAMPLE)
                        .transitionCov(0.2 * 0.2)
                        .initCov(1.5 * 1.5);
        if (c == Curvature.GGN) {
            diag.ggn(
                    (p, b) -> ModelOutput.of(b.a().mul(p.get("x"))),
                    (z, b) -> Logistic.bernoulli(z, b.y()).sum());
            dense.ggn(
                    (p, b) -> ModelOutput.of(b.a().mul(p.get("x"))),
                    (z, b) -> Logistic.bernoulli(z, b.y()).sum());
        }
        DiagEkf<Batch> d = diag.build();
        DenseEkf<Batch> e = dense.build();
        TensorTree start = TensorTree.of("x", manager.create(new double[] {0.3}));
        DiagEkfState ds = d.init(start);
        DenseEkfState es = e.init(start);
        Random rng = new Random(9);
        for (int step = 0; step < 30; step++) {
            int n = 1 + step % 6;
            double[] a = new double[n];
            double[] y = new double[n];
            for (int i = 0; i < n; i++) {
                a[i] = rng.nextGaussian();
                y[i] = rng.nextDouble() < Logistic.sigmoid(2 * a[i]) ? 1 : 0;
            }
            Batch b = new Batch(manager.create(a), manager.create(y));
            var dn = d.updateInPlace(ds, b);
            var en = e.updateInPlace(es, b);
            dn.aux().close();
            en.aux().close();
            ds = dn.state();
            es = en.state();
            double mean = ds.params().get("x").getDouble(0);
            double sd = ds.sdDiag().get("x").getDouble(0);
            assertEquals(mean, es.params().get("x").getDouble(0), 1e-12, "mean at " + step);
            assertEquals(sd * sd, es.cov().getDouble(0, 0), 1e-12, "variance at " + step);
            assertEquals(
                    Scalars.value(ds.logLikelihood()),
                    Scalars.value(es.logLikelihood()),
                    1e-12,
                    "log likelihood at " + step);
        }
    }
}
